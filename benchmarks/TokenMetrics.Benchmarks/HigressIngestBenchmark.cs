using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using TokenMetrics.Cli;
using TokenMetrics.Cli.Ingest;
using TokenMetrics.Storage.Sqlite;

namespace TokenMetrics.Benchmarks;

/// <summary><c>tokenmetrics ingest higress</c> over 100,000 realistic access-log lines (Envoy fields + a double-encoded
/// ai_log): one op = one line (OperationsPerInvoke), so lines/s = 1 s / Mean. Parse only (the line parser over lines in
/// memory), read + parse + state into a store that keeps nothing, and end to end into a fresh temp SQLite store.</summary>
[MemoryDiagnoser]
public class HigressIngestBenchmark
{
    private const int Lines = 100_000;
    private string _dir = null!;
    private string _log = null!;
    private byte[][] _lines = null!;
    private HigressLineParser _parser = null!;
    private int _run;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "tm-bench-higress-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        _log = Path.Combine(_dir, "access.log");
        HigressLogGenerator.Write(_log, Lines);
        _lines = [.. File.ReadAllLines(_log).Select(Encoding.UTF8.GetBytes)];
        _parser = new HigressLineParser(TokenUsagePriceCatalog.Default, captureContent: false);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = Lines, Description = "parse only (per line)")]
    public int ParseOnly()
    {
        var parsed = 0;
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < _lines.Length; i++)
        {
            if (_parser.TryParse(_lines[i], i, now, out _, out _))
            {
                parsed++;
            }
        }

        return parsed;
    }

    [Benchmark(OperationsPerInvoke = Lines, Description = "read + parse + state, no store (per line)")]
    public async Task<long> IngestWithoutStore()
    {
        var ingester = new HigressIngester(Settings(), new DiscardingStore());
        return (await ingester.RunOnceAsync(null, CancellationToken.None)).RecordsWritten;
    }

    [Benchmark(OperationsPerInvoke = Lines, Description = "end to end into SQLite (per line)")]
    public async Task<long> IngestIntoSqlite()
    {
        // Opened as `ingest higress --store sqlite:PATH` opens it (one transaction per ingest batch).
        var settings = Settings();
        var store = (SqliteTokenUsageStore)StoreLocator.Open("sqlite:" + Path.Combine(_dir, $"usage-{_run++}.db"), create: true, settings.BatchSize);
        await using (store.ConfigureAwait(false))
        {
            var ingester = new HigressIngester(settings, store);
            return (await ingester.RunOnceAsync(null, CancellationToken.None)).RecordsWritten;
        }
    }

    private HigressIngestSettings Settings() => new() { LogPath = _log, StatePath = Path.Combine(_dir, $"state-{_run++}.json") };

    /// <summary>Accepts every record and keeps none: what is left is reading, parsing, hashing ids and saving the state.</summary>
    private sealed class DiscardingStore : ITokenUsageStore
    {
        public ValueTask<int> WriteAsync(IReadOnlyList<TokenUsageRecord> records, CancellationToken cancellationToken) => ValueTask.FromResult(records.Count);

        public ValueTask<TokenUsagePage> QueryAsync(TokenUsageQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<IReadOnlyList<TokenUsageAggregate>> AggregateAsync(TokenUsageAggregateQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<IReadOnlyList<TokenUsageSession>> GetSessionsAsync(TokenUsageSessionQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<long> DeleteOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}

/// <summary>Realistic Higress access-log lines: Envoy's JSON access-log fields and the ai-statistics <c>ai_log</c> as a JSON
/// string, with the shapes seen in seed 004 mixed in (numbers and numeric strings, token details as JSON strings, tool calls).
/// Deterministic (seeded), about 1 KB a line.</summary>
internal static class HigressLogGenerator
{
    private static readonly string[] Models = ["gpt-4o", "gpt-4o-mini", "o1", "qwen-max", "deepseek-reasoner", "claude-sonnet-4-5", "Qwen3-rerank"];

    /// <summary>Writes <paramref name="lines"/> lines.</summary>
    public static void Write(string path, int lines) => Write(path, (long)lines, long.MaxValue);

    /// <summary>Writes lines until <paramref name="lines"/> lines or <paramref name="bytes"/> bytes, whichever comes first.</summary>
    public static long Write(string path, long lines, long bytes)
    {
        var random = new Random(15);
        var start = new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero);
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false), 1 << 20);
        long written = 0, count = 0;
        var line = new StringBuilder(1200);
        for (; count < lines && written < bytes; count++)
        {
            line.Clear();
            var model = Models[random.Next(Models.Length)];
            var input = random.Next(50, 20_000);
            var output = random.Next(10, 2_000);
            var cached = random.Next(0, 3) == 0 ? random.Next(0, input) : 0;
            var reasoning = model is "o1" or "deepseek-reasoner" ? random.Next(0, output) : 0;
            var stringy = random.Next(0, 4) == 0; // README-style numeric strings
            string N(long v) => stringy ? $"\\\"{v}\\\"" : v.ToString(CultureInfo.InvariantCulture);
            var time = start.AddMilliseconds(count * 37).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            var session = $"agent:main:discord:{1465367993012981988 + count / 10}";
            var ip = $"10.{random.Next(256)}.{random.Next(256)}.{random.Next(256)}";
            line.Append(CultureInfo.InvariantCulture, $"{{\"authority\":\"llm-gateway.example.com\",\"bytes_received\":\"{input * 4}\",\"bytes_sent\":\"{output * 5}\",\"downstream_local_address\":\"10.0.0.12:8080\",\"downstream_remote_address\":\"{ip}:{random.Next(1024, 65535)}\",\"duration\":\"{random.Next(200, 30_000)}\",\"istio_policy_status\":\"-\",\"method\":\"POST\",\"path\":\"/v1/chat/completions\",\"protocol\":\"HTTP/1.1\",\"request_id\":\"{Guid.NewGuid()}\",\"requested_server_name\":\"-\",\"response_code\":\"200\",\"response_flags\":\"-\",\"route_name\":\"ai-route-{model}.internal\",\"start_time\":\"{time}\",\"trace_id\":\"-\",\"upstream_cluster\":\"outbound|443||llm-{model}.internal.dns\",\"upstream_host\":\"52.1.2.3:443\",\"upstream_service_time\":\"{random.Next(200, 30_000)}\",\"upstream_transport_failure_reason\":\"-\",\"user_agent\":\"OpenAI/Python 1.54.0\",\"x_forwarded_for\":\"{ip}\",\"response_code_details\":\"via_upstream\",\"ai_log\":\"{{");
            line.Append(CultureInfo.InvariantCulture, $"\\\"session_id\\\":\\\"{session}\\\",\\\"api\\\":\\\"{model}@higress\\\",\\\"api_type\\\":\\\"LLM\\\",\\\"chat_id\\\":\\\"chatcmpl-{count:x}\\\",\\\"chat_round\\\":{count % 10 + 1},\\\"consumer\\\":\\\"team-{random.Next(20)}\\\",\\\"model\\\":\\\"{model}\\\",");
            line.Append(CultureInfo.InvariantCulture, $"\\\"input_token\\\":{N(input)},\\\"output_token\\\":{N(output)},\\\"total_token\\\":{N(input + output)},\\\"cached_tokens\\\":{N(cached)},\\\"reasoning_tokens\\\":{N(reasoning)},");
            line.Append(CultureInfo.InvariantCulture, $"\\\"input_token_details\\\":\\\"{{\\\\\\\"cached_tokens\\\\\\\":{cached}}}\\\",\\\"output_token_details\\\":\\\"{{\\\\\\\"reasoning_tokens\\\\\\\":{reasoning}}}\\\",");
            line.Append(CultureInfo.InvariantCulture, $"\\\"llm_first_token_duration\\\":{N(random.Next(100, 3000))},\\\"llm_service_duration\\\":{N(random.Next(300, 30_000))},\\\"response_type\\\":\\\"{(random.Next(2) == 0 ? "stream" : "normal")}\\\"");
            if (random.Next(8) == 0)
            {
                line.Append("""
                    ,\"tool_calls\":[{\"index\":0,\"id\":\"call_abc123\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"location\\\":\\\"Beijing\\\"}\"}}]
                    """);
            }

            line.Append("}\"}");
            writer.Write(line);
            writer.Write('\n');
            written += Encoding.UTF8.GetByteCount(line.ToString()) + 1;
        }

        return count;
    }
}
