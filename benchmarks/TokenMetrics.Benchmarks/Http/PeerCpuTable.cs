using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using TokenMetrics.Benchmarks.ChatClients;

namespace TokenMetrics.Benchmarks.Http;

/// <summary>The peer benchmark's cases and columns measured in process CPU time (every thread of the process: the app's calls,
/// the estimation stage, the export lanes, the GC) and allocated bytes (every thread), per call — a complement to the
/// BenchmarkDotNet run for a loaded machine, where wall-clock times swing with the other processes but CPU time does not.</summary>
/// <remarks>Runs the <see cref="PeerOverheadBenchmark"/> and <see cref="ChatClientPeerBenchmark"/> methods themselves (same setups,
/// same checks), one case after another in this process; each case's GlobalCleanup disposes its OpenTelemetry providers before
/// the next starts. Not a BenchmarkDotNet measurement: no outlier removal, no statistics beyond the median of a few rounds.</remarks>
internal static class PeerCpuTable
{
    public static async Task<int> RunAsync(string[] args)
    {
        // Pass 1 only warms every path of the process (tier-1 JIT and PGO run on background threads, and their CPU time would
        // land on whichever case runs first); pass 2 is reported.
        Console.WriteLine("Warm-up pass...");
        _ = await RunPassAsync(args);
        return await RunPassAsync(args);
    }

    private static async Task<int> RunPassAsync(string[] args)
    {
        var rounds = args.Length > 2 && args[1] == "--rounds" ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;
        var report = new StringBuilder();
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
        report.AppendLine(CultureInfo.InvariantCulture, $"`dotnet run -c Release --project benchmarks/TokenMetrics.Benchmarks -- --peer-cpu --rounds {rounds}` — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average at start `{load}`.");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Per call: process CPU time (all threads) and bytes allocated (all threads), median of {rounds} rounds of 512 calls after 2 warm-up rounds, in a second pass over all cases (the first warms the process up); \"+\" = over Bare.");
        report.AppendLine();
        report.AppendLine("| case | Bare | OpenTelemetry | TokenMetrics | TokenMetricsPipeline | Both |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|");
        string[] methods = ["Bare", "OpenTelemetry", "TokenMetrics", "TokenMetricsPipeline", "Both"];
        foreach (var vendor in Enum.GetValues<PeerVendor>())
        {
            foreach (var shape in Enum.GetValues<PeerShape>())
            {
                var cells = new List<string>();
                (double Cpu, double Bytes) bare = default;
                foreach (var method in methods)
                {
                    var bench = new PeerOverheadBenchmark { Vendor = vendor, Shape = shape };
                    var m = await MeasureAsync(bench, method, rounds, PeerOverheadBenchmark.CallsPerInvoke);
                    bare = method == "Bare" ? m : bare;
                    cells.Add(Cell(m, method == "Bare" ? default : bare));
                }

                report.AppendLine(CultureInfo.InvariantCulture, $"| {vendor} {shape} | {string.Join(" | ", cells)} |");
                Console.WriteLine(report.ToString().Split('\n')[^2]);
            }
        }

        report.AppendLine();
        report.AppendLine("| chat client | Bare | OpenTelemetry | TokenMetrics | Both |");
        report.AppendLine("|---|---:|---:|---:|---:|");
        foreach (var updates in new[] { 0, 10, 100 })
        {
            var cells = new List<string>();
            (double Cpu, double Bytes) bare = default;
            foreach (var method in new[] { "Bare", "OpenTelemetry", "TokenMetrics", "Both" })
            {
                var bench = new ChatClientPeerBenchmark { Updates = updates };
                var m = await MeasureAsync(bench, method, rounds, PeerOverheadBenchmark.CallsPerInvoke);
                bare = method == "Bare" ? m : bare;
                cells.Add(Cell(m, method == "Bare" ? default : bare));
            }

            report.AppendLine(CultureInfo.InvariantCulture, $"| {(updates == 0 ? "non-streamed" : $"{updates} updates")} | {string.Join(" | ", cells)} |");
        }

        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Load average at end `{(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a")}`.");
        Console.WriteLine();
        Console.WriteLine(report);
        if (args.Length > 0 && Array.IndexOf(args, "--out") is var i and >= 0 && i + 1 < args.Length)
        {
            await File.WriteAllTextAsync(args[i + 1], report.ToString());
        }

        return 0;
    }

    private static string Cell((double Cpu, double Bytes) m, (double Cpu, double Bytes) bare) => bare == default
        ? string.Create(CultureInfo.InvariantCulture, $"{m.Cpu:F2} µs, {m.Bytes:N0} B")
        : string.Create(CultureInfo.InvariantCulture, $"{m.Cpu:F2} µs ({m.Cpu - bare.Cpu:+0.00;-0.00}), {m.Bytes:N0} B ({m.Bytes - bare.Bytes:+0;-0})");

    private static async Task<(double Cpu, double Bytes)> MeasureAsync(object bench, string method, int rounds, int callsPerRound)
    {
        var type = bench.GetType();
        var setup = type.GetMethods().Single(x => x.GetCustomAttributes(typeof(BenchmarkDotNet.Attributes.GlobalSetupAttribute), false)
            .Cast<BenchmarkDotNet.Attributes.GlobalSetupAttribute>().Any(a => a.Targets.Contains(method)));
        var run = type.GetMethod(method)!;
        var cleanup = type.GetMethod("Cleanup")!;
        var stdout = Console.Out;
        Console.SetOut(TextWriter.Null); // the setups' check lines
        try
        {
            setup.Invoke(bench, null);
        }
        finally
        {
            Console.SetOut(stdout);
        }

        try
        {
            for (var i = 0; i < 2; i++)
            {
                await (Task<long>)run.Invoke(bench, null)!;
            }

            var cpu = new double[rounds];
            var bytes = new double[rounds];
            for (var r = 0; r < rounds; r++)
            {
                var b0 = GC.GetTotalAllocatedBytes(precise: true);
                var c0 = CpuNanoseconds();
                await (Task<long>)run.Invoke(bench, null)!;
                cpu[r] = (CpuNanoseconds() - c0) / 1000.0 / callsPerRound;
                bytes[r] = (GC.GetTotalAllocatedBytes(precise: true) - b0) / (double)callsPerRound;
            }

            Array.Sort(cpu);
            Array.Sort(bytes);
            return (cpu[rounds / 2], bytes[rounds / 2]);
        }
        finally
        {
            Console.SetOut(TextWriter.Null);
            try
            {
                cleanup.Invoke(bench, null);
            }
            finally
            {
                Console.SetOut(stdout);
            }
        }
    }

    private static long CpuNanoseconds()
    {
        // CLOCK_PROCESS_CPUTIME_ID (2): nanosecond CPU time of every thread; Process.TotalProcessorTime ticks at 10 ms here.
        if (!OperatingSystem.IsLinux() || ClockGetTime(2, out var ts) != 0)
        {
            return Process.GetCurrentProcess().TotalProcessorTime.Ticks * 100;
        }

        return (ts.Seconds * 1_000_000_000L) + ts.Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
