using System.Diagnostics;

namespace TokenMetrics.AspNetCore.Tests.Dashboard;

/// <summary>The demo sample running as its own process, as a user starts it: <c>dotnet TokenMetrics.Demo.dll --port 0
/// --token T --data DIR</c>. Reads the lines it prints (<c>Dashboard:</c>, <c>Sign-in link:</c>, <c>API token:</c>) and kills
/// the process and its data folder at the end.</summary>
internal sealed class DemoProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly DirectoryInfo _data;

    private DemoProcess(Process process, DirectoryInfo data, string dashboardUrl, string signInLink, string token)
    {
        _process = process;
        _data = data;
        DashboardUrl = dashboardUrl;
        SignInLink = signInLink;
        Token = token;
    }

    /// <summary>Gets the dashboard URL the demo printed, e.g. <c>http://127.0.0.1:PORT/tokenmetrics/</c>.</summary>
    public string DashboardUrl { get; }

    /// <summary>Gets the one-time sign-in link the demo printed.</summary>
    public string SignInLink { get; }

    /// <summary>Gets the API token the demo printed (works as <c>Authorization: Bearer</c>).</summary>
    public string Token { get; }

    /// <summary>Gets <c>http://127.0.0.1:PORT</c>.</summary>
    public string RootUrl => new Uri(DashboardUrl).GetLeftPart(UriPartial.Authority);

    /// <summary>Gets the demo's built entry assembly, beside this test's configuration (the test project builds it).</summary>
    public static string DemoDll
    {
        get
        {
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)); // .../bin/Release/net10.0
            var configuration = output.Parent!.Name;
            var root = output;
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "TokenMetrics.sln")))
            {
                root = root.Parent;
            }

            Assert.True(root is not null, "TokenMetrics.sln not found above " + AppContext.BaseDirectory);
            return Path.Combine(root.FullName, "samples", "TokenMetrics.Demo", "bin", configuration, output.Name, "TokenMetrics.Demo.dll");
        }
    }

    public static async Task<DemoProcess> StartAsync()
    {
        var dll = DemoDll;
        Assert.True(File.Exists(dll), $"The demo is not built: {dll} (build samples/TokenMetrics.Demo in the same configuration).");
        var token = "browser-test-" + Guid.NewGuid().ToString("N");
        var data = Directory.CreateTempSubdirectory("tokenmetrics-demo-");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = data.FullName,
        };
        foreach (var argument in new[] { dll, "--port", "0", "--token", token, "--data", data.FullName })
        {
            start.ArgumentList.Add(argument);
        }

        var output = new List<string>();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        string? dashboard = null, link = null, printedToken = null;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.Add(e.Data);
                dashboard ??= Value(e.Data, "Dashboard: ");
                link ??= Value(e.Data, "Sign-in link: ");
                printedToken ??= Value(e.Data, "API token: ");
                if (dashboard is not null && link is not null && printedToken is not null)
                {
                    ready.TrySetResult();
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.Add("stderr: " + e.Data);
                }
            }
        };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("The demo exited before printing its dashboard URL."));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var demo = new DemoProcess(process, data, "", "", token);
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(120));
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
        {
            await demo.DisposeAsync();
            string printed;
            lock (output)
            {
                printed = string.Join(Environment.NewLine, output);
            }

            Assert.Fail($"The demo did not print 'Dashboard:', 'Sign-in link:' and 'API token:' ({ex.Message}). It printed:{Environment.NewLine}{printed}");
        }

        Assert.Equal(token, printedToken);
        return new DemoProcess(process, data, dashboard!, link!, token);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
        try
        {
            _data.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A file still held open for a moment; the temp folder is cleaned by the OS.
        }
    }

    private static string? Value(string line, string prefix) =>
        line.StartsWith(prefix, StringComparison.Ordinal) ? line[prefix.Length..].Trim() : null;
}
