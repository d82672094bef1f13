using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TokenMetrics.Budgets.Redis.Tests;

/// <summary>A private <c>redis-server</c> (Debian's redis-server package) on 127.0.0.1 and a free port, without persistence,
/// in a temporary directory; it can be killed and started again on the same port. Missing binaries throw (tests fail, never
/// skip). Also linked into the benchmarks.</summary>
public sealed class RedisTestServer : IAsyncDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tokenmetrics-redis-" + Guid.NewGuid().ToString("N"));
    private Process? _process;

    private RedisTestServer(int port)
    {
        Port = port;
    }

    /// <summary>Gets the port the server listens on.</summary>
    public int Port { get; }

    /// <summary>Gets a StackExchange.Redis configuration string for the server.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Finds <c>redis-server</c> on the PATH or in /usr/bin, or <see langword="null"/>.</summary>
    /// <returns>The path of the binary.</returns>
    public static string? FindBinary()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Append("/usr/bin").Append("/usr/sbin"))
        {
            var path = Path.Combine(dir, "redis-server");
            if (dir.Length > 0 && File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    /// <summary>Starts a server on a free port.</summary>
    /// <returns>The running server.</returns>
    public static async Task<RedisTestServer> StartAsync()
    {
        var server = new RedisTestServer(FreePort());
        Directory.CreateDirectory(server._dir);
        try
        {
            await server.RestartAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server again on the same port (after <see cref="Kill"/>) and waits until it answers PING.</summary>
    /// <returns>A task that completes when the server answers.</returns>
    public async Task RestartAsync()
    {
        var binary = FindBinary() ?? throw new InvalidOperationException(
            "redis-server was not found. Run `bash scripts/test.sh` (it installs the Debian `redis-server` package from " +
            "scripts/services.d/redis.sh) or `sudo apt-get install redis-server`, then run the tests again.");
        var info = new ProcessStartInfo(binary)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _dir,
        };
        foreach (var a in new[]
        {
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", string.Empty, "--appendonly", "no", "--dir", _dir, "--logfile", Path.Combine(_dir, "redis.log"),
            "--daemonize", "no", "--protected-mode", "yes",
        })
        {
            info.ArgumentList.Add(a);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += static (_, _) => { };
        _process.ErrorDataReceived += static (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        // Bounded wait for readiness: up to 30 s in 50 ms steps.
        for (var i = 0; i < 600; i++)
        {
            if (_process.HasExited)
            {
                var log = Path.Combine(_dir, "redis.log");
                throw new InvalidOperationException("redis-server exited: " + (File.Exists(log) ? await File.ReadAllTextAsync(log) : "(no log)"));
            }

            if (await PingAsync(Port))
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new InvalidOperationException("redis-server did not answer PING within 30 s");
    }

    /// <summary>Kills the server (SIGKILL), as a crash or a network loss would.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(30_000);
        }
    }

    /// <summary>Kills the server and deletes its directory.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }

    private static async Task<bool> PingAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await client.ConnectAsync(IPAddress.Loopback, port, cts.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cts.Token);
            var buffer = new byte[16];
            var n = await stream.ReadAsync(buffer, cts.Token);
            return Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
