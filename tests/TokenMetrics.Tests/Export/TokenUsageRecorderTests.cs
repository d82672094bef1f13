using TokenMetrics.Tests.TestHelpers;

namespace TokenMetrics.Tests.Export;

public class TokenUsageRecorderTests
{
    private static TokenUsageRecord NewRecord(long input = 10) => new() { Provider = "openai", Usage = new TokenUsage { InputTokenCount = input, OutputTokenCount = 1 }, Source = TokenUsageSource.Reported };

    [Fact]
    public async Task ThrowingExporter_DoesNotAffectOthers_AndIsCounted()
    {
        var throwing = new DelegateExporter((_, _) => throw new InvalidOperationException("backend down"));
        await using var t = new TestRecorder(null, throwing);

        for (var i = 0; i < 10; i++)
        {
            t.Recorder.Record(NewRecord());
        }

        Assert.Equal(TokenMetricsFlushResult.Failed, await t.Recorder.FlushAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(10, t.Exporter.Records.Count);
        var stats = t.Recorder.GetStatistics();
        Assert.Equal(10, stats.Received);
        Assert.Equal(10, stats.Dispatched);
        Assert.Equal(10, stats.Exporters[nameof(InMemoryTokenUsageExporter)].Exported);
        Assert.Equal(10, stats.Exporters[nameof(DelegateExporter)].Failed);
        Assert.True(stats.Exporters[nameof(DelegateExporter)].FailedBatches >= 1);
    }

    [Fact]
    public async Task HangingExporter_TimesOut_AndIsCountedAsFailed()
    {
        var hanging = new DelegateExporter(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, CancellationToken.None);
            return TokenUsageExportResult.Success;
        });
        await using var t = new TestRecorder(o => o.ExportTimeout = TimeSpan.FromMilliseconds(100), hanging);

        t.Recorder.Record(NewRecord());

        Assert.Equal(TokenMetricsFlushResult.Failed, await t.Recorder.FlushAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, t.Recorder.GetStatistics().Exporters[nameof(DelegateExporter)].Failed);
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
    public async Task FullQueue_DropsAndCounts_NeverBlocks()
    {
        var gate = new TaskCompletionSource();
        var blocking = new DelegateExporter(async (_, _) =>
        {
            await gate.Task;
            return TokenUsageExportResult.Success;
        });
        await using var t = new TestRecorder(o => { o.MaxQueueSize = 10; o.MaxExportBatchSize = 5; }, blocking);

        for (var i = 0; i < 100; i++)
        {
            t.Recorder.Record(NewRecord());
        }

        var stats = t.Recorder.GetStatistics();
        Assert.Equal(100, stats.Received);
        Assert.True(stats.Dropped >= 80, $"dropped {stats.Dropped}");
        gate.SetResult();
        Assert.Equal(TokenMetricsFlushResult.Success, await t.Recorder.FlushAsync(TimeSpan.FromSeconds(10)));
        stats = t.Recorder.GetStatistics();
        Assert.Equal(stats.Received, stats.Dropped + stats.Dispatched + stats.Filtered + stats.Queued);
        Assert.Equal(stats.Dispatched, t.Exporter.Records.Count);
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
        var t = new TestRecorder(o => { o.ShutdownTimeout = TimeSpan.FromMilliseconds(200); o.ExportTimeout = TimeSpan.FromMinutes(5); o.MaxExportBatchSize = 1; }, hanging);
        for (var i = 0; i < 5; i++)
        {
            t.Recorder.Record(NewRecord());
        }

        Assert.Equal(TokenMetricsFlushResult.TimedOut, await t.Recorder.ShutdownAsync());
        var stats = t.Recorder.GetStatistics();
        Assert.Equal(5, stats.Received);
        Assert.Equal(stats.Received, stats.Dropped + stats.Dispatched + stats.Queued);
        Assert.True(stats.Dropped >= 3, $"dropped {stats.Dropped}");
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

    [Fact]
    public void Constructor_InvalidOptions_Throws()
    {
        Assert.Throws<System.ComponentModel.DataAnnotations.ValidationException>(() =>
            new TokenUsageRecorder(new TokenMetricsOptions { MaxQueueSize = 10, MaxExportBatchSize = 20 }, []));
        Assert.Throws<System.ComponentModel.DataAnnotations.ValidationException>(() =>
            new TokenUsageRecorder(new TokenMetricsOptions { ExportInterval = TimeSpan.Zero }, []));
    }

    private sealed class DelegateExporter(Func<IReadOnlyList<TokenUsageRecord>, CancellationToken, Task<TokenUsageExportResult>> export) : ITokenUsageExporter
    {
        public ValueTask<TokenUsageExportResult> ExportAsync(IReadOnlyList<TokenUsageRecord> batch, CancellationToken cancellationToken) =>
            new(export(batch, cancellationToken));
    }
}
