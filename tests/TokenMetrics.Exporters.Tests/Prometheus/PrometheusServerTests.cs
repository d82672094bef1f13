using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TokenMetrics.Exporters.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TokenMetrics.Exporters.Tests.Prometheus;

/// <summary>A real Prometheus server scrapes the ASP.NET Core endpoint; the test reads the counters back through its HTTP API.</summary>
public sealed class PrometheusServerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RealPrometheus_ScrapesEndpoint_AndQueriesTokenCounters()
    {
        var prometheus = Servers.RequireBinary("prometheus", "prometheus");

        // The app: AddPrometheusExporter + MapTokenMetricsPrometheus on 127.0.0.1, fed through the real export pipeline.
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddTokenMetrics(o => o.MeterName = "PrometheusServerTests").RemoveMeterExporter().AddPrometheusExporter();
        await using var app = builder.Build();
        app.MapTokenMetricsPrometheus(allowAnonymous: true); // loopback-only test app: the explicit opt-out of the secure default
        await app.StartAsync();
        var appPort = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;

        var recorder = app.Services.GetRequiredService<TokenUsageRecorder>();
        recorder.Record(Records.Chat(model: "gpt-4o", input: 1200, output: 300, cached: 1000));
        recorder.Record(Records.Chat(model: "gpt-4o", input: 800, output: 200, streaming: true));
        recorder.Record(Records.Chat(model: "claude-sonnet-4", provider: "anthropic", input: 50, output: 5, status: TokenUsageStatus.Error));
        Assert.Equal(TokenMetricsFlushResult.Success, await recorder.FlushAsync(TimeSpan.FromSeconds(10)));

        // A generous bound, not a speed claim: under CPU load a scrape can take seconds.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using (var scrape = await http.GetAsync(new Uri($"http://127.0.0.1:{appPort}/metrics")))
        {
            Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
            Assert.Equal("text/plain; version=0.0.4; charset=utf-8", scrape.Content.Headers.ContentType!.ToString());
        }

        // The server: temp data dir, 1 s scrape interval, 127.0.0.1 only.
        var dir = Servers.NewTempDirectory("tm-prometheus");
        var port = Servers.FreePort();
        var config = Path.Combine(dir, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: tokenmetrics
                scrape_interval: 1s
                scrape_timeout: 1s
                static_configs:
                  - targets: ['127.0.0.1:{appPort}']
            """);
        using (var server = new ServerProcess(prometheus, [$"--config.file={config}", $"--storage.tsdb.path={Path.Combine(dir, "data")}", $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"], dir))
        {
            try
            {
                var api = new Uri($"http://127.0.0.1:{port}/");
                Assert.True(
                    await Servers.WaitUntilAsync(async () => (await http.GetAsync(new Uri(api, "-/ready"))).IsSuccessStatusCode, TimeSpan.FromSeconds(90)),
                    $"prometheus not ready in 30 s: {server.Output}");

                double? inputTotal = null;
                Assert.True(
                    await Servers.WaitUntilAsync(async () => (inputTotal = await QueryScalarAsync(http, api, "sum(tokenmetrics_tokens_total{token_type=\"input\"})")) == 2050, TimeSpan.FromSeconds(90)),
                    $"sum of input tokens never reached 2050 (last {inputTotal}); prometheus: {server.Output}");

                Assert.Equal(1, await QueryScalarAsync(http, api, "up{job=\"tokenmetrics\"}"));
                Assert.Equal(500, await QueryScalarAsync(http, api, "sum(tokenmetrics_tokens_total{model=\"gpt-4o\",token_type=\"output\"})"));
                Assert.Equal(1000, await QueryScalarAsync(http, api, "sum(tokenmetrics_tokens_total{token_type=\"cached_input\"})"));
                Assert.Equal(1, await QueryScalarAsync(http, api, "sum(tokenmetrics_calls_total{provider=\"anthropic\",status=\"error\"})"));
                Assert.Equal(2, await QueryScalarAsync(http, api, "sum(tokenmetrics_token_usage_count{model=\"gpt-4o\",token_type=\"input\"})"));
                Assert.Equal(1, await QueryScalarAsync(http, api, "sum(tokenmetrics_time_to_first_chunk_seconds_count)"));

                // A quantile over the GenAI buckets works: both gpt-4o inputs (800, 1200) are in (256, 1024] and (1024, 4096].
                var p50 = await QueryScalarAsync(http, api, "histogram_quantile(0.5, sum by (le) (tokenmetrics_token_usage_bucket{model=\"gpt-4o\",token_type=\"input\"}))");
                Assert.InRange(p50!.Value, 256, 1024);
                output.WriteLine($"prometheus {port} scraped 127.0.0.1:{appPort}; p50 input tokens = {p50}");
            }
            finally
            {
                output.WriteLine(server.Output);
            }
        }

        Directory.Delete(dir, recursive: true);
        await app.StopAsync();
    }

    private static async Task<double?> QueryScalarAsync(HttpClient http, Uri api, string promQl)
    {
        using var response = await http.GetAsync(new Uri(api, "api/v1/query?query=" + Uri.EscapeDataString(promQl)));
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var result = json.RootElement.GetProperty("data").GetProperty("result");
        if (result.GetArrayLength() == 0)
        {
            return null;
        }

        Assert.Equal(1, result.GetArrayLength());
        return double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
    }
}
