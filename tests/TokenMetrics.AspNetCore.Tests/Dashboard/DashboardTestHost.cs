using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace TokenMetrics.AspNetCore.Tests.Dashboard;

/// <summary>A web app with the TokenMetrics endpoints where every request is signed in (as an admin), so the dashboard's
/// own behaviour is tested apart from sign-in. <c>kestrel: true</c> listens on 127.0.0.1 on a free port (for the browser).</summary>
internal sealed class DashboardTestHost : IAsyncDisposable
{
    private DashboardTestHost(WebApplication app, string prefix)
    {
        App = app;
        Prefix = prefix;
    }

    public WebApplication App { get; }

    public string Prefix { get; }

    /// <summary>Gets the root URL of the Kestrel app, e.g. <c>http://127.0.0.1:41234</c> (Kestrel hosts only).</summary>
    public string RootUrl => App.Urls.First();

    public static async Task<DashboardTestHost> StartAsync(string prefix = "/tokenmetrics", string? pathBase = null, bool kestrel = false)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.Logging.ClearProviders();
        if (kestrel)
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }
        else
        {
            builder.WebHost.UseTestServer();
        }

        builder.Services.AddTokenMetrics();
        builder.Services.AddTokenMetricsEndpoints();
        builder.Services.AddAntiforgery();
        builder.Services.AddAuthentication(SignedInHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, SignedInHandler>(SignedInHandler.SchemeName, null);
        builder.Services.AddAuthorization();

        var app = builder.Build();
        if (pathBase is not null)
        {
            app.UsePathBase(pathBase);
        }

        app.UseAuthentication();
        app.UseAuthorization();
        app.MapTokenMetrics(prefix);
        await app.StartAsync();
        return new DashboardTestHost(app, prefix);
    }

    public HttpClient CreateClient() => App.GetTestClient();

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }

    /// <summary>Signs every request in as an admin: these tests are about the pages, not about who may see them.</summary>
    private sealed class SignedInHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "DashboardTest";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var identity = new ClaimsIdentity(
                [new Claim(ClaimTypes.Name, "dashboard-test"), new Claim(ClaimTypes.Role, "Admin"), new Claim(ClaimTypes.Role, "TokenMetrics.Admin")],
                SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
    }
}
