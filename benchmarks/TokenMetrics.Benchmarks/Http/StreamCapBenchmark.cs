using BenchmarkDotNet.Attributes;

namespace TokenMetrics.Benchmarks.Http;

/// <summary>What the stream output cap costs per event: the 200-event chat stream read through the metered handler with no
/// cap (baseline: the ordinary metered path), with a cap it never reaches (every event forwarded, each counted with the
/// tokenizer), and with a cap reached after 100 events (the cut: the vendor's end written, the upstream let go).</summary>
[MemoryDiagnoser]
public class StreamCapBenchmark
{
    private readonly byte[] _readBuffer = new byte[16 * 1024];
    private HttpClient _off = null!;
    private HttpClient _notReached = null!;
    private HttpClient _reached = null!;
    private TokenUsageRecorder _recorder = null!;

    [GlobalSetup]
    public void Setup()
    {
        _recorder = new TokenUsageRecorder(new TokenMetricsOptions { MaxQueueSize = 100_000, MaxExportBatchSize = 1024, ExportInterval = TimeSpan.FromMilliseconds(10) }, []);
        var protocol = OpenAITokenMetricsBuilderExtensions.CreateOpenAIProtocol();
        HttpClient Client(int? cap) => new(new TokenMetricsHandler(_recorder, [protocol], new NoRemoteCallHandler(BenchmarkPayloads.ChatStream, "text/event-stream"), new TokenMetricsHandlerOptions { MaxStreamOutputTokens = cap }));
        _off = Client(null);
        _notReached = Client(1_000_000);
        _reached = Client(200); // " word<i>" is two tokens: the cut comes after 100 content events
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _off.Dispose();
        _notReached.Dispose();
        _reached.Dispose();
        _recorder.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchmarkPayloads.StreamEvents)]
    public Task<long> Sse200_CapOff_PerEvent() => CallAsync(_off);

    [Benchmark(OperationsPerInvoke = BenchmarkPayloads.StreamEvents)]
    public Task<long> Sse200_CapNotReached_PerEvent() => CallAsync(_notReached);

    [Benchmark(OperationsPerInvoke = BenchmarkPayloads.StreamEvents)]
    public Task<long> Sse200_CappedAfter100_PerStreamEvent() => CallAsync(_reached);

    private Task<long> CallAsync(HttpClient client) =>
        BenchmarkCalls.PostAndReadAsync(client, "https://api.openai.com/v1/chat/completions", BenchmarkPayloads.StreamRequest, _readBuffer);
}
