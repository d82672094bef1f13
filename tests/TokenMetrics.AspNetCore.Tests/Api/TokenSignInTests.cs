using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using TokenMetrics.AspNetCore.Tests.Infrastructure;

namespace TokenMetrics.AspNetCore.Tests.Api;

public sealed class TokenSignInTests : IAsyncLifetime
{
    private const string Token = "s3cret-token-for-tests-0123456789";
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(
        testAuth: false,
        services: b =>
        {
            b.Services.AddAuthentication(TokenMetricsTokenDefaults.AuthenticationScheme).AddTokenMetricsToken(o => o.Token = Token);
            b.Services.AddTokenMetrics().AddPrometheusExporter();
        },
        map: (app, group) =>
        {
            group.MapGet("/page", () => "a dashboard page");

            // Stands in for the dashboard's login page: it hands out the antiforgery field of the form.
            group.MapGet("/login-form", (IAntiforgery af, HttpContext c) => af.GetAndStoreTokens(c).RequestToken).AllowAnonymous();
        });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private (HttpClient Client, CookieJarHandler Jar) Browser()
    {
        var jar = new CookieJarHandler(_app.App.GetTestServer().CreateHandler());
        return (new HttpClient(jar) { BaseAddress = new Uri("http://localhost") }, jar);
    }

    private static async Task<HttpResponseMessage> LoginAsync(HttpClient browser, string token, string returnUrl = "/tokenmetrics/page", bool antiforgery = true)
    {
        var fields = new Dictionary<string, string> { ["token"] = token, ["returnUrl"] = returnUrl };
        if (antiforgery)
        {
            fields["__RequestVerificationToken"] = await browser.GetStringAsync("/tokenmetrics/login-form");
        }

        return await browser.PostAsync("/tokenmetrics/login", new FormUrlEncodedContent(fields));
    }

    [Fact]
    public async Task Bearer_RightToken_Is200_WrongOrNone_Is401()
    {
        async Task<HttpStatusCode> StatusAsync(string? bearer)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/tokenmetrics/api/overview");
            if (bearer is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            }

            using var response = await _app.Client.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(Token));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(Token + "x"));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(Token[..^1]));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(null));
    }

    [Fact]
    public async Task Page_Unauthenticated_RedirectsToLogin_ApiDoesNot()
    {
        var (browser, _) = Browser();
        using var page = await browser.GetAsync("/tokenmetrics/page?x=1");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Equal("/tokenmetrics/login?returnUrl=" + Uri.EscapeDataString("/tokenmetrics/page?x=1"), page.Headers.Location?.OriginalString);
        using var api = await browser.GetAsync("/tokenmetrics/api/sessions");
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [Fact]
    public async Task Login_WrongToken_IsRejected_AndSetsNoSessionCookie()
    {
        var (browser, jar) = Browser();
        using var response = await LoginAsync(browser, "wrong-token");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/tokenmetrics/login?error=1", response.Headers.Location?.OriginalString, StringComparison.Ordinal);
        Assert.DoesNotContain(jar.SetCookieHeaders, c => c.StartsWith(".TokenMetrics.Session=", StringComparison.Ordinal));
        using var api = await browser.GetAsync("/tokenmetrics/api/overview");
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [Fact]
    public async Task Login_RightToken_SetsAStrictHttpOnlyCookie_ThatOpensTheApi_WritesStillNeedCsrf()
    {
        var (browser, jar) = Browser();
        using var response = await LoginAsync(browser, Token);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/tokenmetrics/page", response.Headers.Location?.OriginalString);
        var cookie = Assert.Single(jar.SetCookieHeaders, c => c.StartsWith(".TokenMetrics.Session=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);

        Assert.Equal("a dashboard page", await browser.GetStringAsync("/tokenmetrics/page"));
        using var api = await browser.GetAsync("/tokenmetrics/api/overview");
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);

        // The cookie alone cannot change settings (a cross-site form would carry it too): the antiforgery header is required.
        using var noCsrf = await browser.PatchAsync("/tokenmetrics/api/settings", new StringContent("""{"enabled":false}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, noCsrf.StatusCode);
        var af = JsonDocument.Parse(await browser.GetStringAsync("/tokenmetrics/api/antiforgery")).RootElement;
        using var patch = new HttpRequestMessage(HttpMethod.Patch, "/tokenmetrics/api/settings") { Content = new StringContent("""{"enabled":false}""", Encoding.UTF8, "application/json") };
        patch.Headers.Add(af.GetProperty("headerName").GetString()!, af.GetProperty("token").GetString());
        using var withCsrf = await browser.SendAsync(patch);
        Assert.Equal(HttpStatusCode.OK, withCsrf.StatusCode);
        Assert.False(_app.Services.GetRequiredService<TokenMetricsSettingsService>().Current.Enabled);
    }

    [Fact]
    public async Task Login_WithoutTheAntiforgeryField_Is400()
    {
        var (browser, _) = Browser();
        using var response = await LoginAsync(browser, Token, antiforgery: false);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("//evil.example/x")]
    [InlineData("/\\evil.example")]
    [InlineData("https://evil.example/")]
    public async Task Login_ForeignReturnUrl_GoesToTheDashboardInstead(string returnUrl)
    {
        var (browser, _) = Browser();
        using var response = await LoginAsync(browser, Token, returnUrl);
        Assert.Equal("/tokenmetrics/", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task OneTimeLink_SignsInOnce()
    {
        var ticket = _app.Services.GetRequiredService<TokenMetricsSignInLinks>().Create();
        var (first, _) = Browser();
        using var ok = await first.GetAsync("/tokenmetrics/login/link?ticket=" + ticket);
        Assert.Equal("/tokenmetrics/", ok.Headers.Location?.OriginalString);
        using var api = await first.GetAsync("/tokenmetrics/api/overview");
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);

        var (second, _) = Browser();
        using var again = await second.GetAsync("/tokenmetrics/login/link?ticket=" + ticket);
        Assert.Equal("/tokenmetrics/login?error=1", again.Headers.Location?.OriginalString);
        using var denied = await second.GetAsync("/tokenmetrics/api/overview");
        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);

        using var unknown = await second.GetAsync("/tokenmetrics/login/link?ticket=made-up");
        Assert.Equal("/tokenmetrics/login?error=1", unknown.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Bearer_ChangesSettingsWithoutCsrf_AsAdmin()
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, "/tokenmetrics/api/settings") { Content = new StringContent("""{"samplingRatio":0.5,"reason":"curl"}""", Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var response = await _app.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0.5, _app.Services.GetRequiredService<TokenMetricsSettingsService>().Current.SamplingRatio);
        Assert.Contains(_app.Logs.GetSnapshot(), r => r.Message.Contains("TokenMetrics token via TokenMetrics API: curl", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Metrics_ServesThePrometheusText_ToAuthenticatedCallersOnly()
    {
        using var anonymous = await _app.Client.GetAsync("/tokenmetrics/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/tokenmetrics/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var response = await _app.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("# TYPE", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
