using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using TokenMetrics.Tests.TestHelpers;

namespace TokenMetrics.Tests.Delivery;

public class TokenUsageRecorderTests
{
    internal static TokenUsageRecord NewRecord(long input = 10) => new() { Provider = "openai", Usage = new TokenUsage { InputTokenCount = input, OutputTokenCount = 1 }, Source = TokenUsageSource.Reported };

    private static void NoRetries(TokenMetricsOptions o) => o.MaxRetryAttempts = 0;

    private static void AssertLaneInvariant(TokenUsageExporterStatistics s, long offered) =>
        Assert.Equal(offered, s.Exported + s.Spilled + s.Dropped + s.Queued);

    [Fact]
    public async Task ThrowingExporter_DoesNotAffectOthers_AndIsCounted()
    {
        var throwing = new DelegateExporter((_, _) => throw new InvalidOperationException("backend down"));
        await using var t = new TestRecorder(NoRetries, throwing);

        for (var i = 0; i < 10; i++)
        {
            t.Recorder.Record(NewRecord());
        }

        Assert.Equal(TokenMetricsFlushResult.Failed, await t.Recorder.FlushAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(10, t.Exporter.Records.Count);
        var stats = t.Recorder.GetStatistics();
        Assert.Equal(10, stats.Received);
        Assert.Equal(10, stats.Exporters[nameof(InMemoryTokenUsageExporter)].Exported);
        var failing = stats.Exporters[nameof(DelegateExporter)];
        Assert.Equal(10, failing.Dropped); // no spool configured: dropped, and counted
        Assert.True(failing.FailedBatches >= 1);
        AssertLaneInvariant(failing, 10);
    }

    [Fact]
    public async Task HangingExporter_TimesOut_AndIsCountedAsFailed()
    {
        var hanging = new DelegateExporter(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, CancellationToken.None);
            return TokenUsageExportResult.Success;
        });
        await using var t = new TestRecorder(o => { o.ExportTimeout = TimeSpan.FromMilliseconds(100); o.MaxRetryAttempts = 0; }, hanging);

        t.Recorder.Record(NewRecord());

