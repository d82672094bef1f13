using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TokenMetrics.Testing;

namespace TokenMetrics.Demo;

/// <summary>The default mode: the mock LLM server, a background load through the real SDKs, and the TokenMetrics dashboard
/// and API on 127.0.0.1 until Ctrl+C or SIGTERM.</summary>
internal static class DashboardHost
{
    private const string Prefix = "/tokenmetrics";

    public static async Task<int> RunAsync(DemoOptions options)
    {
        await using var mock = await MockLlmServer.StartAsync();

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [.. options.HostArgs] });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);   // a busy port: one line below, no stack

        // Loopback only, whatever ASPNETCORE_URLS says: the demo's token is printed on the console.
        var prometheusPort = int.TryParse(builder.Configuration["Demo:PrometheusPort"], NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 0;
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, options.Port);
            if (prometheusPort > 0)
            {
                k.Listen(IPAddress.Loopback, prometheusPort);
            }
        });

        // The Prometheus exporter feeds {prefix}/metrics (signed in) and, with --Demo:PrometheusPort, a scrape port of its own.
        DemoMetering.Add(builder.Services, builder.Configuration, mock.BaseAddress, options.DatabasePath).AddPrometheusExporter();

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(mock);
        builder.Services.AddSingleton<LoadGenerator>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LoadGenerator>());
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        ConfigureDashboard(builder, options.Token);

        await using var app = builder.Build();
        MapDashboard(app);
        app.MapGet("/", () => Results.Redirect(Prefix + "/")).ExcludeFromDescription();
        if (prometheusPort > 0)
        {
            // The old --Demo:PrometheusPort scrape, on its own loopback port and without the dashboard's sign-in.
            app.MapTokenMetricsPrometheus("/metrics", allowAnonymous: true).RequireHost("*:" + prometheusPort.ToString(CultureInfo.InvariantCulture));
        }

        // Synthetic history first, so the first look at the dashboard already has days of shape.
        var history = await HistoryBackfill.RunAsync(app.Services.GetRequiredService<ITokenUsageStore>(), options.HistoryDays, CancellationToken.None);

        try
        {
            await app.StartAsync();
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"Cannot listen on 127.0.0.1:{options.Port} ({ex.Message}). Try --port 0 for a free port.");
            return 1;
        }

        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First(a => prometheusPort == 0 || !a.EndsWith(":" + prometheusPort.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal))).Port;
        var root = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}{Prefix}/";

        // The three lines below are a contract: the dashboard's browser test starts the demo and parses them.
        Console.WriteLine($"Dashboard: {root}");
        Console.WriteLine($"Sign-in link: {root}login/link?ticket={CreateSignInTicket(app.Services)}");
        Console.WriteLine($"API token: {options.Token}");
        Console.WriteLine($"Try: curl -s -H \"Authorization: Bearer {options.Token}\" \"{root}api/overview\"");
        Console.WriteLine(history);
        Console.WriteLine($"Mock LLM server: {mock.BaseAddress} (OpenAI, Anthropic, Gemini, DashScope wire formats). Load: {Describe(options.Rate)}.");
        if (prometheusPort > 0)
        {
            Console.WriteLine($"Prometheus metrics: http://127.0.0.1:{prometheusPort.ToString(CultureInfo.InvariantCulture)}/metrics");
        }

        Console.WriteLine($"Data: {Path.GetFullPath(options.DatabasePath)}. Press Ctrl+C to stop.");
        app.Services.GetRequiredService<LoadGenerator>().Begin();

        // Ctrl+C and SIGTERM end this wait (the host's console lifetime); the load generator stops before the mock goes away.
        await app.WaitForShutdownAsync();
        Console.WriteLine($"Stopped. {app.Services.GetRequiredService<LoadGenerator>().Summary}");
        return 0;
    }

    // ---------------------------------------------------------------------------------------------------------------------
    // Dashboard wiring: the only place the demo touches the TokenMetrics.AspNetCore sign-in and endpoints.
    // ---------------------------------------------------------------------------------------------------------------------

    /// <summary>Registers the TokenMetrics endpoints and the built-in token sign-in, so <c>Authorization: Bearer {token}</c> works
    /// for curl and the login page / one-time link for a browser.</summary>
    private static void ConfigureDashboard(WebApplicationBuilder builder, string token)
    {
        builder.Services.AddTokenMetricsEndpoints();
        builder.Services.AddAuthentication(TokenMetricsTokenDefaults.AuthenticationScheme)
            .AddTokenMetricsToken(o => o.Token = token);
        builder.Services.AddAuthorization();
    }

    /// <summary>Maps the dashboard and API under <see cref="Prefix"/>.</summary>
    private static void MapDashboard(WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapTokenMetrics(Prefix);
    }

    /// <summary>A one-time sign-in ticket for the printed link.</summary>
    private static string CreateSignInTicket(IServiceProvider services) =>
        services.GetRequiredService<TokenMetricsSignInLinks>().Create();

    private static string Describe(double rate) =>
        rate > 0 ? $"about {rate.ToString("0.##", CultureInfo.InvariantCulture)} calls/s after a first burst" : "the first burst only (--rate 0)";
}
