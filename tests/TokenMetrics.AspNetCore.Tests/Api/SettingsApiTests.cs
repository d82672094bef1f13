using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TokenMetrics.AspNetCore.Tests.Infrastructure;
using TokenMetrics.Testing;

namespace TokenMetrics.AspNetCore.Tests.Api;

public sealed class SettingsApiTests
{
    private static async Task<HttpResponseMessage> PatchAsync(TestApp app, string body, bool csrf = true, string user = "admin", string? roles = TestApp.Admin)
    {
        var request = TestApp.As(HttpMethod.Patch, "/tokenmetrics/api/settings", user, roles);
        if (csrf)
        {
            var (cookie, token) = await app.AntiforgeryAsync(user, roles);
            request.Headers.Add("Cookie", cookie);
            request.Headers.Add(TokenMetricsEndpointOptions.CsrfHeaderName, token);
        }

        request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        return await app.Client.SendAsync(request);
    }

    [Fact]
    public async Task Get_ShowsCurrentConfiguredAndExporters()
    {
        await using var app = await TestApp.StartAsync();
        var json = await app.GetJsonAsync("/tokenmetrics/api/settings");
        Assert.Equal(0, json.GetProperty("version").GetInt64());
        var current = json.GetProperty("current");
        Assert.True(current.GetProperty("enabled").GetBoolean());
        Assert.False(current.GetProperty("captureContent").GetBoolean());
        Assert.Equal(1.0, current.GetProperty("samplingRatio").GetDouble());
        Assert.Equal(0, current.GetProperty("disabledExporters").GetArrayLength());
        var exporters = json.GetProperty("exporters").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(app.Services.GetRequiredService<TokenMetricsSettingsService>().ExporterNames, exporters);
        Assert.NotEmpty(exporters);
    }

    [Fact]
    public async Task Patch_AppliesTheChange_AuditsCallerAndReason_AndResetRestores()
    {
        await using var app = await TestApp.StartAsync();
        using var response = await PatchAsync(app, """{"samplingRatio":0.25,"reason":"lower sampling"}""");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal(0.25, json.GetProperty("current").GetProperty("samplingRatio").GetDouble());
        Assert.Equal(1.0, json.GetProperty("configured").GetProperty("samplingRatio").GetDouble());
        Assert.Equal(1, json.GetProperty("version").GetInt64());
        var service = app.Services.GetRequiredService<TokenMetricsSettingsService>();
        Assert.Equal(0.25, service.Current.SamplingRatio);
        Assert.Contains(app.Logs.GetSnapshot(), r => r.Category == "TokenMetrics.Settings" && r.Message.Contains("admin via TokenMetrics API: lower sampling", StringComparison.Ordinal));

        var (cookie, token) = await app.AntiforgeryAsync();
        using var reset = TestApp.As(HttpMethod.Post, "/tokenmetrics/api/settings/reset?reason=done", "admin", TestApp.Admin);
        reset.Headers.Add("Cookie", cookie);
        reset.Headers.Add(TokenMetricsEndpointOptions.CsrfHeaderName, token);
        using var resetResponse = await app.Client.SendAsync(reset);
        Assert.Equal(HttpStatusCode.OK, resetResponse.StatusCode);
        Assert.Equal(1.0, service.Current.SamplingRatio);
    }

    [Theory]
    [InlineData("""{"samplingRatio":2}""", "SamplingRatio")]
    [InlineData("""{"disabledExporters":["no-such-exporter"]}""", "unknown exporter")]
    [InlineData("""{"samplingRatio":0.5,"disabledExporters":["no-such-exporter"]}""", "unknown exporter")]
    [InlineData("""{"sampling":0.5}""", "sampling")]
    [InlineData("""{"enabled":"maybe"}""", "not a valid settings change")]
    [InlineData("""not json""", "not a valid settings change")]
    [InlineData("", "JSON object")]
    public async Task Patch_Invalid_Is400_AndNothingChanges(string body, string mentions)
    {
        await using var app = await TestApp.StartAsync();
        using var response = await PatchAsync(app, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(mentions, JsonDocument.Parse(text).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        var service = app.Services.GetRequiredService<TokenMetricsSettingsService>();
        Assert.Equal(1.0, service.Current.SamplingRatio);
        Assert.Null(service.Current.DisabledExporters);
        Assert.Equal(0, service.Version);
    }

    [Fact]
    public async Task Patch_WithoutTheCsrfToken_Is400_AndNothingChanges()
    {
        await using var app = await TestApp.StartAsync();
        using var response = await PatchAsync(app, """{"enabled":false}""", csrf: false);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(TokenMetricsEndpointOptions.CsrfHeaderName, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(app.Services.GetRequiredService<TokenMetricsSettingsService>().Current.Enabled);
    }

    [Fact]
    public async Task Patch_TakesEffectOnTheNextMeteredCall()
    {
        await using var llm = await MockLlmServer.StartAsync();
        InMemoryTokenUsageExporter exporter = null!;
        await using var app = await TestApp.StartAsync(services: b =>
        {
            b.Services.AddTokenMetrics().AddOpenAI().AddInMemoryExporter(out exporter);
            b.Services.AddHttpClient("llm", c => c.BaseAddress = llm.BaseAddress).AddTokenMetricsHandler();
        });
        var client = app.Services.GetRequiredService<IHttpClientFactory>().CreateClient("llm");
        async Task CallAsync()
        {
            using var r = await client.PostAsync("v1/chat/completions", new StringContent("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"What is 2+2?"}]}""", Encoding.UTF8, "application/json"));
            _ = await r.Content.ReadAsStringAsync();
        }

        await CallAsync();
        var before = Assert.Single(await exporter.WaitForRecordsAsync(1, TimeSpan.FromSeconds(30)));
        Assert.Null(before.Content);   // content capture is off by default

        using (var response = await PatchAsync(app, """{"captureContent":true,"reason":"debug a prompt"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await CallAsync();
        var records = await exporter.WaitForRecordsAsync(2, TimeSpan.FromSeconds(30));
        Assert.Equal(2, records.Count);
        Assert.Contains("2+2", records[1].Content?.Question ?? string.Empty, StringComparison.Ordinal);
    }
}
