using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace TokenMetrics.Exporters.Tests.Prometheus;

/// <summary>The scrape endpoint is secure by default: anonymous callers are refused, authenticated scrapers are served.</summary>
public sealed class ScrapeEndpointAuthorizationTests
{
    private const string Token = "scrape-token-123";

    /// <summary>A bearer-token scheme standing in for whatever the app uses.</summary>
    private sealed class ScraperAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
            Task.FromResult(Request.Headers.Authorization.ToString() == "Bearer " + Token
                ? AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "prometheus")], "Scraper")), "Scraper"))
                : AuthenticateResult.NoResult());
    }

    private static async Task<(WebApplication App, Uri Address)> StartAsync(bool withAuth)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddTokenMetrics(o => o.MeterName = "ScrapeAuth." + Guid.NewGuid().ToString("N")).RemoveMeterExporter().AddPrometheusExporter();
        if (withAuth)
        {
            builder.Services.AddAuthentication("Scraper").AddScheme<AuthenticationSchemeOptions, ScraperAuthentication>("Scraper", null);
            builder.Services.AddAuthorization();
        }

        var app = builder.Build();
        if (withAuth)
        {
            app.UseAuthentication();
            app.UseAuthorization();
        }

        app.MapTokenMetricsPrometheus();
        await app.StartAsync();
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        return (app, new Uri($"http://127.0.0.1:{port}/metrics"));
    }

    [Fact]
    public async Task Anonymous_IsRefused_AuthenticatedScraper_IsServed()
    {
        var (app, address) = await StartAsync(withAuth: true);
        await using var _ = app;
        using var http = new HttpClient();

        using (var anonymous = await http.GetAsync(address))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, address);
        request.Headers.Authorization = new("Bearer", Token);
        using var scraper = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, scraper.StatusCode);
        Assert.Contains("# TYPE", await scraper.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutAuthorizationServices_TheEndpointFailsClosed()
    {
        var (app, address) = await StartAsync(withAuth: false);
        await using var _ = app;
        using var http = new HttpClient();

        using var response = await http.GetAsync(address);

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("tokenmetrics_", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