        Assert.Equal(TokenMetricsFlushResult.Failed, await t.Recorder.FlushAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, t.Recorder.GetStatistics().Exporters[nameof(DelegateExporter)].Dropped);
        Assert.Single(t.Exporter.Records);
    }

    [Fact]
    public async Task ThrowingFilter_NeverReachesTheCaller_KeepsTheRecord_AndIsCounted()
    {
        await using var t = new TestRecorder(o => o.Filter = _ => throw new InvalidOperationException("bad filter"));

        t.Recorder.Record(NewRecord());

        Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(1, t.Recorder.GetStatistics().CallbackFailures);
    }

    [Fact]
    public async Task SwallowedFailures_AreLoggedAtDebug_WithTheException()
    {
        using var provider = new FakeLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(provider));
        var failure = new InvalidOperationException("bad filter");
        await using var recorder = new TokenUsageRecorder(new TokenMetricsOptions { Filter = _ => throw failure }, [], loggerFactory: factory);

        recorder.Record(NewRecord());

        var entry = Assert.Single(provider.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Debug, entry.Level);
        Assert.Same(failure, entry.Exception);
        Assert.Contains("Filter", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Filter_RemovesRecords_AndCountsThem()
    {
        await using var t = new TestRecorder(o => o.Filter = r => r.Usage.InputTokenCount > 5);

        t.Recorder.Record(NewRecord(1));
        t.Recorder.Record(NewRecord(9));

        var records = await t.RecordsAsync(1);
        Assert.Equal(9, Assert.Single(records).Usage.InputTokenCount);
        Assert.Equal(1, t.Recorder.GetStatistics().Filtered);
    }

    [Fact]
    public async Task FullQueue_DropsAndCounts_OnlyForTheSlowExporter_NeverBlocks()
    {
        var gate = new TaskCompletionSource();
        var blocking = new DelegateExporter(async (_, _) =>
        {
            await gate.Task;
            return TokenUsageExportResult.Success;
        });
        // No spool, a small overflow: what overflows both is dropped (the last resort).
        await using var t = new TestRecorder(o => { o.MaxQueueSize = 10; o.MaxExportBatchSize = 5; o.MaxOverflowSize = 10; }, blocking);

        // Ten bursts of ten, each drained by the fast exporter before the next: only the stuck exporter's queue overflows.
        for (var burst = 1; burst <= 10; burst++)
        {
            for (var i = 0; i < 10; i++)
            {
                t.Recorder.Record(NewRecord());
            }

            Assert.Equal(burst * 10, (await t.Exporter.WaitForRecordsAsync(burst * 10, TimeSpan.FromSeconds(10))).Count);
        }

        var slow = t.Recorder.GetStatistics().Exporters[nameof(DelegateExporter)];
        // At most 5 in flight, 10 queued, 10 in the overflow and 1 waiting for room: the rest dropped.
        Assert.True(slow.Dropped >= 74, $"dropped {slow.Dropped}");
        Assert.True(slow.Overflowed >= 10, $"overflowed {slow.Overflowed}");
        Assert.Equal(0, t.Recorder.GetStatistics().Exporters[nameof(InMemoryTokenUsageExporter)].Dropped);
        gate.SetResult();
        Assert.Equal(TokenMetricsFlushResult.Failed, await t.Recorder.FlushAsync(TimeSpan.FromSeconds(10))); // records were dropped
        AssertLaneInvariant(t.Recorder.GetStatistics().Exporters[nameof(DelegateExporter)], 100);
        t.Recorder.Record(NewRecord());
        Assert.Equal(TokenMetricsFlushResult.Success, await t.Recorder.FlushAsync(TimeSpan.FromSeconds(10))); // none since
    }

    [Fact]
    public async Task QueueByteLimit_DropsAndCounts()
    {
        var gate = new TaskCompletionSource();
        var blocking = new DelegateExporter(async (_, _) =>
        {
            await gate.Task;
            return TokenUsageExportResult.Success;
        });
        await using var t = new TestRecorder(o => { o.MaxQueueBytes = 64 * 1024; o.MaxExportBatchSize = 1; o.MaxOverflowSize = 0; }, blocking);
        var big = NewRecord() with { SessionId = new string('s', 8_000) };

        for (var i = 0; i < 20; i++)
        {
            t.Recorder.Record(big);
        }

        var slow = t.Recorder.GetStatistics().Exporters[nameof(DelegateExporter)];
        Assert.InRange(slow.Dropped, 14, 19); // about 16 KB each against a 64 KB budget
        gate.SetResult();
    }

    [Fact]
    public async Task Shutdown_FlushesQueuedRecords_AndLaterRecordsAreDroppedAndCounted()
    {
        var t = new TestRecorder(o => o.ExportInterval = TimeSpan.FromMinutes(10));
        for (var i = 0; i < 7; i++)
        {
            t.Recorder.Record(NewRecord());
        }

        Assert.Equal(TokenMetricsFlushResult.Success, await t.Recorder.ShutdownAsync());
        Assert.Equal(7, t.Exporter.Records.Count);
        t.Recorder.Record(NewRecord());
        Assert.Equal(1, t.Recorder.GetStatistics().Dropped);
        await t.DisposeAsync();
    }

    [Fact]
    public async Task Shutdown_WithAHangingExporter_ReturnsTimedOut_AndCountsWhatIsLeft()
    {
        var hanging = new DelegateExporter(async (_, _) =>
        {
            await Task.Delay(Timeout.Infinite);
            return TokenUsageExportResult.Success;
        });
        var t = new TestRecorder(o => { o.ShutdownTimeout = TimeSpan.FromMilliseconds(200); o.ExportTimeout = TimeSpan.FromMinutes(5); o.ExportTotalTimeout = TimeSpan.FromMinutes(5); o.MaxExportBatchSize = 1; }, hanging);
        for (var i = 0; i < 5; i++)
        {
            t.Recorder.Record(NewRecord());
        }

        Assert.Equal(TokenMetricsFlushResult.TimedOut, await t.Recorder.ShutdownAsync());
        var lane = t.Recorder.GetStatistics().Exporters[nameof(DelegateExporter)];
        AssertLaneInvariant(lane, 5);
        Assert.Equal(5, lane.Dropped); // no spool: nothing exported, everything counted
        await t.DisposeAsync();
    }

    [Fact]
    public async Task Record_FromManyThreads_LosesNothing()
    {
        await using var t = new TestRecorder(o => o.MaxQueueSize = 100_000);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 2_000; i++)
            {
                t.Recorder.Record(NewRecord());
            }
        })));

        var records = await t.RecordsAsync(16_000);
        Assert.Equal(16_000, records.Count);
        Assert.Equal(16_000, records.Select(r => r.Id).Distinct().Count());
    }

    [Theory]
    [InlineData(0, 1, 500, 10)]
    [InlineData(20, 60_000, 3_600_000, 600_000)]
    public async Task EveryValueTheValidationAccepts_BuildsAPipeline(int retries, int baseDelayMs, int breakMs, int timeoutMs)
    {
        // The options' ranges must stay inside what Polly accepts, or start-up would fail after validation passed.
        await using var recorder = new TokenUsageRecorder(
            new TokenMetricsOptions
            {
                MaxRetryAttempts = retries,
                RetryBaseDelay = TimeSpan.FromMilliseconds(baseDelayMs),
                CircuitBreakDuration = TimeSpan.FromMilliseconds(breakMs),
                ExportTimeout = TimeSpan.FromMilliseconds(timeoutMs),
                ExportTotalTimeout = TimeSpan.FromMilliseconds(timeoutMs * 2),
            },
            [new InMemoryTokenUsageExporter()]);

        Assert.Single(recorder.Exporters);
    }

    [Fact]
    public void Constructor_InvalidOptions_Throws()
    {
        Assert.Throws<System.ComponentModel.DataAnnotations.ValidationException>(() =>
            new TokenUsageRecorder(new TokenMetricsOptions { MaxQueueSize = 10, MaxExportBatchSize = 20 }, []));
        Assert.Throws<System.ComponentModel.DataAnnotations.ValidationException>(() =>
            new TokenUsageRecorder(new TokenMetricsOptions { ExportInterval = TimeSpan.Zero }, []));
        Assert.Throws<System.ComponentModel.DataAnnotations.ValidationException>(() =>
            new TokenUsageRecorder(new TokenMetricsOptions { SpoolDirectory = "relative/dir" }, []));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData(0L, null)]
    [InlineData(null, 0L)]
    [InlineData(0L, 0L)]
    public void FromEstimates_NothingCounted_IsMissing_WithNullCounts(long? input, long? output)
    {
        var (usage, source, method) = TokenUsageRecorder.FromEstimates(Estimate(input), Estimate(output));

        Assert.Equal(TokenUsageSource.Missing, source);
        Assert.Null(method);
        Assert.Null(usage.InputTokenCount);
        Assert.Null(usage.OutputTokenCount);
        Assert.Null(usage.TotalTokenCount);
    }

    [Fact]
    public void FromEstimates_OneSideCountedNothing_ThatSideIsUnknown_NotZero()
    {
        // A response with answer text but no prompt known (a captured body, a request TokenMetrics never saw): 0 input tokens
        // would be a claim.
        var (usage, source, method) = TokenUsageRecorder.FromEstimates(Estimate(0), Estimate(7));

        Assert.Equal(TokenUsageSource.Estimated, source);
        Assert.Equal("o200k_base", method);
        Assert.Null(usage.InputTokenCount);
        Assert.Equal(7, usage.OutputTokenCount);
        Assert.Equal(7, usage.TotalTokenCount);
    }

    private static TokenEstimate? Estimate(long? tokens) => tokens is { } t ? new TokenEstimate(t, "o200k_base") : null;
}

/// <summary>An exporter whose behaviour a test scripts.</summary>
internal sealed class DelegateExporter(Func<IReadOnlyList<TokenUsageRecord>, CancellationToken, Task<TokenUsageExportResult>> export) : ITokenUsageExporter
{
    public ValueTask<TokenUsageExportResult> ExportAsync(IReadOnlyList<TokenUsageRecord> batch, CancellationToken cancellationToken) =>
        new(export(batch, cancellationToken));
}
