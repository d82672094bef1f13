using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TokenMetrics.AspNetCore.Attribution;
using TokenMetrics.AspNetCore.Tests.Infrastructure;
using TokenMetrics.Testing;

namespace TokenMetrics.AspNetCore.Tests.Api;

/// <summary>An app whose endpoints make a metered LLM call (to the mock server) with no attribution code of their own.</summary>
public sealed class AttributionMiddlewareTests : IAsyncLifetime
{
    private MockLlmServer _llm = null!;

    public async Task InitializeAsync() => _llm = await MockLlmServer.StartAsync();

    public async Task DisposeAsync() => await _llm.DisposeAsync();

    private async Task<(WebApplication App, InMemoryTokenUsageExporter Exporter)> StartAsync(Action<TokenMetricsRequestAttributionOptions>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddTokenMetrics(o => o.ExportInterval = TimeSpan.FromMilliseconds(50)).AddOpenAI().AddInMemoryExporter(out var exporter);
        builder.Services.AddHttpClient("llm", c => c.BaseAddress = _llm.BaseAddress).AddTokenMetricsHandler();
        builder.Services.AddAuthentication(TestAuthHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, TestAuthHandler>(TestAuthHandler.SchemeName, null);
        var app = builder.Build();
        app.UseAuthentication();
        app.UseTokenMetricsAttribution(configure);
        app.MapGet("/chat/{id}", (IHttpClientFactory f) => CallLlmAsync(f));
        app.MapGet("/featured", async (IHttpClientFactory f) =>
        {
            using (TokenMetricsScope.Begin(new TokenUsageAttribution { Feature = "summarize" }))
            {
                return await CallLlmAsync(f);
            }
        });
        await app.StartAsync();
        return (app, exporter);
    }

    private static async Task<string> CallLlmAsync(IHttpClientFactory factory)
    {
        using var response = await factory.CreateClient("llm").PostAsync("v1/chat/completions", new StringContent("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        return await response.Content.ReadAsStringAsync();
    }

    private static async Task<TokenUsageRecord> RequestAsync(WebApplication app, InMemoryTokenUsageExporter exporter, string url, Dictionary<string, string> headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        using var response = await app.GetTestClient().SendAsync(request);
        response.EnsureSuccessStatusCode();
        return Assert.Single(await exporter.WaitForRecordsAsync(1, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Request_UserConsumerSessionAndRoute_AttributeTheLlmCall()
    {
        var (app, exporter) = await StartAsync();
        await using (app)
        {
            var record = await RequestAsync(app, exporter, "/chat/42", new()
            {
                ["X-Test-User"] = "alice",
                ["x-mse-consumer"] = "team-docs",
                ["x-agent-session"] = "agent:main:7",
            });
            Assert.Equal("alice", record.UserId);
            Assert.Equal("team-docs", record.Consumer);
            Assert.Equal("agent:main:7", record.SessionId);
            Assert.Equal("/chat/{id}", record.Feature);
            Assert.Equal("/chat/{id}", record.Tags?["http.route"]);
            Assert.Equal(TokenUsageSource.Reported, record.Source);
        }
    }

    [Fact]
    public async Task Request_WithoutThem_LeavesUserConsumerSessionNull()
    {
        var (app, exporter) = await StartAsync();
        await using (app)
        {
            var record = await RequestAsync(app, exporter, "/chat/1", []);
            Assert.Null(record.UserId);
            Assert.Null(record.Consumer);
            Assert.Null(record.SessionId);
            Assert.Equal("/chat/{id}", record.Feature);
        }
    }

    [Fact]
    public async Task AppScope_FeatureWins_RouteStaysATag()
    {
        var (app, exporter) = await StartAsync();
        await using (app)
        {
            var record = await RequestAsync(app, exporter, "/featured", new() { ["x-openclaw-session-key"] = "s-1" });
            Assert.Equal("summarize", record.Feature);
            Assert.Equal("/featured", record.Tags?["http.route"]);
            Assert.Equal("s-1", record.SessionId);
        }
    }

    [Fact]
    public async Task Options_CustomHeadersClaimsAndLengthCap()
    {
        var (app, exporter) = await StartAsync(o =>
        {
            o.SessionHeaders = ["x-my-session"];
            o.ConsumerClaimType = "tenant";
            o.MaxValueLength = 8;
            o.IncludeRoute = false;
        });
        await using (app)
        {
            var record = await RequestAsync(app, exporter, "/chat/1", new()
            {
                ["X-Test-User"] = "a-very-long-user-name",
                ["X-Test-Claims"] = "tenant=acme",
                ["x-mse-consumer"] = "spoofed",
                ["x-agent-session"] = "ignored",
                ["x-my-session"] = "mine",
            });
            Assert.Equal("a-very-l", record.UserId);
            Assert.Equal("acme", record.Consumer);     // the claim wins over the header
            Assert.Equal("mine", record.SessionId);
            Assert.Null(record.Feature);
            Assert.Null(record.Tags);
        }
    }

    [Theory]
    [InlineData("ab\u0001c\u007f", "abc")]
    [InlineData("  x\ty  ", "xy")]
    [InlineData("\u0000", null)]
    [InlineData("", null)]
    public void Clean_StripsControlCharacters(string input, string? expected) =>
        Assert.Equal(expected, TokenMetricsAttributionMiddleware.Clean(input, 256));

    [Fact]
    public void InvalidOptions_FailWhenTheMiddlewareIsAdded()
    {
        var app = WebApplication.CreateSlimBuilder().Build();
        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => app.UseTokenMetricsAttribution(o => o.MaxValueLength = 0));
    }
}
