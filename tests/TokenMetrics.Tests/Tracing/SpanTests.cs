using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenTelemetry;
using OpenTelemetry.Trace;
using TokenMetrics.Internal;
using TokenMetrics.Testing;
using TokenMetrics.Tests.TestHelpers;

namespace TokenMetrics.Tests.Tracing;

/// <summary>Tracing listens process-wide (<see cref="ActivitySource.HasListeners"/> turns true for every test running at the same
/// time), so these tests run alone: other tests' zero-allocation checks assume nobody listens.</summary>
[CollectionDefinition(nameof(TracingCollection), DisableParallelization = true)]
public sealed class TracingCollection
{
}

/// <summary>GenAI client spans per the OpenTelemetry semantic conventions, collected by the OpenTelemetry SDK's in-memory exporter:
/// the same numbers as the record, HttpClient's span beneath, one GenAI span per round-trip next to <c>UseOpenTelemetry()</c>.</summary>
[Collection(nameof(TracingCollection))]
public sealed class SpanTests : IAsyncLifetime
{
    private static readonly ActivitySource TestSource = new("TokenMetrics.Tests.Tracing");
    private MockLlmServer _server = null!;

    public async Task InitializeAsync() => _server = await MockLlmServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>Collects the spans of one test: everything in the trace of a root span the test starts.</summary>
    private sealed class Traces : IDisposable
    {
        private readonly List<Activity> _all = [];
        private readonly TracerProvider _provider;
        private readonly Activity _root;

        public Traces(params string[] extraSources)
        {
            _provider = Sdk.CreateTracerProviderBuilder()
                .AddSource(TestSource.Name, TokenMetricsDiagnostics.ActivitySourceName, "System.Net.Http")
                .AddSource(extraSources)
                .AddInMemoryExporter(_all)
                .Build()!;
            _root = TestSource.StartActivity("test")!;
            Assert.NotNull(_root);
        }

        /// <summary>Gets the finished spans of this test's trace (the root excluded).</summary>
        public IReadOnlyList<Activity> Finished
        {
            get
            {
                lock (_all)
                {
                    return _all.Where(a => a.TraceId == _root.TraceId && a != _root).ToList();
                }
            }
        }

        public IReadOnlyList<Activity> Ours => Finished.Where(a => a.Source.Name == TokenMetricsDiagnostics.ActivitySourceName).ToList();

        public ActivitySpanId RootSpanId => _root.SpanId;

        public void Dispose()
        {
            _root.Stop();
            _provider.Dispose();
        }
    }

