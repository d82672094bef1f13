using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using StackExchange.Redis;

namespace TokenMetrics.Budgets.Redis.Tests;

/// <summary>Two OS processes (tests/TokenMetrics.Budgets.Redis.LoadClient), 25 callers each, hold one per-minute token
/// budget in a shared Redis.</summary>
[Collection(RedisCollection.Name)]
public sealed partial class SharedAcrossProcessesTests(RedisServerFixture fixture)
{
    [Fact]
    public async Task TwoProcessesSharingRedisHoldOnePerMinuteBudget()
    {
        const long Amount = 7, Limit = 1000;
        var counter = "tpm:shared:" + Guid.NewGuid().ToString("N")[..8];
        var processes = new[] { StartClient(counter, Amount, Limit), StartClient(counter, Amount, Limit) };
        try
        {
            foreach (var p in processes)
            {
                await ReadLineAsync(p, "READY");
            }

            // A window's counter expires when its minute ends, so one that ended just before the read-back below would be gone.
            // Start the run with at least 15 s of the current minute left on Redis's clock (the run takes about a second).
            await using (var clock = await ConnectionMultiplexer.ConnectAsync(fixture.Server.ConnectionString))
            {
                var now = await clock.GetServer(clock.GetEndPoints()[0]).TimeAsync();
                var left = TimeSpan.FromMinutes(1) - TimeSpan.FromTicks(now.Ticks % TimeSpan.TicksPerMinute);
                if (left < TimeSpan.FromSeconds(15))
                {
                    await Task.Delay(left + TimeSpan.FromMilliseconds(200));
                }
            }

            // Release both at once, so their callers race on the counter.
            foreach (var p in processes)
            {
                await p.StandardInput.WriteLineAsync();
                await p.StandardInput.FlushAsync();
            }

            long allowed = 0, failed = 0;
            foreach (var p in processes)
            {
                var m = ResultLine().Match(await ReadLineAsync(p, "RESULT"));
                Assert.True(m.Success);
                allowed += long.Parse(m.Groups["allowed"].Value, CultureInfo.InvariantCulture);
                failed += long.Parse(m.Groups["failed"].Value, CultureInfo.InvariantCulture);
                Assert.True(p.WaitForExit(30_000), "a load client did not exit");
                Assert.Equal(0, p.ExitCode);
            }

            Assert.Equal(0, failed);

            // The run may straddle a minute boundary: then two windows each hold at most the limit. Every window's counter is
            // read back from Redis: each within the limit, and together exactly what the processes were allowed.
            await using var direct = await ConnectionMultiplexer.ConnectAsync(fixture.Server.ConnectionString);
            var server = direct.GetServer(direct.GetEndPoints()[0]);
            var keys = server.Keys(pattern: RedisBudgetStoreOptions.DefaultKeyPrefix + "{" + counter + "}:60000:*").ToList();
            Assert.InRange(keys.Count, 1, 2);
            long total = 0;
            foreach (var key in keys)
            {
                var used = (long)await direct.GetDatabase().StringGetAsync(key);
                Assert.InRange(used, 0, Limit);
                total += used;
            }

            Assert.Equal(allowed * Amount, total);
            if (keys.Count == 1)
            {
                // 2 × 25 × 40 attempts of 7 against 1,000 in one window: exactly 142 fit.
                Assert.Equal(Limit / Amount, allowed);
            }
        }
        finally
        {
            foreach (var p in processes)
            {
                if (!p.HasExited)
                {
                    p.Kill();
                }

                p.Dispose();
            }
        }
    }

    private Process StartClient(string counter, long amount, long limit)
    {
        var testDir = AppContext.BaseDirectory;
        var configuration = testDir.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var root = new DirectoryInfo(testDir);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "TokenMetrics.sln")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        var dll = Path.Combine(root!.FullName, "tests", "TokenMetrics.Budgets.Redis.LoadClient", "bin", configuration, "net10.0", "TokenMetrics.Budgets.Redis.LoadClient.dll");
        Assert.True(File.Exists(dll), $"{dll} is built with the test project");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { dll, fixture.Server.ConnectionString, counter, amount.ToString(CultureInfo.InvariantCulture), limit.ToString(CultureInfo.InvariantCulture), "60000", "25", "40" })
        {
            info.ArgumentList.Add(a);
        }

        return Process.Start(info)!;
    }

    private static async Task<string> ReadLineAsync(Process process, string prefix)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await process.StandardOutput.ReadLineAsync(cts.Token) is { } line)
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line;
            }
        }

        throw new InvalidOperationException($"the load client ended without printing {prefix}");
    }

    [GeneratedRegex(@"^RESULT allowed=(?<allowed>\d+) denied=(?<denied>\d+) failed=(?<failed>\d+)$")]
    private static partial Regex ResultLine();
}
