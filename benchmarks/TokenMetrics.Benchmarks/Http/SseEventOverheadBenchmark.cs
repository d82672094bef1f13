using System.Net;
using BenchmarkDotNet.Attributes;
using TokenMetrics.Tests.Shared;

namespace TokenMetrics.Benchmarks.Http;

/// <summary>What metering adds per SSE event: whole streams of 10, 100 and 1,000 events, per vendor format, read by the app
/// through a bare HttpClient (baseline) and through one with TokenMetricsHandler, over the same in-memory transport.</summary>
/// <remarks>The per-event cost is the slope: (Metered(1000) - Metered(10)) - (Bare(1000) - Bare(10)), divided by 990; the
/// per-call cost (request parsing, the record) cancels out. Streams from tests/Shared/SseStreamPayloads.cs, also used by the
/// allocation guard (SseAllocationGuardTests).</remarks>
[MemoryDiagnoser]
public class SseEventOverheadBenchmark
{
    private readonly byte[] _readBuffer = new byte[16 * 1024];
    private HttpClient _bare = null!;
    private HttpClient _metered = null!;
    private TokenUsageRecorder _recorder = null!;
    private byte[] _request = null!;
    private Uri _url = null!;

    [Params(SseStreamFormat.OpenAIChat, SseStreamFormat.OpenAIChatInjected, SseStreamFormat.OpenAIResponses, SseStreamFormat.Anthropic, SseStreamFormat.Gemini)]
    public SseStreamFormat Format { get; set; }

    [Params(10, 100, 1000)]
    public int Events { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _recorder = new TokenUsageRecorder(new TokenMetricsOptions { MaxQueueSize = 100_000, MaxExportBatchSize = 1024, ExportInterval = TimeSpan.FromMilliseconds(10) }, []);
        ITokenUsageProtocol[] protocols =
        [
            OpenAITokenMetricsBuilderExtensions.CreateOpenAIProtocol(),
            AnthropicTokenMetricsBuilderExtensions.CreateAnthropicProtocol(),
            GeminiTokenMetricsBuilderExtensions.CreateGeminiProtocol(),
        ];
        var body = SseStreamPayloads.Stream(Format, Events);
        _request = SseStreamPayloads.Request(Format);
        _url = new Uri(SseStreamPayloads.Url(Format));
        _bare = new HttpClient(new NoRemoteCallHandler(body, "text/event-stream"));
        _metered = new HttpClient(new TokenMetricsHandler(_recorder, protocols, new NoRemoteCallHandler(body, "text/event-stream")));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _bare.Dispose();
        _metered.Dispose();
        _recorder.Dispose();
    }

    [Benchmark(Baseline = true)]
    public Task<long> Bare() => CallAsync(_bare);

    [Benchmark]
    public Task<long> Metered() => CallAsync(_metered);

    private async Task<long> CallAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = new ByteArrayContent(_request) };
        request.Content.Headers.ContentType = new("application/json");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        long total = 0;
        int n;
        while ((n = await stream.ReadAsync(_readBuffer)) > 0)
        {
            total += n;
        }

        return response.StatusCode == HttpStatusCode.OK ? total : -1;
    }
}
