using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using TokenMetrics.Tests.TestHelpers;
using Xunit.Abstractions;

namespace TokenMetrics.Tests.Delivery;

/// <summary>Retries, circuit breaking, the spool and its replay: nothing is lost while a backend is flaky or down.</summary>
public sealed class DeliveryTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _spool = Path.Combine(Path.GetTempPath(), "tm-spool-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_spool))
        {
            Directory.Delete(_spool, recursive: true);
        }
    }

    /// <summary>A backend that stores by record id (so it de-duplicates, like the stores) and can be switched down or flaky.</summary>
    private sealed class Backend : ITokenUsageExporter
    {
        private readonly Random _random;

        public Backend(int seed = 1) => _random = new Random(seed);

        public ConcurrentDictionary<Guid, int> Received { get; } = new();

        public volatile bool Down;

        public double FailureRate { get; set; }

        public int Calls;

        public TimeSpan? RetryAfter { get; set; }

        public ValueTask<TokenUsageExportResult> ExportAsync(IReadOnlyList<TokenUsageRecord> batch, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            bool fail;
            lock (_random)
            {
                fail = Down || _random.NextDouble() < FailureRate;
            }

            if (fail)
            {
                throw new TokenUsageExportException("backend unavailable", isTransient: true, RetryAfter);
            }

            foreach (var r in batch)
            {
                Received.AddOrUpdate(r.Id, 1, (_, n) => n + 1);
            }

            return ValueTask.FromResult(TokenUsageExportResult.Success);
        }
    }

    private TokenMetricsOptions Options(Action<TokenMetricsOptions>? configure = null)
    {
        var o = new TokenMetricsOptions
        {
            ExportInterval = TimeSpan.FromMilliseconds(10),
            RetryBaseDelay = TimeSpan.FromMilliseconds(1),
            MaxRetryAttempts = 3,
            CircuitBreakDuration = TimeSpan.FromMilliseconds(500),
            ReplayInterval = TimeSpan.FromMilliseconds(100),
            SpoolDirectory = _spool,
            MeterName = "TokenMetrics.Tests." + Guid.NewGuid().ToString("N"),
        };
        configure?.Invoke(o);
        return o;
    }

    /// <summary>Waits on a condition, never on time: the bound (60 s) only ends a test that would otherwise hang.</summary>
    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        for (var i = 0; i < 2_400 && !condition(); i++)
        {
            await Task.Delay(25);
        }

        Assert.True(condition(), what);
    }

    private static TokenUsageExporterStatistics Stats(TokenUsageRecorder recorder, string name) => recorder.GetStatistics().Exporters[name];

    [Fact]
    public async Task FlakyBackend_30PercentFailures_EveryRecordArrivesExactlyOnce()
    {
        var backend = new Backend(seed: 7) { FailureRate = 0.3 };
        await using var recorder = new TokenUsageRecorder(Options(o => o.MaxExportBatchSize = 16), [backend]);
        var ids = new List<Guid>();
        for (var i = 0; i < 500; i++)
        {
            var record = TokenUsageRecorderTests.NewRecord(i);
            ids.Add(record.Id);
            recorder.Record(record);
        }

        await recorder.FlushAsync(TimeSpan.FromSeconds(20));
        await WaitUntilAsync(() => backend.Received.Count == 500, "all 500 records delivered (directly or replayed from the spool)");

        // The backend sees a batch before the lane can count it (the count follows the exporter's return): wait on the
        // statistics too, rather than read them at the moment the last delivery became visible.
        await WaitUntilAsync(() => Stats(recorder, nameof(Backend)) is { Exported: var e, Replayed: var r } && e + r == 500, "every delivery counted");
        Assert.All(ids, id => Assert.Equal(1, backend.Received[id]));
        var s = Stats(recorder, nameof(Backend));
        Assert.Equal(500, s.Exported + s.Replayed);
        Assert.Equal(s.Spilled, s.Replayed);
        Assert.Equal(0, s.Dropped);
    }

    [Fact]
    public async Task BackendDown_RecordsSpill_ThenReplayWhenItRecovers()
    {
        var backend = new Backend { Down = true };
        await using var recorder = new TokenUsageRecorder(Options(o => o.MaxRetryAttempts = 1), [backend]);
        for (var i = 0; i < 50; i++)
        {
            recorder.Record(TokenUsageRecorderTests.NewRecord(i));
        }

        Assert.Equal(TokenMetricsFlushResult.Failed, await recorder.FlushAsync(TimeSpan.FromSeconds(10)));
        var down = recorder.GetStatistics().Exporters[nameof(Backend)];
        Assert.Equal(50, down.Spilled);
        Assert.True(down.SpoolFiles >= 1);
        Assert.Empty(backend.Received);

        backend.Down = false;
        await WaitUntilAsync(() => backend.Received.Count == 50, "replayed after recovery");
        // The replayed count moves, then the file goes, then the spool's byte count: wait for all three, never read mid-way.
        await WaitUntilAsync(() => recorder.GetStatistics().Exporters[nameof(Backend)] is { SpoolFiles: 0, SpoolBytes: 0, Replayed: 50 }, "spool emptied and counted");
        var up = recorder.GetStatistics().Exporters[nameof(Backend)];
        Assert.Equal(50, up.Replayed);
        Assert.Equal(0, up.SpoolBytes);
        Assert.All(backend.Received.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task OpenCircuit_SendsBatchesStraightToTheSpool_WithoutCallingTheBackend()
    {
        var backend = new Backend { Down = true };
        await using var recorder = new TokenUsageRecorder(Options(o => { o.MaxRetryAttempts = 0; o.MaxExportBatchSize = 1; o.CircuitBreakDuration = TimeSpan.FromMinutes(5); o.ReplayInterval = TimeSpan.FromMinutes(5); }), [backend]);
        for (var i = 0; i < 30; i++)
        {
            recorder.Record(TokenUsageRecorderTests.NewRecord(i));
        }

        await recorder.FlushAsync(TimeSpan.FromSeconds(10));

        // The breaker opens after a few failures (minimum throughput 4); later batches never reach the backend.
        Assert.InRange(backend.Calls, 4, 10);
        Assert.Equal(30, recorder.GetStatistics().Exporters[nameof(Backend)].Spilled);
    }

    [Fact]
    public async Task RetryAfter_IsHonoured()
    {
        var attempts = new List<long>();
        var first = true;
        var exporter = new DelegateExporter((_, _) =>
        {
            lock (attempts)
            {
                attempts.Add(Environment.TickCount64);
            }

            if (first)
            {
                first = false;
                throw new TokenUsageExportException("slow down", isTransient: true, retryAfter: TimeSpan.FromMilliseconds(400));
            }

            return Task.FromResult(TokenUsageExportResult.Success);
        });
        await using var recorder = new TokenUsageRecorder(Options(), [exporter]);

        recorder.Record(TokenUsageRecorderTests.NewRecord());

        Assert.Equal(TokenMetricsFlushResult.Success, await recorder.FlushAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, attempts.Count);
        Assert.True(attempts[1] - attempts[0] >= 390, $"retried after {attempts[1] - attempts[0]} ms");
    }

    [Fact]
    public async Task TotalTimeout_BoundsRetries_ThenTheBatchIsGivenUp()
    {
        var calls = 0;
        var exporter = new DelegateExporter((_, _) =>
        {
            Interlocked.Increment(ref calls);
            throw new TokenUsageExportException("slow down", isTransient: true, retryAfter: TimeSpan.FromSeconds(30));
        });
        // No spool here: the start-up replay pass would call the exporter again and blur the count.
        await using var recorder = new TokenUsageRecorder(Options(o => { o.MaxRetryAttempts = 10; o.ExportTimeout = TimeSpan.FromMilliseconds(100); o.ExportTotalTimeout = TimeSpan.FromMilliseconds(500); o.SpoolDirectory = null; }), [exporter]);
        var started = Environment.TickCount64;

        recorder.Record(TokenUsageRecorderTests.NewRecord());
        Assert.Equal(TokenMetricsFlushResult.Failed, await recorder.FlushAsync(TimeSpan.FromSeconds(20)));

        // Without the total budget the 30 s Retry-After would hold the batch for minutes.
        Assert.True(Environment.TickCount64 - started < 10_000, $"took {Environment.TickCount64 - started} ms");
        Assert.Equal(1, calls);
        Assert.Equal(1, recorder.GetStatistics().Exporters[nameof(DelegateExporter)].Dropped);
    }

    [Fact]
    public async Task PermanentFailure_IsNotRetried()
    {
        var calls = 0;
        var exporter = new DelegateExporter((_, _) =>
        {
            Interlocked.Increment(ref calls);
            throw new TokenUsageExportException("bad request", isTransient: false);
        });
        // No spool here: the start-up replay pass would call the exporter again and blur the count.
        await using var recorder = new TokenUsageRecorder(Options(o => o.SpoolDirectory = null), [exporter]);

        recorder.Record(TokenUsageRecorderTests.NewRecord());
        await recorder.FlushAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, calls);
        Assert.Equal(1, recorder.GetStatistics().Exporters[nameof(DelegateExporter)].Dropped);
    }

    [Fact]
    public async Task ShutdownWhileDown_SpoolsTheRest_AndTheNextProcessReplaysItAtStartUp()
    {
        var backend = new Backend { Down = true };
        var first = new TokenUsageRecorder(Options(o => { o.ExportInterval = TimeSpan.FromMinutes(10); o.ShutdownTimeout = TimeSpan.FromMilliseconds(300); }), [backend]);
        for (var i = 0; i < 20; i++)
        {
            first.Record(TokenUsageRecorderTests.NewRecord(i));
        }

        _ = await first.ShutdownAsync();
        await first.DisposeAsync();
        var spilled = first.GetStatistics().Exporters[nameof(Backend)];
        Assert.Equal(20, spilled.Spilled + spilled.Exported);
        Assert.Equal(0, spilled.Dropped);

        var recovered = new Backend();
        await using var second = new TokenUsageRecorder(Options(), [recovered]);
        await WaitUntilAsync(() => recovered.Received.Count == 20, "replayed at start-up by a new recorder");
    }

    [Fact]
    public async Task Spool_IgnoresJunk_QuarantinesTamperedFiles_AndReplaysTheRest()
    {
        var backend = new Backend { Down = true };
        await using (var recorder = new TokenUsageRecorder(Options(o => { o.MaxRetryAttempts = 0; o.MaxExportBatchSize = 5; }), [backend]))
        {
            for (var i = 0; i < 10; i++)
            {
                recorder.Record(TokenUsageRecorderTests.NewRecord(i));
            }

            await recorder.FlushAsync(TimeSpan.FromSeconds(10));
        }

        var dir = Path.Combine(_spool, nameof(Backend));
        var files = Directory.GetFiles(dir, "*.spool").Order().ToArray();
        Assert.Equal(2, files.Length);
        var bytes = File.ReadAllBytes(files[0]);
        bytes[^5] ^= 0x20; // flip a bit in the payload: the checksum no longer matches
        File.WriteAllBytes(files[0], bytes);
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "not a spool file");
        File.WriteAllText(Path.Combine(dir, "0000000000001-zzzz.spool"), "junk with a spool extension");

        var recovered = new Backend();
        await using var second = new TokenUsageRecorder(Options(), [recovered]);
        await WaitUntilAsync(() => recovered.Received.Count == 5, "the intact batch replayed");
        await WaitUntilAsync(() => second.GetStatistics().Exporters[nameof(Backend)].CorruptSpoolFiles == 1, "the tampered batch quarantined");

        Assert.True(File.Exists(Path.ChangeExtension(files[0], ".bad")));
        Assert.True(File.Exists(Path.Combine(dir, "notes.txt")));
        Assert.True(File.Exists(Path.Combine(dir, "0000000000001-zzzz.spool")));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Spool_IsOwnerOnly()
    {
        // The project machines are Linux; Windows has no Unix modes to check.
        Assert.False(OperatingSystem.IsWindows());
        var backend = new Backend { Down = true };
        await using var recorder = new TokenUsageRecorder(Options(o => o.MaxRetryAttempts = 0), [backend]);
        recorder.Record(TokenUsageRecorderTests.NewRecord());
        await recorder.FlushAsync(TimeSpan.FromSeconds(10));

        var dir = Path.Combine(_spool, nameof(Backend));
        const UnixFileMode OwnerDir = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Assert.Equal(OwnerDir, File.GetUnixFileMode(_spool));
        Assert.Equal(OwnerDir, File.GetUnixFileMode(dir));
        Assert.All(Directory.GetFiles(dir), f => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f)));
    }

    [Fact]
    public async Task SymlinkedSpoolDirectory_IsRefused_AndTheAppCarriesOn()
    {
        var target = _spool + "-target";
        Directory.CreateDirectory(target);
        try
        {
            Directory.CreateSymbolicLink(_spool, target);
            var backend = new Backend { Down = true };
            await using var recorder = new TokenUsageRecorder(Options(o => o.MaxRetryAttempts = 0), [backend]);

            recorder.Record(TokenUsageRecorderTests.NewRecord());
            await recorder.FlushAsync(TimeSpan.FromSeconds(10));

            Assert.Equal(1, recorder.GetStatistics().Exporters[nameof(Backend)].Dropped);
            Assert.Empty(Directory.GetFileSystemEntries(target));
        }
        finally
        {
            File.Delete(_spool);
            Directory.Delete(target, recursive: true);
        }
    }

    /// <summary>Stores by id like <see cref="Backend"/>; every call blocks its thread on a gate first, ignoring its token (the
    /// issue's "exporter that blocks synchronously"), except the calls after <see cref="BlockCalls"/> ran out.</summary>
    private sealed class SyncBlockingBackend : ITokenUsageExporter, IDisposable
    {
        public ManualResetEventSlim Gate { get; } = new();

        public ConcurrentDictionary<Guid, int> Received { get; } = new();

        public int BlockCalls { get; init; } = int.MaxValue;

        public int Calls;

        public ValueTask<TokenUsageExportResult> ExportAsync(IReadOnlyList<TokenUsageRecord> batch, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref Calls) <= BlockCalls)
            {
                Gate.Wait(CancellationToken.None); // the bug under test: no await, no token
                return ValueTask.FromResult(TokenUsageExportResult.Success); // too late: the lane gave up on this batch
            }

            foreach (var r in batch)
            {
                Received.AddOrUpdate(r.Id, 1, (_, n) => n + 1);
            }

            return ValueTask.FromResult(TokenUsageExportResult.Success);
        }

        public void Dispose() => Gate.Set();
    }

    [Fact]
    public async Task Burst_10000Calls_DefaultQueueSize_HealthyExporter_NothingDropped()
    {
        // The burst: 10,000 back-to-back calls into a healthy in-memory exporter, default queue (2,048) and overflow.
        var exporter = new InMemoryTokenUsageExporter();
        var options = new TokenMetricsOptions { SpoolDirectory = _spool, MeterName = "TokenMetrics.Tests." + Guid.NewGuid().ToString("N") };
        Assert.Equal(2048, options.MaxQueueSize);
        await using var recorder = new TokenUsageRecorder(options, [exporter]);

        var ids = new HashSet<Guid>();
        for (var i = 0; i < 10_000; i++)
        {
            var record = TokenUsageRecorderTests.NewRecord(i);
            ids.Add(record.Id);
            recorder.Record(record);
        }

        Assert.Equal(TokenMetricsFlushResult.Success, await recorder.FlushAsync(TimeSpan.FromSeconds(60)));
        var s = Stats(recorder, nameof(InMemoryTokenUsageExporter));
        output.WriteLine($"exported {s.Exported}, overflowed {s.Overflowed}, spilled {s.Spilled}, replayed {s.Replayed}, dropped {s.Dropped}");
        Assert.Equal(0, s.Dropped);
        Assert.Equal(10_000, s.Exported + s.Replayed);
        Assert.Equal(s.Spilled, s.Replayed);
        Assert.Equal(0, s.Queued);
        var received = exporter.Records;
        Assert.Equal(10_000, received.Count);
        Assert.True(ids.SetEquals(received.Select(r => r.Id)), "every record exactly once");
    }

    [Fact]
    public async Task Burst_10000Calls_DefaultOptionsWithoutSpool_NothingDropped()
    {
        var exporter = new InMemoryTokenUsageExporter();
        await using var recorder = new TokenUsageRecorder(new TokenMetricsOptions { MeterName = "TokenMetrics.Tests." + Guid.NewGuid().ToString("N") }, [exporter]);

        for (var i = 0; i < 10_000; i++)
        {
            recorder.Record(TokenUsageRecorderTests.NewRecord(i));
        }

        Assert.Equal(TokenMetricsFlushResult.Success, await recorder.FlushAsync(TimeSpan.FromSeconds(60)));
        var s = Stats(recorder, nameof(InMemoryTokenUsageExporter));
        output.WriteLine($"exported {s.Exported}, overflowed {s.Overflowed}, dropped {s.Dropped}");
        Assert.Equal(0, s.Dropped);
        Assert.Equal(10_000, s.Exported);
        Assert.Equal(10_000, exporter.Records.Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public async Task StalledExporter_FullQueue_OverflowGoesToTheSpool_ThenArrivesExactlyOnce()
    {
        var gate = new TaskCompletionSource();
        var backend = new Backend();
        var stalled = new DelegateExporter(async (batch, ct) =>
        {
            await gate.Task;
            return await backend.ExportAsync(batch, ct);
        });
        await using var recorder = new TokenUsageRecorder(
            Options(o => { o.MaxQueueSize = 10; o.MaxExportBatchSize = 10; o.ExportTimeout = TimeSpan.FromMinutes(5); o.ExportTotalTimeout = TimeSpan.FromMinutes(5); }),
            [stalled]);
        var ids = new List<Guid>();
        for (var i = 0; i < 1_000; i++)
        {
            var record = TokenUsageRecorderTests.NewRecord(i);
            ids.Add(record.Id);
            recorder.Record(record);
        }

        // With the exporter stalled, at most 10 are in flight and 10 queued: the rest must reach the disk, not be dropped.
        await WaitUntilAsync(() => Stats(recorder, nameof(DelegateExporter)).Spilled >= 980, "the overflow spilled to disk");
        var stalledStats = Stats(recorder, nameof(DelegateExporter));
        Assert.Equal(0, stalledStats.Dropped);
        Assert.True(stalledStats.SpoolFiles > 0);
        Assert.Empty(backend.Received);

        gate.SetResult();
        Assert.Equal(TokenMetricsFlushResult.Success, await recorder.FlushAsync(TimeSpan.FromSeconds(60)));
        await WaitUntilAsync(() => Stats(recorder, nameof(DelegateExporter)) is { Exported: var e, Replayed: var r } && e + r == 1_000, "every delivery counted");
        Assert.All(ids, id => Assert.Equal(1, backend.Received[id]));
        var s = Stats(recorder, nameof(DelegateExporter));
        output.WriteLine($"exported {s.Exported}, overflowed {s.Overflowed}, spilled {s.Spilled}, replayed {s.Replayed}, dropped {s.Dropped}");
        Assert.Equal(0, s.Dropped);
        Assert.Equal(s.Spilled, s.Replayed);
    }

    [Fact]
    public async Task SyncBlockingExporter_IsTimedOut_Counted_AndLaterRecordsAreDelivered()
    {
        using var backend = new SyncBlockingBackend { BlockCalls = 1 };
        await using var recorder = new TokenUsageRecorder(Options(o => { o.MaxRetryAttempts = 0; o.ExportTimeout = TimeSpan.FromMilliseconds(500); }), [backend]);
        var first = TokenUsageRecorderTests.NewRecord(0);

        recorder.Record(first);
        // Which call blocks is up to the thread pool's order (the first to run), so wait on the counters, never on one reading.
        await WaitUntilAsync(() => Stats(recorder, nameof(SyncBlockingBackend)).TimedOutExports >= 1, "the blocked call timed out");
        await WaitUntilAsync(() => Stats(recorder, nameof(SyncBlockingBackend)).AbandonedExports >= 1, "the blocked call abandoned and counted");

        // The lane moved on: later records are delivered while the first call still blocks its thread.
        var later = Enumerable.Range(1, 5).Select(i => TokenUsageRecorderTests.NewRecord(i)).ToList();
        later.ForEach(recorder.Record);
        await WaitUntilAsync(() => later.All(r => backend.Received.ContainsKey(r.Id)), "later records delivered");
        await WaitUntilAsync(() => backend.Received.ContainsKey(first.Id), "the timed-out batch, spooled, replayed");
        await WaitUntilAsync(() => Stats(recorder, nameof(SyncBlockingBackend)).AbandonedExports >= 1, "the blocked call still abandoned");

        backend.Gate.Set();
        await WaitUntilAsync(() => Stats(recorder, nameof(SyncBlockingBackend)).AbandonedExports == 0, "the abandoned call returned and was let go");
        var s = Stats(recorder, nameof(SyncBlockingBackend));
        Assert.True(s.FailedBatches >= 1);
        Assert.Equal(0, s.Dropped);
    }

    [Fact]
    public async Task PermanentlyStuckSyncExporter_AbandonedCallsAreBounded_AndTheLaneKeepsMoving()
    {
        using var backend = new SyncBlockingBackend();
        var logs = new FakeLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        await using var recorder = new TokenUsageRecorder(
            Options(o => { o.MaxRetryAttempts = 0; o.ExportTimeout = TimeSpan.FromMilliseconds(100); o.MaxExportBatchSize = 1; o.SpoolDirectory = null; }),
            [backend],
            loggerFactory: factory);

        for (var i = 0; i < 20; i++)
        {
            recorder.Record(TokenUsageRecorderTests.NewRecord(i));
        }

        // Not TimedOut: every batch was timed out or refused, so the flush completes.
        Assert.Equal(TokenMetricsFlushResult.Failed, await recorder.FlushAsync(TimeSpan.FromSeconds(60)));
        var s = Stats(recorder, nameof(SyncBlockingBackend));
        Assert.Equal(20, s.Dropped); // no spool here: dropped, counted and logged
        Assert.Equal(0, s.Queued);
        Assert.Equal(TokenMetrics.Internal.ExportLane.MaxAbandonedExports, s.AbandonedExports);
        Assert.Equal(TokenMetrics.Internal.ExportLane.MaxAbandonedExports, Volatile.Read(ref backend.Calls)); // no thread beyond the bound
        Assert.Equal(TokenMetrics.Internal.ExportLane.MaxAbandonedExports, s.TimedOutExports);
        Assert.Single(logs.Collector.GetSnapshot(), e => e.Message.Contains("still running after their timeout", StringComparison.Ordinal));

        backend.Gate.Set();
        await WaitUntilAsync(() => Stats(recorder, nameof(SyncBlockingBackend)).AbandonedExports == 0, "the stuck calls returned");
    }

    [Fact]
    public async Task Drops_AreTheLastResort_AndAreLogged_AllOfThemCounted()
    {
        var gate = new TaskCompletionSource();
        var blocking = new DelegateExporter(async (_, _) =>
        {
            await gate.Task;
            return TokenUsageExportResult.Success;
        });
        var logs = new FakeLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        var recorder = new TokenUsageRecorder(
            Options(o => { o.MaxQueueSize = 1; o.MaxExportBatchSize = 1; o.MaxOverflowSize = 0; o.SpoolDirectory = null; o.ShutdownTimeout = TimeSpan.FromMilliseconds(200); }),
            [blocking],
            loggerFactory: factory);
        for (var i = 0; i < 50; i++)
        {
            recorder.Record(TokenUsageRecorderTests.NewRecord(i));
        }

        await WaitUntilAsync(() => logs.Collector.GetSnapshot().Any(e => e.Message.Contains("dropped", StringComparison.Ordinal)), "the drops logged");
        gate.SetResult();
        await recorder.DisposeAsync();

        var dropped = Stats(recorder, nameof(DelegateExporter)).Dropped;
        Assert.InRange(dropped, 48, 50);
        var reports = logs.Collector.GetSnapshot().Where(e => e.Message.Contains("dropped", StringComparison.Ordinal)).ToList();
        Assert.All(reports, e => Assert.Equal(LogLevel.Warning, e.Level));
        Assert.Equal(dropped, reports.Sum(e => long.Parse(e.GetStructuredStateValue("Count")!, System.Globalization.CultureInfo.InvariantCulture)));
    }
}
