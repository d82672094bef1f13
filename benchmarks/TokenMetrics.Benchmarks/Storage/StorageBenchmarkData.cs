namespace TokenMetrics.Benchmarks.Storage;

/// <summary>Realistic records: 20 models, 1,000 users, 5,000 sessions, two tags, token counts with cache and reasoning.</summary>
internal static class StorageBenchmarkData
{
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The data shape: 1,000,000 records spread over 90 days (each batch of 1,000 spans about 2 hours, every record with its
    /// own user and session there).</summary>
    public const string Sparse = "sparse-90d";

    /// <summary>The data shape: records 1 ms apart (a batch of 1,000 spans one second), as a store taking 100,000 records/s sees them.</summary>
    public const string Dense = "dense-1ms";

    /// <summary>Records per sustained op: the stores' fold threshold, so each op writes and folds that many.</summary>
    public const int SustainedRecords = 10_000;

    private static readonly string[] Models = Enumerable.Range(0, 20).Select(i => "model-" + i).ToArray();

    public static TokenUsageRecord Record(long i, TimeSpan span)
    {
        var at = Start + TimeSpan.FromTicks(span.Ticks / 1_000_000 * (i % 1_000_000));
        return new TokenUsageRecord
        {
            Id = Guid.CreateVersion7(at),
            Timestamp = at,
            Provider = i % 3 == 0 ? "anthropic" : "openai",
            Operation = "chat",
            RequestModel = Models[i % Models.Length],
            ResponseModel = Models[i % Models.Length] + "-2025-01-01",
            IsStreaming = i % 2 == 0,
            Status = i % 50 == 0 ? TokenUsageStatus.Error : TokenUsageStatus.Ok,
            HttpStatusCode = 200,
            Duration = TimeSpan.FromMilliseconds(200 + i % 900),
            TimeToFirstChunk = TimeSpan.FromMilliseconds(50 + i % 100),
            Endpoint = "https://api.openai.com/v1/chat/completions",
            ServerAddress = "api.openai.com",
            ServerPort = 443,
            Usage = new TokenUsage
            {
                InputTokenCount = 500 + i % 3000,
                OutputTokenCount = 50 + i % 700,
                CachedInputTokenCount = i % 4 == 0 ? 256 : 0,
                ReasoningTokenCount = i % 5 == 0 ? 32 : null,
            },
            Source = TokenUsageSource.Reported,
            UserId = "user-" + (i % 1000),
            Consumer = "team-" + (i % 10),
            SessionId = "session-" + (i % 5000),
            Tags = new Dictionary<string, string> { ["feature"] = "f" + (i % 7), ["env"] = "prod" },
            ClientName = "bench",
            Layer = TokenUsageLayer.Http,
        };
    }

    public static TokenUsageRecord[] Batch(ref long next, int size, string shape)
    {
        var span = shape == Dense ? TimeSpan.FromSeconds(1000) : TimeSpan.FromDays(90);
        var batch = new TokenUsageRecord[size];
        for (var i = 0; i < size; i++)
        {
            batch[i] = Record(next++, span);
        }

        return batch;
    }

    /// <summary>The sustained op of both insert benchmarks: <see cref="SustainedRecords"/> records written in batches of
    /// <paramref name="size"/> with the fold at its threshold, then the rest folded; returns the records written.</summary>
    public static async Task<int> WriteSustainedAsync(ITokenUsageStore store, long first, int size, string shape)
    {
        HoldFold(store, false);
        var next = first;
        var n = 0;
        for (var b = 0; b < SustainedRecords / size; b++)
        {
            n += await store.WriteAsync(Batch(ref next, size, shape), CancellationToken.None);
        }

        return n + await FoldAsync(store);
    }

    /// <summary>Holds the store's rollup fold back (WriteAsync alone) or restores its threshold. Through reflection, so the same
    /// benchmark also runs on the code before the fold existed (the rollup then is in every write either way).</summary>
    public static void HoldFold(object store, bool hold) =>
        store.GetType().GetProperty("FoldThreshold", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)
            ?.SetValue(store, hold ? long.MaxValue : (long)SustainedRecords);

    /// <summary>Folds everything written (when the store has a fold); returns 0.</summary>
    public static async Task<int> FoldAsync(object store)
    {
        var fold = store.GetType().GetMethod("FoldAsync", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic, [typeof(CancellationToken)]);
        if (fold?.Invoke(store, [CancellationToken.None]) is ValueTask task)
        {
            await task;
        }

        return 0;
    }

    public static string TempDirectory(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "tokenmetrics-bench-" + name + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
