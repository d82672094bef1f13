using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using TokenMetrics.Benchmarks.Http;

namespace TokenMetrics.Benchmarks.ChatClients;

/// <summary>Issue 16, item 1 (the chat-client half): the same fake <see cref="IChatClient"/> bare, decorated with
/// Microsoft.Extensions.AI's <see cref="OpenTelemetryChatClient"/> (<c>UseOpenTelemetry()</c>, tracing and metrics exporting in
/// memory), with <see cref="TokenMetricsChatClient"/> (<c>UseTokenMetrics()</c> over the default pipeline plus a no-op exporter;
/// an op ends only when its record has been exported), and with both.</summary>
/// <remarks><c>Updates</c> = 0 is a non-streamed call (a <see cref="ChatResponse"/> with <see cref="UsageDetails"/>); otherwise a stream
/// of that many updates, the last carrying the <see cref="UsageContent"/>. Each invocation makes 512 calls (the default export batch).
/// OpenTelemetry's providers are process-wide: do not run with <c>--inProcess</c>.</remarks>
[MemoryDiagnoser]
[ThreadingDiagnoser]
public class ChatClientPeerBenchmark
{
    private const string SourceName = "TokenMetrics.Benchmarks.ChatClient";
    private const int CallsPerInvoke = PeerOverheadBenchmark.CallsPerInvoke;
    private static readonly ChatMessage[] Messages = [new(ChatRole.User, "Tell me a story")];
    private static readonly ChatOptions Options = new() { ModelId = "gpt-4o-mini" };

    private IChatClient _client = null!;
    private OpenTelemetryPeer? _otel;
    private ServiceProvider? _services;
    private TokenUsageRecorder? _recorder;
    private SignallingExporter? _exporter;
    private long _expected;

    [Params(0, 10, 100)]
    public int Updates { get; set; }

    [GlobalSetup(Target = nameof(Bare))]
    public void SetupBare() => _client = new FakeChatClient(Updates);

    [GlobalSetup(Target = nameof(OpenTelemetry))]
    public void SetupOpenTelemetry()
    {
        _otel = new OpenTelemetryPeer(SourceName);
        _client = new ChatClientBuilder(new FakeChatClient(Updates)).UseOpenTelemetry(sourceName: SourceName).Build();
        _ = CallAsync().GetAwaiter().GetResult();
        _otel.Verify(SourceName);
    }

    [GlobalSetup(Target = nameof(TokenMetrics))]
    public void SetupTokenMetrics() => SetupTokenMetrics(withOpenTelemetry: false);

    [GlobalSetup(Target = nameof(Both))]
    public void SetupBoth() => SetupTokenMetrics(withOpenTelemetry: true);

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
        _services?.Dispose();
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
    public Task<long> TokenMetrics() => CallsThenExportAsync();

    [Benchmark(OperationsPerInvoke = CallsPerInvoke)]
    public Task<long> Both() => CallsThenExportAsync();

    private void SetupTokenMetrics(bool withOpenTelemetry)
    {
        if (withOpenTelemetry)
        {
            _otel = new OpenTelemetryPeer(SourceName);
        }

        _exporter = new SignallingExporter();
        var services = new ServiceCollection();
        services.AddTokenMetrics().AddExporter(_exporter);
        _services = services.BuildServiceProvider();
        _recorder = _services.GetRequiredService<TokenUsageRecorder>();

        // UseTokenMetrics() closest to the model, as the docs advise; UseOpenTelemetry() above it, as an app adds it last.
        var builder = new ChatClientBuilder(new FakeChatClient(Updates));
        if (withOpenTelemetry)
        {
            builder.UseOpenTelemetry(sourceName: SourceName);
        }

        _client = builder.UseTokenMetrics(_recorder).Build(_services);
        _ = CallAsync().GetAwaiter().GetResult();
        if (_recorder.FlushAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult() != TokenMetricsFlushResult.Success
            || _exporter.Last is not { Source: TokenUsageSource.Reported } record
            || record.Usage.InputTokenCount != 12 || record.Usage.OutputTokenCount != 90)
        {
            throw new InvalidOperationException($"TokenMetrics did not record the reported usage: {_exporter.Last?.Source} {_exporter.Last?.Usage.InputTokenCount}/{_exporter.Last?.Usage.OutputTokenCount}.");
        }

        _expected = _exporter.Exported;
        Console.WriteLine($"// TokenMetrics check: {record.Provider} {record.RequestModel} streaming {record.IsStreaming}, 12/90 tokens reported.");
        _otel?.Verify(SourceName);
    }

    private async Task<long> CallsThenExportAsync()
    {
        var total = await Bare();
        _expected += CallsPerInvoke;
        await _exporter!.WaitForPipelineAsync(_expected, _recorder!);
        return total;
    }

    private async Task<long> CallAsync()
    {
        if (Updates == 0)
        {
            var response = await _client.GetResponseAsync(Messages, Options);
            return response.Usage?.OutputTokenCount ?? 0;
        }

        long n = 0;
        await foreach (var update in _client.GetStreamingResponseAsync(Messages, Options))
        {
            n += update.Contents.Count;
        }

        return n;
    }

    /// <summary>Answers at once with the same response (non-streamed) or the same updates (streamed); reports 12 input and 90 output tokens.</summary>
    private sealed class FakeChatClient : IChatClient
    {
        private static readonly ChatClientMetadata Metadata = new("openai", new Uri("https://api.openai.com/v1/"), "gpt-4o-mini");
        private readonly ChatResponse _response;
        private readonly ChatResponseUpdate[] _updates;

        public FakeChatClient(int updates)
        {
            var usage = new UsageDetails { InputTokenCount = 12, OutputTokenCount = 90, TotalTokenCount = 102 };
            _response = new ChatResponse(new ChatMessage(ChatRole.Assistant, "Once upon a time there was a fox."))
            {
                ModelId = "gpt-4o-mini-2024-07-18",
                ResponseId = "chatcmpl-1",
                FinishReason = ChatFinishReason.Stop,
                Usage = usage,
            };
            _updates = new ChatResponseUpdate[updates];
            for (var i = 0; i < updates - 1; i++)
            {
                _updates[i] = new ChatResponseUpdate(ChatRole.Assistant, " word" + i) { ModelId = "gpt-4o-mini-2024-07-18", ResponseId = "chatcmpl-1" };
            }

            if (updates > 0)
            {
                _updates[^1] = new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(usage)])
                {
                    ModelId = "gpt-4o-mini-2024-07-18",
                    ResponseId = "chatcmpl-1",
                    FinishReason = ChatFinishReason.Stop,
                };
            }
        }

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(_response);

        public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            foreach (var update in _updates)
            {
                yield return update;
            }

            await Task.CompletedTask;
        }

        public object? GetService(Type serviceType, object? serviceKey = null) =>
            serviceKey is null && serviceType == typeof(ChatClientMetadata) ? Metadata : null;

        public void Dispose()
        {
        }
    }
}
