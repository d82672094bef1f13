using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace TokenMetrics.Tests.MicrosoftExtensionsAI;

/// <summary>Microsoft.Extensions.AI's <c>UseOpenTelemetry()</c> in the same pipeline: the same numbers, never counted twice.</summary>
public class OpenTelemetryTests
{
    private const string TokenUsage = "gen_ai.client.token.usage";

    private static string NewName(string kind) => $"TokenMetrics.Tests.{kind}.{Guid.NewGuid():N}";

    private static async Task RunAsync(IChatClient client, bool streaming, int calls = 2)
    {
        var options = new ChatOptions { Tools = [ToolLoopModel.Weather] };
        for (var i = 0; i < calls; i++)
        {
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
    }

    private static long Sum(MetricCollector<long> collector, string tokenType) =>
        collector.GetMeasurementSnapshot().Where(m => Equals(m.Tags["gen_ai.token.type"], tokenType)).Sum(m => m.Value);

    private static long Sum(MetricCollector<int> collector, string tokenType) =>
        collector.GetMeasurementSnapshot().Where(m => Equals(m.Tags["gen_ai.token.type"], tokenType)).Sum(m => (long)m.Value);

    public static TheoryData<string, bool> Pipelines => new()
    {
        // OpenTelemetryChatClient beneath TokenMetrics: detected, nothing to configure.
        { "loop > tokenmetrics > otel", false },
        { "loop > tokenmetrics > otel", true },
        { "tokenmetrics > loop > otel", true },
        // OpenTelemetryChatClient above TokenMetrics (it measures the whole loop, summed): declared with RecordGenAIMetrics = false.
        { "otel > loop > tokenmetrics", false },
        { "otel > loop > tokenmetrics", true },
    };

    private static IChatClient Build(string pipeline, IChatClient model, TokenUsageRecorder recorder, string otelSource, bool? recordGenAI = null)
    {
        var builder = model.AsBuilder();
        foreach (var stage in pipeline.Split(" > "))
        {
            _ = stage switch
            {
                "loop" => builder.UseFunctionInvocation(),
                "otel" => builder.UseOpenTelemetry(sourceName: otelSource),
                _ => builder.UseTokenMetrics(recorder, c => c.RecordGenAIMetrics = recordGenAI ?? (pipeline.StartsWith("otel", StringComparison.Ordinal) ? false : null)),
            };
        }

        return builder.Build();
    }

    [Theory]
    [MemberData(nameof(Pipelines))]
    public async Task TokenMetricsEqualsOpenTelemetryChatClient_AndItsOwnGenAIInstrumentsStayQuiet(string pipeline, bool streaming)
    {
        var otelSource = NewName("otel");
        var ourMeter = NewName("meter");
        using var ours = new MeterTokenUsageExporter(ourMeter);
        await using var t = new TestRecorder(null, ours);
        using var otelTokens = new MetricCollector<int>(null, otelSource, TokenUsage); // OpenTelemetryChatClient's histogram is Histogram<int>
        using var ourTokens = new MetricCollector<long>(null, ourMeter, TokenUsage);
        using var ourOperations = new MetricCollector<long>(null, ourMeter, "tokenmetrics.operations");
        using var model = new ToolLoopModel();
        using var client = Build(pipeline, model, t.Recorder, otelSource);

        await RunAsync(client, streaming);

        // The loop made 2 rounds per call, 2 calls; "tokenmetrics > loop" unstreamed would be 1 record per call (not in this data).
        var records = await t.RecordsAsync(4);
        Assert.Equal(4, records.Count);
        Assert.True(records.Sum(r => r.Usage.InputTokenCount) > 0);
        Assert.Equal(Sum(otelTokens, "input"), records.Sum(r => r.Usage.InputTokenCount));
        Assert.Equal(Sum(otelTokens, "output"), records.Sum(r => r.Usage.OutputTokenCount));
        Assert.Empty(ourTokens.GetMeasurementSnapshot());
        Assert.Equal(4, ourOperations.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    public async Task WithoutOpenTelemetryChatClient_TokenMetricsRecordsTheGenAIInstruments()
    {
        var ourMeter = NewName("meter");
        using var ours = new MeterTokenUsageExporter(ourMeter);
        await using var t = new TestRecorder(null, ours);
        using var ourTokens = new MetricCollector<long>(null, ourMeter, TokenUsage);
        using var model = new ToolLoopModel();
        using var client = model.AsBuilder().UseFunctionInvocation().UseTokenMetrics(t.Recorder).Build();

        await RunAsync(client, streaming: false);

        var records = await t.RecordsAsync(4);
        Assert.Equal(records.Sum(r => r.Usage.InputTokenCount), Sum(ourTokens, "input"));
        Assert.Equal(records.Sum(r => r.Usage.OutputTokenCount), Sum(ourTokens, "output"));
    }

    [Fact]
    public async Task RecordGenAIMetricsTrue_RecordsThemEvenWithOpenTelemetryChatClientBeneath()
    {
        var otelSource = NewName("otel");
        var ourMeter = NewName("meter");
        using var ours = new MeterTokenUsageExporter(ourMeter);
        await using var t = new TestRecorder(null, ours);
        using var otelTokens = new MetricCollector<int>(null, otelSource, TokenUsage); // OpenTelemetryChatClient's histogram is Histogram<int>
        using var ourTokens = new MetricCollector<long>(null, ourMeter, TokenUsage);
        using var model = new ToolLoopModel();
        using var client = Build("loop > tokenmetrics > otel", model, t.Recorder, otelSource, recordGenAI: true);

        await RunAsync(client, streaming: false);

        _ = await t.RecordsAsync(4);
        Assert.Equal(Sum(otelTokens, "input"), Sum(ourTokens, "input"));
        Assert.True(Sum(ourTokens, "input") > 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task BothMetersCollectedByTheOpenTelemetrySdk_CountEveryTokenOnce(bool streaming)
    {
        var otelSource = NewName("otel");
        var ourMeter = NewName("meter");
        var exported = new List<Metric>();
        using var provider = Sdk.CreateMeterProviderBuilder().AddMeter(otelSource, ourMeter).AddInMemoryExporter(exported).Build();
        using var ours = new MeterTokenUsageExporter(ourMeter);
        await using var t = new TestRecorder(null, ours);
        using var model = new ToolLoopModel();
        using var client = Build("loop > tokenmetrics > otel", model, t.Recorder, otelSource);

        await RunAsync(client, streaming);
        var records = await t.RecordsAsync(4);
        Assert.True(provider.ForceFlush());

        double total = 0;
        foreach (var metric in exported.Where(m => m.Name == TokenUsage))
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                total += point.GetHistogramSum();
            }
        }

        Assert.Equal(records.Sum(r => r.Usage.InputTokenCount + r.Usage.OutputTokenCount), (long)total);
    }
}
