using Microsoft.AspNetCore.Http;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using TokenMetrics.Exporters.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TokenMetrics.Exporters.Tests.Otlp;

/// <summary>The documented wiring (docs/exporters.md, "OTLP"): TokenMetrics' meter into the OpenTelemetry SDK with the OTLP
/// HTTP/protobuf exporter. An in-process OTLP/HTTP receiver decodes what arrives.</summary>
public sealed class OtlpWiringTests(ITestOutputHelper output)
{
    private static readonly double[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

    [Fact]
    public async Task MeterExporter_ThroughOpenTelemetrySdk_ArrivesAsOtlpHttpProtobuf()
    {
        await using var collector = await KestrelReceiver.StartAsync(r => r.Respond = (ctx, _) =>
        {
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/x-protobuf";
            return Task.CompletedTask; // an empty ExportMetricsServiceResponse
        });
        var meterName = "TokenMetrics.OtlpTest." + Guid.NewGuid().ToString("N"); // own meter: tests run in parallel

        // The wiring, as documented.
        using var meterProvider = Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(r => r.AddService("otlp-wiring-test"))
            .AddMeter(meterName)
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = new Uri(collector.BaseAddress, "v1/metrics");
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 60_000; // the test flushes explicitly
            })
            .Build();
        using var tokenMetrics = new MeterTokenUsageExporter(meterName);

        await tokenMetrics.ExportAsync(
            [
                Records.Chat(input: 1200, output: 300, cached: 1000),
                Records.Chat(input: 800, output: 200, streaming: true),
                Records.Chat(model: "claude-sonnet-4", provider: "anthropic", input: 50, output: 5, status: TokenUsageStatus.Error),
            ],
            CancellationToken.None);
        Assert.True(meterProvider.ForceFlush(10_000), "ForceFlush timed out");

        var posts = collector.Requests.Where(r => r.Path == "/v1/metrics").ToList();
        Assert.NotEmpty(posts);
        Assert.All(posts, p => Assert.Equal("application/x-protobuf", p.Headers.ContentType.ToString()));

        // ExportMetricsServiceRequest.resource_metrics(1) → ScopeMetrics(2) → Metric(2) {name 1, unit 3, histogram 9 → data_points 1}.
        var points = new List<(string Metric, string Unit, Dictionary<string, string> Attributes, ulong Count, double Sum, List<double> Bounds)>();
        foreach (var post in posts)
        {
            foreach (var resourceMetrics in Protobuf.Messages(post.Body, 1))
            {
                foreach (var scope in Protobuf.Messages(resourceMetrics, 2))
                {
                    Assert.Equal(meterName, Protobuf.String(Protobuf.Messages(scope, 1).First(), 1));
                    foreach (var metric in Protobuf.Messages(scope, 2))
                    {
                        var name = Protobuf.String(metric, 1)!;
                        foreach (var histogram in Protobuf.Messages(metric, 9))
                        {
                            foreach (var point in Protobuf.Messages(histogram, 1))
                            {
                                points.Add((name, Protobuf.String(metric, 3) ?? "", Protobuf.Attributes(point, 9), Protobuf.Fixed64(point, 4) ?? 0, Protobuf.Doubles(point, 5).Single(), Protobuf.Doubles(point, 7)));
                            }
                        }
                    }
                }
            }
        }

        var usage = points.Where(p => p.Metric == "gen_ai.client.token.usage").ToList();
        foreach (var p in usage)
        {
            output.WriteLine($"{p.Metric} {string.Join(",", p.Attributes.Select(a => $"{a.Key}={a.Value}"))} count={p.Count} sum={p.Sum}");
        }

        var gptInput = Assert.Single(usage, p => p.Attributes["gen_ai.request.model"] == "gpt-4o" && p.Attributes["gen_ai.token.type"] == "input");
        Assert.Equal("{token}", gptInput.Unit);
        Assert.Equal(2UL, gptInput.Count);
        Assert.Equal(2000, gptInput.Sum);
        Assert.Equal(TokenBuckets, gptInput.Bounds); // the spec's advised boundaries survive the SDK
        Assert.Equal("openai", gptInput.Attributes["gen_ai.provider.name"]);
        Assert.Equal("chat", gptInput.Attributes["gen_ai.operation.name"]);
        Assert.Equal("gpt-4o-2024-08-06", gptInput.Attributes["gen_ai.response.model"]);
        Assert.Equal("reported", gptInput.Attributes["tokenmetrics.usage.source"]);
        Assert.Equal(500, Assert.Single(usage, p => p.Attributes["gen_ai.request.model"] == "gpt-4o" && p.Attributes["gen_ai.token.type"] == "output").Sum);
        Assert.Equal(50, Assert.Single(usage, p => p.Attributes["gen_ai.provider.name"] == "anthropic" && p.Attributes["gen_ai.token.type"] == "input").Sum);

        var duration = points.Where(p => p.Metric == "gen_ai.client.operation.duration").ToList();
        Assert.Equal("s", duration[0].Unit);
        Assert.Equal(3UL, duration.Aggregate(0UL, (n, p) => n + p.Count));
        Assert.Equal("500", Assert.Single(duration, p => p.Attributes.ContainsKey("error.type")).Attributes["error.type"]);
        Assert.Equal(1UL, Assert.Single(points, p => p.Metric == "gen_ai.client.operation.time_to_first_chunk").Count);
    }
}
