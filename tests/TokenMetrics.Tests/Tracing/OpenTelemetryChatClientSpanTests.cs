using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenTelemetry;
using OpenTelemetry.Trace;
using TokenMetrics.Testing;
using TokenMetrics.Tests.MicrosoftExtensionsAI;

namespace TokenMetrics.Tests.Tracing;

/// <summary>Microsoft.Extensions.AI's <c>UseOpenTelemetry()</c> in the pipeline: exactly one GenAI span per model round-trip (its own),
/// carrying TokenMetrics' usage source and numbers that agree with the records; without it, TokenMetrics' chat client makes the span.</summary>
[Collection(nameof(TracingCollection))]
public sealed class OpenTelemetryChatClientSpanTests : IAsyncLifetime
{
    private static readonly ActivitySource TestSource = new("TokenMetrics.Tests.Tracing.ChatClient");
    private readonly List<Activity> _all = [];
    private readonly string _otelSource = "TokenMetrics.Tests.otel." + Guid.NewGuid().ToString("N");
    private MockLlmServer _server = null!;
    private TracerProvider _provider = null!;
    private Activity _root = null!;

    public async Task InitializeAsync()
    {
        _server = await MockLlmServer.StartAsync();
        _provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(TestSource.Name, TokenMetricsDiagnostics.ActivitySourceName, "System.Net.Http", _otelSource)
            .AddInMemoryExporter(_all)
            .Build()!;
    }

    /// <summary>Starts this test's root span; in the test's own flow (an activity started in InitializeAsync would not stay current).</summary>
    private void StartRoot() => _root = TestSource.StartActivity("test")!;

    public async Task DisposeAsync()
    {
        _root?.Stop();
        _provider.Dispose();
        await _server.DisposeAsync();
    }

    private List<Activity> Finished()
    {
        lock (_all)
        {
            return _all.Where(a => a.TraceId == _root.TraceId).ToList();
        }
    }

    private List<Activity> Ours() => Finished().Where(a => a.Source.Name == TokenMetricsDiagnostics.ActivitySourceName).ToList();

    /// <summary>Inference spans of any source: TokenMetrics' and the OpenTelemetryChatClient's (its tool spans excluded).</summary>
    private List<Activity> GenAIChatSpans() => Finished().Where(a => (string?)a.GetTagItem("gen_ai.operation.name") == "chat").ToList();

