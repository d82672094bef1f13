using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TokenMetrics.Storage.Tests;

/// <summary>A private PostgreSQL server: initdb + pg_ctl from Debian's postgresql package in a temp directory, on
/// 127.0.0.1 and a free port; run as the unprivileged <c>postgres</c> (or <c>nobody</c>) user when the process runs as
/// root. Stopped and deleted on dispose. Missing binaries throw (tests fail, never skip). Also linked into the benchmarks.</summary>
public sealed class PostgreSqlTestServer : IAsyncDisposable
{
    private string? _root;
    private string? _binDir;
    private string? _runAs;

    /// <summary>Gets the connection string of the server's <c>postgres</c> database (trust authentication on loopback, tests only).</summary>
    public string ConnectionString { get; private set; } = string.Empty;

    /// <summary>Starts a server.</summary>
    /// <returns>The running server.</returns>
    public static async Task<PostgreSqlTestServer> StartAsync()
    {
        var server = new PostgreSqlTestServer();
        try
        {
            await server.InitializeAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private async Task InitializeAsync()
    {
        _binDir = FindBinDir() ?? throw new InvalidOperationException(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found under /usr/lib/postgresql/*/bin. " +
            "Run `bash scripts/test.sh` (it installs the Debian `postgresql` package from scripts/services.d/postgresql.sh) " +
            "or `sudo apt-get install postgresql`, then run the tests again.");

        _root = Path.Combine(Path.GetTempPath(), "tokenmetrics-pg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);
        if (Environment.IsPrivilegedProcess)
        {
            // initdb refuses to run as root: hand the directory to an unprivileged user and run the server as that user.
            _runAs = await RunAsync("id", ["-u", "postgres"], null, throwOnError: false) is { ExitCode: 0 } ? "postgres" : "nobody";
            await RunAsync("chown", ["-R", _runAs, _root], null);
        }

        var data = Path.Combine(_root, "data");
        var port = FreePort();
        await RunAsync(Path.Combine(_binDir, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"], _runAs);
        await RunAsync(Path.Combine(_binDir, "pg_ctl"),
        [
            "-D", data, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "60",
            "-o", $"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={_root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            "start",
        ], _runAs);
        ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=50";
    }

    /// <summary>Stops the server and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_root is null)
        {
            return;
        }

        try
        {
            if (_binDir is not null && Directory.Exists(Path.Combine(_root, "data")))
            {
                Npgsql.NpgsqlConnection.ClearAllPools();
                await RunAsync(Path.Combine(_binDir, "pg_ctl"), ["-D", Path.Combine(_root, "data"), "-m", "fast", "-w", "stop"], _runAs, throwOnError: false);
            }
        }
        finally
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static string? FindBinDir()
    {
        const string Base = "/usr/lib/postgresql";
        if (!Directory.Exists(Base))
        {
            return null;
        }

        return Directory.GetDirectories(Base)
            .Select(d => Path.Combine(d, "bin"))
            .Where(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
            .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var v) ? v : 0)
            .FirstOrDefault();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string[] args, string? runAs, bool throwOnError = true)
    {
        var start = new ProcessStartInfo(runAs is null ? file : "runuser")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (runAs is not null)
        {
            foreach (var a in new[] { "-u", runAs, "--", file })
            {
                start.ArgumentList.Add(a);
            }
        }

        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var output = await stdout + await stderr;
        if (throwOnError && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"`{file} {string.Join(' ', args)}` exited with {process.ExitCode}: {output}");
        }

        return (process.ExitCode, output);
    }
}
