using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TokenMetrics.AspNetCore.Tests.Infrastructure;

namespace TokenMetrics.AspNetCore.Tests.Api;

public sealed class ApiSecurityTests
{
    public static TheoryData<string> ReadRoutes() =>
    [
        "/tokenmetrics/api/overview", "/tokenmetrics/api/usage?groupBy=model", "/tokenmetrics/api/sessions", "/tokenmetrics/api/sessions/s-1",
        "/tokenmetrics/api/reports/finops.json", "/tokenmetrics/api/reports/finops.csv", "/tokenmetrics/api/settings", "/tokenmetrics/api/antiforgery",
    ];

    [Theory]
    [MemberData(nameof(ReadRoutes))]
    public async Task ReadEndpoint_Unauthenticated_Is401_NotARedirect(string route)
    {
        await using var app = await TestApp.StartAsync();
        using var response = await app.GetAsync(route, user: null);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Theory]
    [MemberData(nameof(ReadRoutes))]
    public async Task ReadEndpoint_ReadUser_Is200_NotCachedNotSniffed_NoCors(string route)
    {
        await using var app = await TestApp.StartAsync();
        await SampleData.SeedAsync(app.Store);
        using var request = TestApp.As(HttpMethod.Get, route);
        request.Headers.Add("Origin", "https://evil.example");
        using var response = await app.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString() ?? string.Empty, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task SettingsWrites_ReadUser_Is403_AndNothingChanges()
    {
        await using var app = await TestApp.StartAsync();
        var (cookie, token) = await app.AntiforgeryAsync(user: "reader", roles: null);
        foreach (var (method, url) in new[] { (HttpMethod.Patch, "/tokenmetrics/api/settings"), (HttpMethod.Post, "/tokenmetrics/api/settings/reset") })
        {
            using var request = TestApp.As(method, url);
            request.Headers.Add("Cookie", cookie);
            request.Headers.Add(TokenMetricsEndpointOptions.CsrfHeaderName, token);
            request.Content = new StringContent("""{"enabled":false}""", System.Text.Encoding.UTF8, "application/json");
            using var response = await app.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        Assert.True(app.Services.GetRequiredService<TokenMetricsSettingsService>().Current.Enabled);
    }

    [Fact]
    public async Task StartupCheck_AnUnprotectedEndpointUnderThePrefix_FailsTheStart()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => TestApp.StartAsync(
            map: (app, group) => app.MapGet("/tokenmetrics/api/leak", () => "secret").WithDisplayName("leak")));
        Assert.Contains("leak", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartupCheck_EndpointsAddedToTheGroup_InheritItsPolicy_AndExplicitAnonymousIsAccepted()
    {
        await using var app = await TestApp.StartAsync(map: (app, group) =>
        {
            group.MapGet("/custom", () => "ok");
            group.MapGet("/public", () => "ok").AllowAnonymous();
        });
        using var denied = await app.GetAsync("/tokenmetrics/custom", user: null);
        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        using var open = await app.GetAsync("/tokenmetrics/public", user: null);
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
    }

    [Fact]
    public void StartupCheck_FindsEndpointsWithoutAuthorizationMetadata()
    {
        var plain = new RouteEndpointForTest("/tokenmetrics/x");
        var unprotected = TokenMetrics.AspNetCore.Endpoints.TokenMetricsEndpointStartupCheck.Check([plain.Endpoint], [new PathString("/tokenmetrics")]);
        Assert.Single(unprotected);
        var elsewhere = new RouteEndpointForTest("/other/x");
        Assert.Empty(TokenMetrics.AspNetCore.Endpoints.TokenMetricsEndpointStartupCheck.Check([elsewhere.Endpoint], [new PathString("/tokenmetrics")]));
    }

    [Fact]
    public async Task MapTokenMetrics_WithoutRegistration_ThrowsAClearError()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        await using var app = builder.Build();
        var ex = Assert.Throws<InvalidOperationException>(() => app.MapTokenMetrics());
        Assert.Contains("AddTokenMetricsEndpoints", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidOptions_FailAtStartup()
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => TestApp.StartAsync(o => o.MaxPageSize = 0));
        Assert.Contains("MaxPageSize", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllowAnonymous_ServesWithoutAuthentication_AndLogsAWarning()
    {
        await using var app = await TestApp.StartAsync(o => o.AllowAnonymous = true);
        using var response = await app.GetAsync("/tokenmetrics/api/overview", user: null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(app.Logs.GetSnapshot(), r => r.Level == LogLevel.Warning && r.Message.Contains("WITHOUT authorization", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutAllowAnonymous_NoWarning()
    {
        await using var app = await TestApp.StartAsync();
        Assert.DoesNotContain(app.Logs.GetSnapshot(), r => r.Message.Contains("WITHOUT authorization", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NoStore_Is503_SayingToAddOne()
    {
        await using var app = await TestApp.StartAsync(store: false);
        foreach (var route in new[] { "/tokenmetrics/api/overview", "/tokenmetrics/api/usage", "/tokenmetrics/api/sessions", "/tokenmetrics/api/sessions/x", "/tokenmetrics/api/reports/finops.csv" })
        {
            using var response = await app.GetAsync(route);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("AddSqliteStore", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TenantResolver_ForcesTheCallersConsumer_ForNonAdmins()
    {
        await using var app = await TestApp.StartAsync(o => o.TenantResolver = c => c.User.FindFirst("tenant")?.Value);
        await SampleData.SeedAsync(app.Store);

        async Task<long> CallsAsync(string? claims, string? roles, string extra = "")
        {
            using var request = TestApp.As(HttpMethod.Get, "/tokenmetrics/api/usage?" + SampleData.Range + extra, "u", roles);
            if (claims is not null)
            {
                request.Headers.Add("X-Test-Claims", claims);
            }

            using var response = await app.Client.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.Forbidden)
            {
                return -1;
            }

            var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            return json.GetProperty("totals").GetProperty("calls").GetInt64();
        }

        Assert.Equal(3, await CallsAsync("tenant=team-a", null));
        Assert.Equal(3, await CallsAsync("tenant=team-a", null, "&consumer=team-b"));   // asking for another tenant does not widen it
        Assert.Equal(-1, await CallsAsync(null, null));                                 // no tenant: refused
        Assert.Equal(6, await CallsAsync(null, TestApp.Admin));                         // admins see everything
        Assert.Equal(2, await CallsAsync(null, TestApp.Admin, "&consumer=team-b"));
    }

    private sealed class RouteEndpointForTest(string pattern)
    {
        public Microsoft.AspNetCore.Routing.RouteEndpoint Endpoint { get; } = new(
            _ => Task.CompletedTask, Microsoft.AspNetCore.Routing.Patterns.RoutePatternFactory.Parse(pattern), 0, EndpointMetadataCollection.Empty, pattern);
    }
}
