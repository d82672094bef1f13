using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace TokenMetrics.AspNetCore.Tests.Infrastructure;

/// <summary>An ASP.NET Core app on a TestServer with TokenMetrics, a SQLite store in a temporary directory, the test authentication
/// scheme (<see cref="TestAuthHandler"/>) and <c>MapTokenMetrics()</c>.</summary>
public sealed class TestApp : IAsyncDisposable
{
    public const string Admin = TokenMetricsEndpointOptions.DefaultAdminRole;

    private readonly string _directory;

    private TestApp(WebApplication app, string directory)
    {
        App = app;
        _directory = directory;
        Client = app.GetTestClient();
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => App.Services;

    public ITokenUsageStore Store => Services.GetRequiredService<ITokenUsageStore>();

    public FakeLogCollector Logs => Services.GetFakeLogCollector();

    public static async Task<TestApp> StartAsync(
        Action<TokenMetricsEndpointOptions>? endpoints = null,
        Action<WebApplicationBuilder>? services = null,
        Action<WebApplication, RouteGroupBuilder>? map = null,
        bool store = true,
        bool testAuth = true)
    {
        var directory = Path.Combine(Path.GetTempPath(), "tm-api-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders().AddFakeLogging().SetMinimumLevel(LogLevel.Information);
        var tm = builder.Services.AddTokenMetrics(o => o.ExportInterval = TimeSpan.FromMilliseconds(50));
        if (store)
        {
            tm.AddSqliteStore(o => o.DatabasePath = Path.Combine(directory, "usage.db"));
        }

        if (testAuth)
        {
            builder.Services.AddAuthentication(TestAuthHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, TestAuthHandler>(TestAuthHandler.SchemeName, null);
        }

        builder.Services.AddTokenMetricsEndpoints(endpoints);
        services?.Invoke(builder);
        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        var group = app.MapTokenMetrics();
        map?.Invoke(app, group);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new TestApp(app, directory);
    }

    /// <summary>A request as a signed-in user (test scheme), optionally with roles.</summary>
    public static HttpRequestMessage As(HttpMethod method, string url, string? user = "reader", string? roles = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (user is not null)
        {
            request.Headers.Add("X-Test-User", user);
        }

        if (roles is not null)
        {
            request.Headers.Add("X-Test-Roles", roles);
        }

        return request;
    }

    public async Task<HttpResponseMessage> GetAsync(string url, string? user = "reader", string? roles = null) =>
        await Client.SendAsync(As(HttpMethod.Get, url, user, roles));

    public async Task<JsonElement> GetJsonAsync(string url, string? user = "reader", string? roles = null)
    {
        using var response = await GetAsync(url, user, roles);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {url}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>An antiforgery cookie + request token for <paramref name="user"/>, as the dashboard gets them from <c>GET api/antiforgery</c>.</summary>
    public async Task<(string Cookie, string Token)> AntiforgeryAsync(string user = "admin", string? roles = Admin)
    {
        using var response = await GetAsync("/tokenmetrics/api/antiforgery", user, roles);
        response.EnsureSuccessStatusCode();
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(TokenMetricsEndpointOptions.CsrfHeaderName, json.GetProperty("headerName").GetString());
        var cookie = string.Join("; ", response.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));
        return (cookie, json.GetProperty("token").GetString()!);
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // SQLite may still hold the file briefly on some systems; the temp directory is cleaned by the OS.
        }
    }
}
