using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace TokenMetrics.Tests.Delivery;

/// <summary>kill -9 while the backend is down: after a restart, every record that had been spooled is delivered, exactly once.</summary>
public sealed class CrashTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tm-crash-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task KilledWhileBackendIsDown_RestartReplaysEverySpooledRecord()
    {
        const int Count = 1000;
        Directory.CreateDirectory(_dir);
        var spool = Path.Combine(_dir, "spool");
        var idsFile = Path.Combine(_dir, "ids.txt");
        var received = new ConcurrentDictionary<string, int>();
        var up = false;
        using var listener = StartBackend(received, () => up, out var url);

        // 1. Record while the backend answers 503, then SIGKILL: no shutdown, no flush.
        using (var producer = StartHarness($"produce \"{spool}\" {url} {Count} \"{idsFile}\""))
        {
            var ready = await ReadLineAsync(producer, "READY", TimeSpan.FromSeconds(60));
            output.WriteLine("producer: " + ready);
            producer.Kill(entireProcessTree: true);
            await producer.WaitForExitAsync();
            Assert.Contains($"spilled={Count}", ready, StringComparison.Ordinal);
        }

        Assert.Empty(received);
        var ids = File.ReadAllLines(idsFile).Where(l => l.Length > 0).ToHashSet();
        Assert.Equal(Count, ids.Count);

        // 2. The backend recovers; a new process replays the spool at start-up.
        up = true;
        using (var replayer = StartHarness($"replay \"{spool}\" {url}"))
        {
            var done = await ReadLineAsync(replayer, "DONE", TimeSpan.FromSeconds(60));
            output.WriteLine("replayer: " + done);
            await replayer.WaitForExitAsync();
            Assert.Equal(0, replayer.ExitCode);
        }

        output.WriteLine($"recorded {Count}, spooled before kill {Count}, delivered after restart {received.Count}, duplicates {received.Values.Count(n => n > 1)}");
        Assert.Equal(ids, received.Keys.ToHashSet());
        Assert.All(received.Values, n => Assert.Equal(1, n));
        Assert.Empty(Directory.GetFiles(Path.Combine(spool, "PostExporter"), "*.spool"));
    }

    private static HttpListener StartBackend(ConcurrentDictionary<string, int> received, Func<bool> isUp, out string url)
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        url = $"http://127.0.0.1:{port}/ingest/";
        var listener = new HttpListener();
        listener.Prefixes.Add(url);
        listener.Start();
        _ = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception) when (!listener.IsListening)
                {
                    return;
                }

                using var reader = new StreamReader(context.Request.InputStream);
                var body = await reader.ReadToEndAsync();
                if (isUp())
                {
                    foreach (var id in body.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                    {
                        received.AddOrUpdate(id, 1, (_, n) => n + 1);
                    }

                    context.Response.StatusCode = 200;
                }
                else
                {
                    context.Response.StatusCode = 503;
                }

                context.Response.Close();
            }
        });
        return listener;
    }

    private static Process StartHarness(string arguments)
    {
        var testDir = AppContext.BaseDirectory;
        var configuration = testDir.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var root = new DirectoryInfo(testDir);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "TokenMetrics.sln")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        var dll = Path.Combine(root!.FullName, "tests", "TokenMetrics.CrashHarness", "bin", configuration, "net10.0", "TokenMetrics.CrashHarness.dll");
        Assert.True(File.Exists(dll), $"{dll} is built with the test project");
        var info = new ProcessStartInfo("dotnet", $"\"{dll}\" {arguments}") { RedirectStandardOutput = true, UseShellExecute = false };
        return Process.Start(info)!;
    }

    private static async Task<string> ReadLineAsync(Process process, string prefix, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (await process.StandardOutput.ReadLineAsync(cts.Token) is { } line)
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line;
            }
        }

        throw new InvalidOperationException($"the child process ended without printing {prefix}");
    }
}
