using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using TokenMetrics.Exporters.Tests.InfluxDb;
using TokenMetrics.Exporters.Tests.Infrastructure;
using TokenMetrics.Testing;
using Xunit.Abstractions;

namespace TokenMetrics.Exporters.Tests.Fault;

/// <summary>200 concurrent streams through the handler while the webhook and InfluxDB fail 30% of requests and go fully down
/// twice: afterwards every record is in each backend exactly once.</summary>
public sealed class FaultToleranceTests(InfluxDbFixture influx, ITestOutputHelper output) : IClassFixture<InfluxDbFixture>, IDisposable
{
    private const int Calls = 200;
    private readonly string _spool = Servers.NewTempDirectory("tm-fault-spool");

    public void Dispose() => Directory.Delete(_spool, recursive: true);

    /// <summary>Fails a request with 503 when the backend is "down", or at random 30% of the time (seeded, logged).</summary>
    private sealed class Chaos(int seed)
    {
        private readonly Random _random = new(seed);

        public volatile bool Down;
        public int Failed;
        public int Passed;

        public bool ShouldFail()
        {
            bool fail;
            lock (_random)
            {
                fail = Down || _random.NextDouble() < 0.3;
            }

            if (fail)
            {
                Interlocked.Increment(ref Failed);
            }
            else
            {
                Interlocked.Increment(ref Passed);
            }

            return fail;
        }
    }

