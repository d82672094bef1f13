using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TokenMetrics.Exporters.Tests.Infrastructure;

namespace TokenMetrics.Exporters.Tests.Webhook;

public sealed class WebhookExporterTests
{
    private const string Secret = "whsec_0123456789abcdef-canary";

    [Fact]
    public async Task Posts_SignedJsonBatch_ThatTheReceiverVerifies()
    {
        await using var receiver = await KestrelReceiver.StartAsync();
        using var http = new HttpClient();
        var exporter = new WebhookTokenUsageExporter(http, new WebhookExporterOptions { Endpoint = new Uri(receiver.BaseAddress, "hooks/usage"), Secret = Secret });
        TokenUsageRecord[] batch = [Records.Chat(consumer: "team-a", cached: 80, reasoning: 25), Records.Chat(model: "claude", provider: "anthropic", streaming: true)];

        Assert.Equal(TokenUsageExportResult.Success, await exporter.ExportAsync(batch, CancellationToken.None));

        var request = Assert.Single(receiver.Requests);
        Assert.Equal("/hooks/usage", request.Path);
        Assert.StartsWith("application/json", request.Headers.ContentType.ToString(), StringComparison.Ordinal);
        var timestamp = request.Headers[TokenMetricsWebhook.TimestampHeader].ToString();
        var signature = request.Headers[TokenMetricsWebhook.SignatureHeader].ToString();
        Assert.Matches("^v1=[0-9a-f]{64}$", signature);
        Assert.InRange(long.Parse(timestamp, CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.True(TokenMetricsWebhook.Verify(Secret, timestamp, signature, request.Body));

        // The documented recipe, by hand: HMAC-SHA256(secret, timestamp + "." + body), lower-case hex.
        using var hmac = new System.Security.Cryptography.HMACSHA256(Encoding.UTF8.GetBytes(Secret));
        var expected = "v1=" + Convert.ToHexStringLower(hmac.ComputeHash([.. Encoding.UTF8.GetBytes(timestamp + "."), .. request.Body]));
        Assert.Equal(expected, signature);

        using var json = JsonDocument.Parse(request.Body);
        var records = json.RootElement.GetProperty("records").EnumerateArray().Select(r => TokenUsageJson.Deserialize(Encoding.UTF8.GetBytes(r.GetRawText()))!).ToList();
        Assert.Equal(batch.Select(r => r.Id), records.Select(r => r.Id));
        Assert.Equal(80, records[0].Usage.CachedInputTokenCount);
        Assert.Equal("team-a", records[0].Consumer);
        Assert.Equal(100, json.RootElement.GetProperty("records")[0].GetProperty("usage").GetProperty("input_token_count").GetInt64());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CapturedContent_IsSentOnlyWhenIncluded(bool include)
    {
        await using var receiver = await KestrelReceiver.StartAsync();
        using var http = new HttpClient();
        var exporter = new WebhookTokenUsageExporter(http, new WebhookExporterOptions { Endpoint = new Uri(receiver.BaseAddress, "hooks/usage"), Secret = Secret, IncludeContent = include });
        var record = Records.Chat() with { Content = new TokenUsageContent { Question = "secret question", Answer = "secret answer" }, Cost = 0.25m, Currency = "USD" };

        Assert.Equal(TokenUsageExportResult.Success, await exporter.ExportAsync([record], CancellationToken.None));

        var body = Encoding.UTF8.GetString(Assert.Single(receiver.Requests).Body);
        Assert.Equal(include, body.Contains("secret question", StringComparison.Ordinal));
        Assert.Equal(include, body.Contains("secret answer", StringComparison.Ordinal));
        Assert.Contains("\"cost\":0.25", body, StringComparison.Ordinal);
        Assert.NotNull(record.Content); // the batch's own record is untouched
    }

    [Fact]
    public async Task RetriedBatch_HasTheSameIdempotencyKey_AndBigBatchesAreSplit()
    {
        await using var receiver = await KestrelReceiver.StartAsync();
        using var http = new HttpClient();
        var exporter = new WebhookTokenUsageExporter(http, new WebhookExporterOptions { Endpoint = receiver.BaseAddress, Secret = Secret, MaxRecordsPerRequest = 2 });
        var batch = Enumerable.Range(0, 5).Select(_ => Records.Chat()).ToList();

        await exporter.ExportAsync(batch, CancellationToken.None);
        await exporter.ExportAsync(batch, CancellationToken.None);

        var requests = receiver.Requests.ToList();
        Assert.Equal(6, requests.Count);
        Assert.Equal([2, 2, 1], requests.Take(3).Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("records").GetArrayLength()));
        var keys = requests.Select(r => r.Headers["Idempotency-Key"].ToString()).ToList();
        Assert.Equal(keys.Take(3), keys.Skip(3));
        Assert.Equal(3, keys.Distinct().Count());
    }

    [Fact]
    public void Verify_RejectsTampering_WrongSecret_StaleTimestamps_AndAcceptsRotation()
    {
        var body = "{\"records\":[]}"u8.ToArray();
        var now = new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
        var ts = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var sig = TokenMetricsWebhook.ComputeSignature(Secret, ts, body);

        Assert.True(TokenMetricsWebhook.Verify(Secret, ts, sig, body, now));
        Assert.False(TokenMetricsWebhook.Verify(Secret, ts, sig, "{\"records\":[1]}"u8, now));
        Assert.False(TokenMetricsWebhook.Verify("another-secret-of-16+", ts, sig, body, now));
        Assert.False(TokenMetricsWebhook.Verify(Secret, ts, sig, body, now.AddMinutes(6)));
        Assert.True(TokenMetricsWebhook.Verify(Secret, ts, sig, body, now.AddMinutes(6), TimeSpan.FromMinutes(10)));
        Assert.False(TokenMetricsWebhook.Verify(Secret, (now.ToUnixTimeSeconds() + 1).ToString(CultureInfo.InvariantCulture), sig, body, now)); // timestamp is signed
        Assert.False(TokenMetricsWebhook.Verify(Secret, ts, null, body, now));
        Assert.False(TokenMetricsWebhook.Verify(Secret, "-5", sig, body, now));
        Assert.False(TokenMetricsWebhook.Verify(Secret, ts, "v1=zz", body, now));
        Assert.True(TokenMetricsWebhook.Verify(Secret, ts, "v1=" + new string('0', 64) + ", " + sig, body, now));
    }

    [Theory]
    [InlineData(429, "12", true, 12)]
    [InlineData(503, null, true, null)]
    [InlineData(500, "3", true, 3)]
    [InlineData(400, "5", false, null)]
    [InlineData(404, null, false, null)]
    public async Task FailedStatus_MapsToTransientOrPermanent_WithRetryAfter(int status, string? retryAfter, bool transient, int? expectedSeconds)
    {
        await using var receiver = await KestrelReceiver.StartAsync(r => r.Respond = async (ctx, _) =>
        {
            ctx.Response.StatusCode = status;
            if (retryAfter is not null)
            {
                ctx.Response.Headers.RetryAfter = retryAfter;
            }

            await ctx.Response.WriteAsync("nope\r\nInjected: header");
        });
        using var http = new HttpClient();
        var exporter = new WebhookTokenUsageExporter(http, new WebhookExporterOptions { Endpoint = receiver.BaseAddress, Secret = Secret });

        var error = await Assert.ThrowsAsync<TokenUsageExportException>(() => exporter.ExportAsync([Records.Chat()], CancellationToken.None).AsTask());

        Assert.Equal(transient, error.IsTransient);
        Assert.Equal(expectedSeconds is { } s ? TimeSpan.FromSeconds(s) : null, error.RetryAfter);
        Assert.DoesNotContain("canary", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task RetryAfter_HttpDate_IsRelativeToTheClock()
    {
        var now = new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
        await using var receiver = await KestrelReceiver.StartAsync(r => r.Respond = (ctx, _) =>
        {
            ctx.Response.StatusCode = 503;
            ctx.Response.Headers.RetryAfter = now.AddSeconds(90).ToString("R", CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        });
        using var http = new HttpClient();
        var exporter = new WebhookTokenUsageExporter(http, new WebhookExporterOptions { Endpoint = receiver.BaseAddress, Secret = Secret }, new FakeTimeProvider(now));

        var error = await Assert.ThrowsAsync<TokenUsageExportException>(() => exporter.ExportAsync([Records.Chat()], CancellationToken.None).AsTask());
        Assert.Equal(TimeSpan.FromSeconds(90), error.RetryAfter);
        Assert.Equal(now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), receiver.Requests.Single().Headers[TokenMetricsWebhook.TimestampHeader].ToString());
    }

    [Fact]
    public async Task ThroughThePipeline_WithDependencyInjection()
    {
        await using var receiver = await KestrelReceiver.StartAsync();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddTokenMetrics(o => o.MeterName = "WebhookPipelineTest").RemoveMeterExporter().AddWebhookExporter(o =>
        {
            o.Endpoint = receiver.BaseAddress;
            o.Secret = Secret;
        });
        await using var provider = services.BuildServiceProvider();
        var recorder = provider.GetRequiredService<TokenUsageRecorder>();
        var record = Records.Chat();

        recorder.Record(record);
        Assert.Equal(TokenMetricsFlushResult.Success, await recorder.FlushAsync(TimeSpan.FromSeconds(10)));

        var request = Assert.Single(receiver.Requests);
        Assert.True(TokenMetricsWebhook.Verify(Secret, request.Headers[TokenMetricsWebhook.TimestampHeader], request.Headers[TokenMetricsWebhook.SignatureHeader], request.Body));
        Assert.Contains(record.Id.ToString(), Encoding.UTF8.GetString(request.Body), StringComparison.Ordinal);
    }

    [Fact]
    public void Options_RequireHttpsExceptLoopback_AndASecret_AtStartUp()
    {
        var services = new ServiceCollection();
        services.AddTokenMetrics().AddWebhookExporter(o =>
        {
            o.Endpoint = new Uri("http://hooks.example.com/usage");
            o.Secret = "short-canary";
        });
        using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetServices<ITokenUsageExporter>().ToList());
        Assert.Contains("https", error.Message, StringComparison.Ordinal);
        Assert.Contains("Secret", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("canary", error.Message, StringComparison.Ordinal);

        using var http = new HttpClient();
        _ = new WebhookTokenUsageExporter(http, new WebhookExporterOptions { Endpoint = new Uri("https://hooks.example.com/usage"), Secret = Secret });
        _ = new WebhookTokenUsageExporter(http, new WebhookExporterOptions { Endpoint = new Uri("http://[::1]:8080/usage"), Secret = Secret });
        Assert.Throws<OptionsValidationException>(() => new WebhookTokenUsageExporter(http, new WebhookExporterOptions { Endpoint = new Uri("ftp://127.0.0.1/"), Secret = Secret }));
    }
}
