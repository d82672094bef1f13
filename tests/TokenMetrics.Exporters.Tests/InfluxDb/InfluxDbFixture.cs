using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using TokenMetrics.Exporters.Tests.Infrastructure;

namespace TokenMetrics.Exporters.Tests.InfluxDb;

/// <summary>A real influxd (1.x) on 127.0.0.1, free ports, temp dir, reporting off, authentication on (admin user created at start).</summary>
public sealed class InfluxDbFixture : IAsyncLifetime
{
    public const string User = "tm_admin";
    public const string Password = "s3cret-pa55word";

    private ServerProcess? _server;
    private string? _dir;

    public Uri Endpoint { get; private set; } = null!;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };

    public async Task InitializeAsync()
    {
        var influxd = Servers.RequireBinary("influxd", "influxdb");
        _dir = Servers.NewTempDirectory("tm-influxd");
        var port = Servers.FreePort();
        var rpcPort = Servers.FreePort();
        var config = Path.Combine(_dir, "influxdb.conf");
        await File.WriteAllTextAsync(config, $"""
            reporting-disabled = true
            bind-address = "127.0.0.1:{rpcPort}"
            [meta]
              dir = "{_dir}/meta"
            [data]
              dir = "{_dir}/data"
              wal-dir = "{_dir}/wal"
              query-log-enabled = false
            [http]
              enabled = true
              bind-address = "127.0.0.1:{port}"
              auth-enabled = true
              log-enabled = false
            [monitor]
              store-enabled = false
            [continuous_queries]
              enabled = false
            [subscriber]
              enabled = false
            """);
        _server = new ServerProcess(influxd, ["run", "-config", config], _dir);
        Endpoint = new Uri($"http://127.0.0.1:{port}/");
        var ready = await Servers.WaitUntilAsync(async () => (await Http.GetAsync(new Uri(Endpoint, "ping"))).IsSuccessStatusCode, TimeSpan.FromSeconds(30));
        Assert.True(ready, $"influxd did not answer /ping in 30 s: {_server.Output}");

        // With auth on and no users yet, InfluxDB allows exactly this unauthenticated statement.
        await QueryAsync($"CREATE USER {User} WITH PASSWORD '{Password}' WITH ALL PRIVILEGES", authenticate: false);
    }

    public async Task<JsonElement> QueryAsync(string influxQl, string? database = null, bool authenticate = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Endpoint, "query?epoch=ns" + (database is null ? "" : "&db=" + Uri.EscapeDataString(database))))
        {
            Content = new FormUrlEncodedContent([new("q", influxQl)]),
        };
        if (authenticate)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}")));
        }

        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{influxQl}: {(int)response.StatusCode} {text}");
        using var json = JsonDocument.Parse(text);
        var result = json.RootElement.GetProperty("results")[0];
        Assert.False(result.TryGetProperty("error", out var error), $"{influxQl}: {error}");
        return result.Clone();
    }

    /// <summary>Rows of the first series as column → value maps.</summary>
    public async Task<List<Dictionary<string, JsonElement>>> SelectAsync(string database, string influxQl)
    {
        var result = await QueryAsync(influxQl, database);
        var rows = new List<Dictionary<string, JsonElement>>();
        if (!result.TryGetProperty("series", out var series))
        {
            return rows;
        }

        foreach (var s in series.EnumerateArray())
        {
            var columns = s.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToArray();
            foreach (var values in s.GetProperty("values").EnumerateArray())
            {
                var row = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
                var i = 0;
                foreach (var v in values.EnumerateArray())
                {
                    row[columns[i++]] = v.Clone();
                }

                rows.Add(row);
            }
        }

        return rows;
    }

    public async Task<string> CreateDatabaseAsync()
    {
        var name = "tm_" + Guid.NewGuid().ToString("N")[..12];
        await QueryAsync($"CREATE DATABASE {name}");
        return name;
    }

    public Task DisposeAsync()
    {
        Http.Dispose();
        _server?.Dispose();
        if (_dir is not null)
        {
            try
            {
                Directory.Delete(_dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        return Task.CompletedTask;
    }
}