    private HttpClient Raw(TestRecorder t) =>
        new(new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], new SocketsHttpHandler())) { BaseAddress = new Uri(_server.BaseAddress, "v1/") };

    private static HttpRequestMessage ChatRequest(bool stream, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "chat/completions")
        {
            Content = new StringContent(OpenAIFixtures.ChatRequest(stream), Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        return request;
    }

    private static object? Tag(Activity span, string name) => span.GetTagItem(name);

    /// <summary>The span says what the record says: model, provider, server, every count, source, status, duration.</summary>
    private static void AssertSameNumbers(TokenUsageRecord r, Activity span)
    {
        Assert.Equal(ActivityKind.Client, span.Kind);
        Assert.Equal($"{r.Operation} {r.RequestModel}", span.DisplayName);
        Assert.Equal(r.Operation, Tag(span, "gen_ai.operation.name"));
        Assert.Equal(r.Provider, Tag(span, "gen_ai.provider.name"));
        Assert.Equal(r.RequestModel, Tag(span, "gen_ai.request.model"));
        Assert.Equal(r.ResponseModel, Tag(span, "gen_ai.response.model"));
        Assert.Equal(r.ResponseId, Tag(span, "gen_ai.response.id"));
        Assert.Equal(r.ServerAddress, Tag(span, "server.address"));
        Assert.Equal(r.ServerPort, Tag(span, "server.port"));
        Assert.Equal(r.Usage.InputTokenCount, Tag(span, "gen_ai.usage.input_tokens"));
        Assert.Equal(r.Usage.OutputTokenCount, Tag(span, "gen_ai.usage.output_tokens"));
        Assert.Equal(r.Usage.CachedInputTokenCount, Tag(span, "gen_ai.usage.cache_read.input_tokens"));
        Assert.Equal(r.Usage.CacheWriteInputTokenCount, Tag(span, "gen_ai.usage.cache_creation.input_tokens"));
        Assert.Equal(r.Usage.ReasoningTokenCount, Tag(span, "gen_ai.usage.reasoning.output_tokens"));
        Assert.Equal(TokenUsageNames.Source(r.Source), Tag(span, "tokenmetrics.usage.source"));
        Assert.Equal(TokenUsageNames.Status(r.Status), Tag(span, "tokenmetrics.status"));
        Assert.Equal(r.Duration, span.Duration);
        Assert.Null(Tag(span, "user.id"));
        Assert.Null(Tag(span, "gen_ai.conversation.id"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AMeteredCall_GetsOneGenAIClientSpan_WithTheRecordsNumbers_AndHttpClientsSpanBeneathIt(bool streaming)
    {
        using var traces = new Traces();
        await using var t = new TestRecorder();
        using var client = Raw(t);

        using (var response = await client.SendAsync(ChatRequest(streaming, (MockHeaders.CachedTokens, "7"), (MockHeaders.ReasoningTokens, "3"))))
        {
            _ = await response.Content.ReadAsByteArrayAsync();
        }

        var r = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageSource.Reported, r.Source);
        Assert.Equal(7, r.Usage.CachedInputTokenCount);
        var span = Assert.Single(traces.Ours);
        AssertSameNumbers(r, span);
        Assert.Equal("chat", r.Operation);
        Assert.Equal("openai", Tag(span, "gen_ai.provider.name"));
        Assert.Equal(traces.RootSpanId, span.ParentSpanId);
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
        Assert.Same(span, r.Span);

        // HttpClient's span is created in the primary handler, beneath TokenMetrics' handler: a child of the GenAI span.
        var http = Assert.Single(traces.Finished, a => a.Source.Name == "System.Net.Http");
        Assert.Equal(span.SpanId, http.ParentSpanId);
        Assert.True(http.Duration <= span.Duration);
    }

    [Fact]
    public async Task ACutStream_SpanStaysOpenUntilTheEstimate_AndCarriesTheEstimatedNumbers()
    {
        using var traces = new Traces();
        await using var t = new TestRecorder();
        using var client = Raw(t);

        using (var response = await client.SendAsync(ChatRequest(true, (MockHeaders.CutAfter, "2"))))
        {
            _ = await response.Content.ReadAsByteArrayAsync();
        }

        var r = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageSource.Estimated, r.Source);
        Assert.Equal(TokenUsageStatus.Truncated, r.Status);
        Assert.True(r.Usage.InputTokenCount > 0);
        var span = Assert.Single(traces.Ours);
        AssertSameNumbers(r, span);
        Assert.Equal("truncated", Tag(span, "error.type"));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
    }

    [Fact]
    public async Task AnHttpError_SpanHasErrorType()
    {
        using var traces = new Traces();
        await using var t = new TestRecorder();
        using var client = Raw(t);

        using (var response = await client.SendAsync(ChatRequest(false, (MockHeaders.Status, "429"))))
        {
            _ = await response.Content.ReadAsByteArrayAsync();
        }

        var r = Assert.Single(await t.RecordsAsync(1));
        var span = Assert.Single(traces.Ours);
        Assert.Equal("429", r.ErrorType);
        Assert.Equal("429", Tag(span, "error.type"));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Null(Tag(span, "gen_ai.usage.input_tokens"));
        Assert.Equal("missing", Tag(span, "tokenmetrics.usage.source"));
    }

    [Fact]
    public async Task ARecordRemovedByTheFilter_StillStopsItsSpan()
    {
        using var traces = new Traces();
        await using var t = new TestRecorder(o => o.Filter = _ => false);
        using var client = Raw(t);

        using (var response = await client.SendAsync(ChatRequest(false)))
        {
            _ = await response.Content.ReadAsByteArrayAsync();
        }

        Assert.Empty(await t.RecordsAsync());
        Assert.Equal(1, t.Recorder.GetStatistics().Filtered);
        var span = Assert.Single(traces.Ours);
        Assert.Equal("reported", Tag(span, "tokenmetrics.usage.source"));
        Assert.True((long?)Tag(span, "gen_ai.usage.input_tokens") > 0);
    }

    [Fact]
    public async Task AFullEstimationBacklog_RecordsWithoutTheEstimate_AndStillStopsEverySpan()
    {
        using var traces = new Traces();
        using var gate = new SemaphoreSlim(0);
        var options = new TokenMetricsOptions { ExportInterval = TimeSpan.FromMilliseconds(20), MaxQueueSize = 1, MaxExportBatchSize = 1 };
        var exporter = new InMemoryTokenUsageExporter();
        await using var recorder = new TokenUsageRecorder(options, [exporter], new BlockingEstimator(gate));
        using var client = new HttpClient(new TokenMetricsHandler(recorder, [TestRecorder.OpenAI], new SocketsHttpHandler())) { BaseAddress = new Uri(_server.BaseAddress, "v1/") };

        // The first cut stream's estimate blocks the estimation stage; the second finds the backlog full.
        for (var i = 0; i < 2; i++)
        {
            using var response = await client.SendAsync(ChatRequest(true, (MockHeaders.CutAfter, "2")));
            _ = await response.Content.ReadAsByteArrayAsync();
        }

        Assert.Empty(traces.Ours); // both still open: the second waits behind the first to keep the records in order
        _ = gate.Release(10);
        Assert.Equal(TokenMetricsFlushResult.Success, await recorder.FlushAsync(TimeSpan.FromSeconds(10)));

        var records = exporter.Records;
        Assert.Equal(2, records.Count);
        Assert.Equal(TokenUsageSource.Estimated, records[0].Source);
        Assert.Equal(TokenUsageSource.Missing, records[1].Source);
        Assert.Equal(1, recorder.GetStatistics().InternalErrors);
        var spans = traces.Ours;
        Assert.Equal(2, spans.Count);
        Assert.All(records, r => Assert.True(r.Span!.IsStopped));
        Assert.Contains(spans, s => (string?)Tag(s, "tokenmetrics.usage.source") == "missing");
        Assert.Contains(spans, s => (string?)Tag(s, "tokenmetrics.usage.source") == "estimated");
    }

    [Fact]
    public async Task NobodyListening_NoSpan_AndTheCallIsRecorded()
    {
        await using var t = new TestRecorder();
        using var client = Raw(t);

        Assert.False(TokenMetricsSpans.Source.HasListeners());
        using (var response = await client.SendAsync(ChatRequest(true)))
        {
            _ = await response.Content.ReadAsByteArrayAsync();
        }

        var r = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageSource.Reported, r.Source);
        Assert.Null(r.Span);
    }

    [Fact]
    public async Task TracingSwitchedOff_NoSpan_EvenWithAListener()
    {
        using var traces = new Traces();
        await using var t = new TestRecorder(o => o.Tracing.Enabled = false);
        using var client = Raw(t);

        using (var response = await client.SendAsync(ChatRequest(false)))
        {
            _ = await response.Content.ReadAsByteArrayAsync();
        }

        var r = Assert.Single(await t.RecordsAsync(1));
        Assert.Null(r.Span);
        Assert.Empty(traces.Ours);
        Assert.Single(traces.Finished, a => a.Source.Name == "System.Net.Http");
    }

    [Fact]
    public async Task UserAndSessionIds_OnlyWhenSwitchedOn_AndTheCostFromPricing()
    {
        using var traces = new Traces();
        await using var t = new TestRecorder(o =>
        {
            o.Tracing.IncludeUserId = true;
            o.Tracing.IncludeSessionId = true;
        });
        using var client = Raw(t);

        using (TokenMetricsScope.Begin(new TokenUsageAttribution { UserId = "u-1", SessionId = "s-1" }))
        using (var response = await client.SendAsync(ChatRequest(false)))
        {
            _ = await response.Content.ReadAsByteArrayAsync();
        }

        var span = Assert.Single(traces.Ours);
        Assert.Equal("u-1", Tag(span, "user.id"));
        Assert.Equal("s-1", Tag(span, "gen_ai.conversation.id"));

        // Pricing sets the cost in place before the span step: the span carries it.
        var record = new TokenUsageRecord { Operation = "chat", RequestModel = "m", Usage = new TokenUsage { InputTokenCount = 10 }, Duration = TimeSpan.FromMilliseconds(5) };
        record.SetCost(0.0125m, "USD", "m");
        record.Span = TokenMetricsSpans.Source.StartActivity("chat m", ActivityKind.Client);
        TokenMetricsSpans.Complete(t.Recorder, record);
        Assert.True(record.Span!.IsStopped);
        Assert.Equal(0.0125, Tag(record.Span, "tokenmetrics.cost"));
        Assert.Equal("USD", Tag(record.Span, "tokenmetrics.currency"));
        Assert.Equal(TimeSpan.FromMilliseconds(5), record.Span.Duration);
    }

    private sealed class BlockingEstimator(SemaphoreSlim gate) : ITokenEstimator
    {
        public TokenEstimate CountText(string text, string? model) => Wait(TiktokenTokenEstimator.Instance.CountText(text, model));

        public TokenEstimate CountRequest(ReadOnlySpan<byte> requestJson, string? model) => Wait(TiktokenTokenEstimator.Instance.CountRequest(requestJson, model));

        public TokenEstimate CountMessages(IEnumerable<ChatMessage> messages, ChatOptions? options, string? model) => Wait(TiktokenTokenEstimator.Instance.CountMessages(messages, options, model));

        private TokenEstimate Wait(TokenEstimate estimate)
        {
            Assert.True(gate.Wait(TimeSpan.FromSeconds(30)));
            return estimate;
        }
    }
}
