using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Running;

// The dashboard benchmark's 1,000,000-record databases take minutes to generate: build the cache first, outside any timeout.
if (args is ["--prepare-dashboard-data"])
{
    TokenMetrics.Benchmarks.Storage.DashboardQueryBenchmark.Prepare();
    return;
}

// The Higress ingest memory check needs a large log: --generate-higress-log PATH MEGABYTES.
if (args is ["--generate-higress-log", var logPath, var megabytes])
{
    var lines = TokenMetrics.Benchmarks.HigressLogGenerator.Write(logPath, long.MaxValue, long.Parse(megabytes, System.Globalization.CultureInfo.InvariantCulture) << 20);
    Console.WriteLine($"{logPath}: {lines} lines");
    return;
}

// Issue 16's load test (not a BenchmarkDotNet run): --load-test [--calls N] [--callers N] [--out FILE] (see Load/LoadTest.cs).
if (args is ["--load-test", ..])
{
    Environment.ExitCode = await TokenMetrics.Benchmarks.Load.LoadTest.RunAsync(args);
    return;
}

// Issue 16's peer table in CPU time per call (all threads), for a loaded machine: --peer-cpu [--rounds N] [--out FILE].
if (args is ["--peer-cpu", ..])
{
    Environment.ExitCode = await TokenMetrics.Benchmarks.Http.PeerCpuTable.RunAsync(args);
    return;
}

// One class per feature; compare Ratio and Alloc Ratio, not absolute numbers (results in benchmarks/results/).
var config = ManualConfig.Create(DefaultConfig.Instance)
    .AddDiagnoser(MemoryDiagnoser.Default);
BenchmarkSwitcher.FromAssembly(typeof(TokenMetrics.Benchmarks.HigressIngestBenchmark).Assembly).Run(args, config);
