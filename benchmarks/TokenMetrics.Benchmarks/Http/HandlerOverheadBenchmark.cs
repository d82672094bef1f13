using BenchmarkDotNet.Attributes;

namespace TokenMetrics.Benchmarks.Http;

/// <summary>What TokenMetricsHandler adds to one call: a bare HttpClient (baseline) against the same client metered, both over
/// an in-memory primary handler. The app reads the whole body through the response stream, as an SDK does.</summary>
[MemoryDiagnoser]
public class HandlerOverheadBenchmark
{
    private readonly byte[] _readBuffer = new byte[16 * 1024];
    private HttpClient _bareJson = null!;
    private HttpClient _meteredJson = null!;
    private HttpClient _bareSse = null!;
    private HttpClient _meteredSse = null!;
    private TokenUsageRecorder _recorder = null!;

    [GlobalSetup]
    public void Setup()
    {
        // A no-op exporter (issue 16): the record goes through the whole hand-over an app has (pricing, the lane's queue, the
        // dispatcher, which exports a batch every 10 ms on another thread; MemoryDiagnoser counts every thread's allocations).
        // Records die young, as in a running app where the dispatcher exports them every interval.
        _recorder = new TokenUsageRecorder(new TokenMetricsOptions { MaxQueueSize = 100_000, MaxExportBatchSize = 1024, ExportInterval = TimeSpan.FromMilliseconds(10) }, [new NoOpExporter()]);
        var protocol = OpenAITokenMetricsBuilderExtensions.CreateOpenAIProtocol();
        _bareJson = new HttpClient(new NoRemoteCallHandler(BenchmarkPayloads.ChatJson, "application/json"));
        _meteredJson = new HttpClient(new TokenMetricsHandler(_recorder, [protocol], new NoRemoteCallHandler(BenchmarkPayloads.ChatJson, "application/json")));
        _bareSse = new HttpClient(new NoRemoteCallHandler(BenchmarkPayloads.ChatStream, "text/event-stream"));
        _meteredSse = new HttpClient(new TokenMetricsHandler(_recorder, [protocol], new NoRemoteCallHandler(BenchmarkPayloads.ChatStream, "text/event-stream")));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _bareJson.Dispose();
        _meteredJson.Dispose();
        _bareSse.Dispose();
        _meteredSse.Dispose();
        _recorder.Dispose();
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("json")]
    public Task<long> Json_Bare() => CallAsync(_bareJson, BenchmarkPayloads.JsonRequest);

    [Benchmark]
    [BenchmarkCategory("json")]
    public Task<long> Json_Metered() => CallAsync(_meteredJson, BenchmarkPayloads.JsonRequest);

    [Benchmark(OperationsPerInvoke = BenchmarkPayloads.StreamEvents)]
    [BenchmarkCategory("sse")]
    public Task<long> Sse200_Bare_PerEvent() => CallAsync(_bareSse, BenchmarkPayloads.StreamRequest);

    [Benchmark(OperationsPerInvoke = BenchmarkPayloads.StreamEvents)]
    [BenchmarkCategory("sse")]
    public Task<long> Sse200_Metered_PerEvent() => CallAsync(_meteredSse, BenchmarkPayloads.StreamRequest);

    private Task<long> CallAsync(HttpClient client, byte[] body) =>
        BenchmarkCalls.PostAndReadAsync(client, "https://api.openai.com/v1/chat/completions", body, _readBuffer);

    private sealed class NoOpExporter : ITokenUsageExporter
    {
        public ValueTask<TokenUsageExportResult> ExportAsync(IReadOnlyList<TokenUsageRecord> batch, CancellationToken cancellationToken) =>
            ValueTask.FromResult(TokenUsageExportResult.Success);
    }
}
