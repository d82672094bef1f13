using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace TokenMetrics.Benchmarks.Http;

/// <summary>Issue 16, item 1: TokenMetrics next to what the same users already put on the same HttpClient — OpenTelemetry's
/// HttpClient instrumentation (tracing and metrics, exporting in memory) — over the same in-memory transport, bodies and request.</summary>
/// <remarks>
/// <para>Columns (methods): <c>Bare</c> (baseline); <c>OpenTelemetry</c>; <c>TokenMetrics</c> (the handler, a recorder with default
/// options and one no-op exporter; an op ends when the app has read the body, the pipeline's work runs on behind it);
/// <c>TokenMetricsPipeline</c> (what <c>services.AddTokenMetrics()</c> gives — default options, the meter exporter — plus a
/// no-op exporter; an op ends only when its record has been exported by every lane, so the estimation stage's and the export
/// lanes' work is inside the measurement); <c>Both</c> (OpenTelemetry and <c>TokenMetricsPipeline</c> together).</para>
/// <para>Every op is one call; each invocation makes 512 calls (the default export batch), so the pipeline columns wait once per
/// full batch, as the lane exports in a running app. Compare Ratio and Alloc Ratio within one Vendor/Shape group; per SSE event,
/// divide the difference to Bare by the shape's event count. OpenTelemetry's providers are process-wide: BenchmarkDotNet runs every
/// case in its own process (do not run this with <c>--inProcess</c>).</para>
/// <para>The transport is a real SocketsHttpHandler over an in-memory connection (<see cref="InMemoryTransport"/>): over a mock
/// primary handler, OpenTelemetry would have nothing to instrument.</para>
/// </remarks>
[MemoryDiagnoser]
[ThreadingDiagnoser]
public class PeerOverheadBenchmark
{
    /// <summary>Calls per invocation: <see cref="TokenMetricsOptions.MaxExportBatchSize"/>'s default.</summary>
    public const int CallsPerInvoke = 512;

    private readonly byte[] _readBuffer = new byte[16 * 1024];
    private PeerCall _call = null!;
    private HttpClient _client = null!;
    private OpenTelemetryPeer? _otel;
    private TokenUsageRecorder? _recorder;
    private ServiceProvider? _services;
    private SignallingExporter? _exporter;
    private long _expected;

    [ParamsSource(nameof(Vendors))]
    public PeerVendor Vendor { get; set; }

    [ParamsSource(nameof(Shapes))]
    public PeerShape Shape { get; set; }

    /// <summary>Gets every vendor, or those named in <c>TM_PEER_VENDORS</c> (comma-separated), for a shorter run.</summary>
    public static IEnumerable<PeerVendor> Vendors => Selected<PeerVendor>("TM_PEER_VENDORS");

    /// <summary>Gets every shape, or those named in <c>TM_PEER_SHAPES</c> (comma-separated).</summary>
    public static IEnumerable<PeerShape> Shapes => Selected<PeerShape>("TM_PEER_SHAPES");

