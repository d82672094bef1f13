using BenchmarkDotNet.Attributes;

namespace TokenMetrics.Benchmarks.Export;

/// <summary>The delivery pipeline: the cost of <c>Record()</c> on the app's thread, and records per second through the
/// dispatcher into an exporter that keeps nothing.</summary>
[MemoryDiagnoser]
public class ExportPipelineBenchmark
{
    private const int Batch = 100_000;
    private readonly TokenUsageRecord _record = new()
    {
        Provider = "openai",
        Operation = "chat",
        RequestModel = "gpt-4o-mini",
        ResponseModel = "gpt-4o-mini-2024-07-18",
        Usage = new TokenUsage { InputTokenCount = 1200, OutputTokenCount = 80, TotalTokenCount = 1280 },
        Source = TokenUsageSource.Reported,
    };

    private TokenUsageRecorder _recordOnly = null!;
    private TokenUsageRecorder _throughput = null!;

    [GlobalSetup]
    public void Setup()
    {
        _recordOnly = new TokenUsageRecorder(new TokenMetricsOptions { MaxQueueSize = 1_000_000, MaxQueueBytes = 4L << 30, MaxExportBatchSize = 4096, ExportInterval = TimeSpan.FromMilliseconds(10) }, [new NullExporter()]);
        _throughput = new TokenUsageRecorder(new TokenMetricsOptions { MaxQueueSize = Batch, MaxQueueBytes = 4L << 30, MaxExportBatchSize = 512, ExportInterval = TimeSpan.FromMilliseconds(10) }, [new NullExporter()]);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _recordOnly.Dispose();
        _throughput.Dispose();
    }

    /// <summary>What the app pays per call: queue the record (one exporter).</summary>
    [Benchmark]
    public void Record() => _recordOnly.Record(_record);

    /// <summary>Records per second end to end: queue 100,000 and wait until the exporter has them all.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task RecordAndExport_PerRecord()
    {
        for (var i = 0; i < Batch; i++)
        {
            _throughput.Record(_record);
        }

        _ = await _throughput.FlushAsync(TimeSpan.FromMinutes(1));
    }

    private sealed class NullExporter : ITokenUsageExporter
    {
        public ValueTask<TokenUsageExportResult> ExportAsync(IReadOnlyList<TokenUsageRecord> batch, CancellationToken cancellationToken) =>
            ValueTask.FromResult(TokenUsageExportResult.Success);
    }
}