    private static long? Count(Activity span, string name) => span.GetTagItem(name) is { } value ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) : null;

    private IChatClient Build(string pipeline, IChatClient model, TokenUsageRecorder recorder)
    {
        var builder = model.AsBuilder();
        foreach (var stage in pipeline.Split(" > "))
        {
            _ = stage switch
            {
                "loop" => builder.UseFunctionInvocation(),
                "otel" => builder.UseOpenTelemetry(sourceName: _otelSource),
                _ => builder.UseTokenMetrics(recorder, c => c.RecordGenAIMetrics = pipeline.StartsWith("otel", StringComparison.Ordinal) ? false : null),
            };
        }

        return builder.Build();
    }

    private static async Task RunAsync(IChatClient client, bool streaming)
    {
        var options = new ChatOptions { Tools = [ToolLoopModel.Weather] };
        if (streaming)
        {
            await foreach (var _ in client.GetStreamingResponseAsync("Kyiv", options))
            {
            }
        }
        else
        {
            _ = await client.GetResponseAsync("Kyiv", options);
        }
    }

    [Theory]
    [InlineData("loop > tokenmetrics > otel", false)]
    [InlineData("loop > tokenmetrics > otel", true)]
    [InlineData("tokenmetrics > loop > otel", true)]
    public async Task OpenTelemetryChatClientBeneath_ItsSpanPerRound_NoSecondSpan_SameNumbers(string pipeline, bool streaming)
    {
        StartRoot();
        await using var t = new TestRecorder();
        using var model = new ToolLoopModel();
        using var client = Build(pipeline, model, t.Recorder);

        await RunAsync(client, streaming);

        var records = await t.RecordsAsync(2);
        Assert.Equal(2, records.Count);
        Assert.Empty(Ours());
        var spans = GenAIChatSpans().OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(2, spans.Count); // one per model round-trip
        Assert.All(spans, s => Assert.Equal(_otelSource, s.Source.Name));
        Assert.Equal(records.Select(r => r.Usage.InputTokenCount), spans.Select(s => Count(s, "gen_ai.usage.input_tokens")));
        Assert.Equal(records.Select(r => r.Usage.OutputTokenCount), spans.Select(s => Count(s, "gen_ai.usage.output_tokens")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OpenTelemetryChatClientAbove_ItsSpanIsEnriched_WithTheRecordsSummed(bool streaming)
    {
        StartRoot();
        await using var t = new TestRecorder();
        using var model = new ToolLoopModel();
        using var client = Build("otel > loop > tokenmetrics", model, t.Recorder);

        await RunAsync(client, streaming);

        var records = await t.RecordsAsync(2);
        Assert.Equal(2, records.Count);
        Assert.Empty(Ours());
        var span = Assert.Single(GenAIChatSpans()); // it measures the whole loop
        Assert.Equal("reported", span.GetTagItem("tokenmetrics.usage.source"));
        Assert.Equal(records.Sum(r => r.Usage.InputTokenCount), Count(span, "gen_ai.usage.input_tokens"));
        Assert.Equal(records.Sum(r => r.Usage.OutputTokenCount), Count(span, "gen_ai.usage.output_tokens"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task NoOpenTelemetryChatClient_TokenMetricsChatClientMakesOneSpanPerRound(bool streaming)
    {
        StartRoot();
        await using var t = new TestRecorder();
        using var model = new ToolLoopModel();
        using var client = Build("loop > tokenmetrics", model, t.Recorder);

        await RunAsync(client, streaming);

        var records = await t.RecordsAsync(2);
        Assert.Equal(2, records.Count);
        var spans = GenAIChatSpans();
        Assert.Equal(2, spans.Count);
        foreach (var r in records)
        {
            var span = Assert.Single(spans, s => ReferenceEquals(s, r.Span));
            Assert.Equal(TokenMetricsDiagnostics.ActivitySourceName, span.Source.Name);
            Assert.Equal(ActivityKind.Client, span.Kind);
            Assert.Equal(_root.SpanId, span.ParentSpanId);
            Assert.Equal(r.Usage.InputTokenCount, Count(span, "gen_ai.usage.input_tokens"));
            Assert.Equal(r.Usage.OutputTokenCount, Count(span, "gen_ai.usage.output_tokens"));
            Assert.Equal(r.ResponseModel, span.GetTagItem("gen_ai.response.model"));
            Assert.Equal(r.Duration, span.Duration);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OpenTelemetryChatClientOverAMeteredHttpClient_OneGenAISpan_Enriched_HttpSpanBeneathIt(bool streaming)
    {
        StartRoot();
        await using var t = new TestRecorder();
        var http = new HttpClient(new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], new SocketsHttpHandler()));
        using var client = new OpenAI.Chat.ChatClient("gpt-4o-mini", new ApiKeyCredential("sk-test"), new OpenAIClientOptions
        {
            Endpoint = new Uri(_server.BaseAddress, "v1"),
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(0),
        }).AsIChatClient().AsBuilder().UseOpenTelemetry(sourceName: _otelSource).UseTokenMetrics(t.Recorder).Build();

        if (streaming)
        {
            await foreach (var _ in client.GetStreamingResponseAsync("How many tokens is this?"))
            {
            }
        }
        else
        {
            _ = await client.GetResponseAsync("How many tokens is this?");
        }

        var r = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageLayer.Http, r.Layer);
        Assert.Empty(Ours());
        var span = Assert.Single(GenAIChatSpans());
        Assert.Equal(_otelSource, span.Source.Name);
        Assert.Same(span, r.Span);
        Assert.Equal("reported", span.GetTagItem("tokenmetrics.usage.source"));
        Assert.Equal(r.Usage.InputTokenCount, Count(span, "gen_ai.usage.input_tokens"));
        Assert.Equal(r.Usage.OutputTokenCount, Count(span, "gen_ai.usage.output_tokens"));
        var httpSpan = Assert.Single(Finished(), a => a.Source.Name == "System.Net.Http");
        Assert.Equal(span.SpanId, httpSpan.ParentSpanId);
    }
}