    [Fact]
    public async Task ConcurrentStreams_FlakyAndDownBackends_EveryRecordLandsExactlyOnceInEach()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"chaos seed {seed}");
        var webhookChaos = new Chaos(seed);
        var influxChaos = new Chaos(seed + 1);
        var webhookDeliveries = new ConcurrentDictionary<Guid, int>();

        await using var webhook = await KestrelReceiver.StartAsync(r => r.Respond = async (ctx, request) =>
        {
            if (webhookChaos.ShouldFail())
            {
                ctx.Response.StatusCode = 503;
                return;
            }

            using var json = JsonDocument.Parse(request.Body);
            foreach (var record in json.RootElement.GetProperty("records").EnumerateArray())
            {
                webhookDeliveries.AddOrUpdate(record.GetProperty("id").GetGuid(), 1, (_, n) => n + 1);
            }

            ctx.Response.StatusCode = 204;
            await Task.CompletedTask;
        });

        // A chaos proxy in front of the real influxd.
        using var forward = new HttpClient { BaseAddress = influx.Endpoint };
        await using var influxProxy = await KestrelReceiver.StartAsync(r => r.Respond = async (ctx, request) =>
        {
            if (influxChaos.ShouldFail())
            {
                ctx.Response.StatusCode = 503;
                return;
            }

            using var upstream = new HttpRequestMessage(new HttpMethod(request.Method), request.Path.TrimStart('/') + request.Query) { Content = new ByteArrayContent(request.Body) };
            if (request.Headers.TryGetValue("Authorization", out var auth))
            {
                upstream.Headers.TryAddWithoutValidation("Authorization", auth.ToString());
            }

            using var response = await forward.SendAsync(upstream);
            ctx.Response.StatusCode = (int)response.StatusCode;
            await ctx.Response.Body.WriteAsync(await response.Content.ReadAsByteArrayAsync());
        });

        var database = await influx.CreateDatabaseAsync();
        await using var llm = await MockLlmServer.StartAsync();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddTokenMetrics(o =>
            {
                o.SpoolDirectory = _spool;
                o.ExportInterval = TimeSpan.FromMilliseconds(20);
                o.MaxExportBatchSize = 16;
                o.MaxRetryAttempts = 2;
                o.RetryBaseDelay = TimeSpan.FromMilliseconds(5);
                o.CircuitBreakDuration = TimeSpan.FromMilliseconds(500);
                o.ReplayInterval = TimeSpan.FromMilliseconds(200);
                o.MeterName = "TokenMetrics.Fault." + Guid.NewGuid().ToString("N");
            })
            .RemoveMeterExporter()
            .AddDefaultProviders()
            .AddWebhookExporter(o =>
            {
                o.Endpoint = webhook.BaseAddress;
                o.Secret = "fault-test-secret";
            })
            .AddInfluxDbExporter(o =>
            {
                o.Endpoint = influxProxy.BaseAddress;
                o.ApiVersion = InfluxDbApiVersion.V1;
                o.Database = database;
                o.Username = InfluxDbFixture.User;
                o.Password = InfluxDbFixture.Password;
            });
        await using var provider = services.BuildServiceProvider();
        var recorder = provider.GetRequiredService<TokenUsageRecorder>();
        using var client = new HttpClient(new TokenMetricsHandler(recorder, provider.GetServices<ITokenUsageProtocol>(), new SocketsHttpHandler()))
        {
            BaseAddress = new Uri(llm.BaseAddress, "v1/"),
        };

        // Both backends go fully down twice while the calls run.
        using var outages = new CancellationTokenSource();
        var outageTask = Task.Run(async () =>
        {
            for (var i = 0; i < 2; i++)
            {
                await Task.Delay(150);
                webhookChaos.Down = influxChaos.Down = true;
                await Task.Delay(400);
                webhookChaos.Down = influxChaos.Down = false;
            }
        });

        await Task.WhenAll(Enumerable.Range(0, Calls).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "chat/completions")
            {
                Content = new StringContent($"{{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{{\"role\":\"user\",\"content\":\"call {i}\"}}]}}", Encoding.UTF8, "application/json"),
            };
            request.Headers.Add(MockHeaders.ChunkDelayMs, "2");
            request.Headers.Add(MockHeaders.PromptTokens, (100 + i).ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            _ = await response.Content.ReadAsStringAsync();
        }));
        await outageTask;

        // Retries, the spool and its replay finish the job once the backends are up.
        long influxPoints = 0;
        var delivered = await Servers.WaitUntilAsync(async () =>
        {
            var count = await influx.QueryAsync($"SELECT COUNT(record_id) FROM tokenmetrics_usage", database);
            influxPoints = count.TryGetProperty("series", out var series) ? series[0].GetProperty("values")[0][1].GetInt64() : 0;
            return webhookDeliveries.Count == Calls && influxPoints == Calls;
        }, TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(250));

        var stats = recorder.GetStatistics();
        foreach (var (name, s) in stats.Exporters)
        {
            output.WriteLine($"{name}: exported {s.Exported}, spilled {s.Spilled}, replayed {s.Replayed}, dropped {s.Dropped}, failed batches {s.FailedBatches}, spool files {s.SpoolFiles}");
        }

        output.WriteLine($"webhook: {webhookChaos.Failed} requests failed by chaos, {webhookChaos.Passed} passed, {webhookDeliveries.Count} distinct records, {webhookDeliveries.Values.Sum()} deliveries");
        output.WriteLine($"influxdb: {influxChaos.Failed} requests failed by chaos, {influxChaos.Passed} passed, {influxPoints} points");
        Assert.True(delivered, $"webhook {webhookDeliveries.Count}/{Calls}, influx {influxPoints}/{Calls}");
        Assert.Equal(Calls, stats.Received);
        Assert.All(webhookDeliveries.Values, n => Assert.Equal(1, n));
        Assert.True(webhookChaos.Failed > 0 && influxChaos.Failed > 0, "the chaos actually failed requests");
        Assert.All(stats.Exporters.Values, s => Assert.Equal(0, s.Dropped));
        var tokens = await influx.QueryAsync("SELECT SUM(input_tokens) FROM tokenmetrics_usage", database);
        Assert.Equal(Enumerable.Range(0, Calls).Sum(i => 100L + i), tokens.GetProperty("series")[0].GetProperty("values")[0][1].GetInt64());
    }
}
