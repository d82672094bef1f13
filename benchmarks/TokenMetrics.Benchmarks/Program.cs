using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Running;

// The dashboard benchmark's 1,000,000-record databases take minutes to generate: build the cache first, outside any timeout.
if (args is ["--prepare-dashboard-data"])
{
    TokenMetrics.Benchmarks.Storage.DashboardQueryBenchmark.Prepare();
    return;
}

// One class per feature; compare Ratio and Alloc Ratio, not absolute numbers (results in benchmarks/results/).
var config = ManualConfig.Create(DefaultConfig.Instance)
    .AddDiagnoser(MemoryDiagnoser.Default);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