    private static T[] Selected<T>(string variable)
        where T : struct, Enum =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } names
            ? [.. names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(Enum.Parse<T>)]
            : Enum.GetValues<T>();

    [GlobalSetup(Target = nameof(Bare))]
    public void SetupBare()
    {
        _call = PeerPayloads.Create(Vendor, Shape);
        _client = new HttpClient(Transport());
        CheckBody();
    }

    [GlobalSetup(Target = nameof(OpenTelemetry))]
    public void SetupOpenTelemetry()
    {
        _call = PeerPayloads.Create(Vendor, Shape);
        _otel = new OpenTelemetryPeer();
        _client = new HttpClient(Transport());
        CheckBody();
        _otel.Verify("System.Net.Http");
    }

    [GlobalSetup(Target = nameof(TokenMetrics))]
    public void SetupTokenMetrics()
    {
        _call = PeerPayloads.Create(Vendor, Shape);
        _exporter = new SignallingExporter();
        _recorder = new TokenUsageRecorder(new TokenMetricsOptions(), [_exporter]);
        _client = new HttpClient(new TokenMetricsHandler(_recorder, Protocols(), Transport()));
        CheckBody();
        CheckRecord();
    }

    [GlobalSetup(Target = nameof(TokenMetricsPipeline))]
    public void SetupPipeline()
    {
        _call = PeerPayloads.Create(Vendor, Shape);
        SetupDefaultPipeline();
        CheckBody();
        CheckRecord();
    }

    [GlobalSetup(Target = nameof(Both))]
    public void SetupBoth()
    {
        _call = PeerPayloads.Create(Vendor, Shape);
        _otel = new OpenTelemetryPeer();
        SetupDefaultPipeline();
        CheckBody();
        CheckRecord();
        _otel.Verify("System.Net.Http");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_recorder is not null)
        {
            // A column that drops records would measure less work than it claims: say so in the log.
            var stats = _recorder.GetStatistics();
            Console.WriteLine($"// TokenMetrics pipeline at cleanup: received {stats.Received:N0}, dropped {stats.Dropped:N0}, queued {stats.Queued:N0}.");
        }

        _client.Dispose();
        if (_services is not null)
        {
            _services.Dispose(); // owns the recorder
        }
        else
        {
            _recorder?.Dispose();
        }

        _otel?.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = CallsPerInvoke)]
    public async Task<long> Bare()
    {
        long total = 0;
        for (var i = 0; i < CallsPerInvoke; i++)
        {
            total += await CallAsync();
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = CallsPerInvoke)]
    public Task<long> OpenTelemetry() => Bare();

    [Benchmark(OperationsPerInvoke = CallsPerInvoke)]
    public Task<long> TokenMetrics() => Bare();

    [Benchmark(OperationsPerInvoke = CallsPerInvoke)]
    public Task<long> TokenMetricsPipeline() => CallsThenExportAsync();

    [Benchmark(OperationsPerInvoke = CallsPerInvoke)]
    public Task<long> Both() => CallsThenExportAsync();

    private async Task<long> CallsThenExportAsync()
    {
        var total = await Bare();
        _expected += CallsPerInvoke;
        await _exporter!.WaitForPipelineAsync(_expected, _recorder!);
        return total;
    }

    private Task<long> CallAsync() => BenchmarkCalls.PostAndReadAsync(_client, _call.Url, _call.Request, _readBuffer);

    private SocketsHttpHandler Transport() => InMemoryTransport.CreateHandler(_call.Response, _call.MediaType);

    private static ITokenUsageProtocol[] Protocols() =>
    [
        AnthropicTokenMetricsBuilderExtensions.CreateAnthropicProtocol(),
        GeminiTokenMetricsBuilderExtensions.CreateGeminiProtocol(),
        OpenAITokenMetricsBuilderExtensions.CreateOpenAIProtocol(),
    ];

    private void SetupDefaultPipeline()
    {
        if (new TokenMetricsOptions().MaxExportBatchSize != CallsPerInvoke)
        {
            throw new InvalidOperationException("CallsPerInvoke must be the default export batch size.");
        }

        _exporter = new SignallingExporter();
        var services = new ServiceCollection();
        services.AddTokenMetrics().AddAnthropic().AddGemini().AddOpenAI().AddExporter(_exporter);
        _services = services.BuildServiceProvider();
        _recorder = _services.GetRequiredService<TokenUsageRecorder>();
        _client = new HttpClient(new TokenMetricsHandler(_recorder, _services.GetServices<ITokenUsageProtocol>(), Transport()));
    }

    private void CheckBody()
    {
        var read = CallAsync().GetAwaiter().GetResult();
        if (read != _call.Response.Length)
        {
            throw new InvalidOperationException($"Read {read} bytes, expected {_call.Response.Length}.");
        }

        Console.WriteLine($"// {Vendor} {Shape}: request {_call.Request.Length} B, response {_call.Response.Length} B, {_call.Events} events.");
    }

    private void CheckRecord()
    {
        if (_recorder!.FlushAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult() != TokenMetricsFlushResult.Success)
        {
            throw new InvalidOperationException("The recorder did not flush.");
        }

        var record = _exporter!.Last ?? throw new InvalidOperationException("TokenMetrics exported no record.");
        if (record.Source != TokenUsageSource.Reported || record.Usage.InputTokenCount != PeerCall.InputTokens || record.Usage.OutputTokenCount != _call.OutputTokens)
        {
            throw new InvalidOperationException($"TokenMetrics recorded {record.Source} {record.Usage.InputTokenCount}/{record.Usage.OutputTokenCount} tokens, expected Reported {PeerCall.InputTokens}/{_call.OutputTokens}.");
        }

        _expected = _exporter.Exported;
        Console.WriteLine($"// TokenMetrics check: {record.Provider} {record.Operation} {record.ResponseModel}, streaming {record.IsStreaming}, {record.Usage.InputTokenCount}/{record.Usage.OutputTokenCount} tokens reported.");
    }
}
