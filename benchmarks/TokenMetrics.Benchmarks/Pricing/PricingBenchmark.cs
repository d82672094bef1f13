using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;

namespace TokenMetrics.Benchmarks.Pricing;

/// <summary>Pricing per record: a cached model lookup plus the cost arithmetic (goal: ≤ 200 ns, 0 B), and cold lookups
/// (the first record of a model name: the matching rules run once, then the result is cached).</summary>
[MemoryDiagnoser]
public class PricingBenchmark
{
    private readonly TokenUsage _usage = new()
    {
        InputTokenCount = 12_000,
        CachedInputTokenCount = 8_000,
        CacheWriteInputTokenCount = 2_000,
        OutputTokenCount = 800,
        ReasoningTokenCount = 300,
    };

    private readonly TokenMetricsSettings _settings = TokenMetricsSettings.Default;
    private TokenUsagePriceCatalog _catalog = null!;
    private TokenUsagePricer _pricer = null!;
    private TokenUsageRecord _record = null!;

    [GlobalSetup]
    public void Setup()
    {
        _catalog = TokenUsagePriceCatalog.Default;
        _pricer = new TokenUsagePricer(new TokenMetricsPricingOptions(), TimeProvider.System, NullLogger.Instance, (_, _) => { });
        _record = new TokenUsageRecord
        {
            Provider = "anthropic",
            RequestModel = "claude-sonnet-4-5",
            ResponseModel = "claude-sonnet-4-5-20250929",
            Usage = _usage,
            Source = TokenUsageSource.Reported,
        };
        _ = _catalog.Resolve("claude-sonnet-4-5-20250929", "anthropic");
        _pricer.Apply(_record, _settings);
    }

    [GlobalCleanup]
    public void Cleanup() => _pricer.Dispose();

    /// <summary>The step in <c>Deliver</c>: resolve the record's model (cached) and price it in place.</summary>
    [Benchmark(Baseline = true)]
    public decimal? CachedModel_PriceRecord()
    {
        _record.SetCost(null, null, null); // Apply leaves priced records alone; start each call unpriced
        _pricer.Apply(_record, _settings);
        return _record.Cost;
    }

    /// <summary>The public API: <see cref="TokenUsagePriceCatalog.Resolve"/> (cached) and <see cref="TokenUsagePrice.ComputeCost"/>.</summary>
    [Benchmark]
    public decimal? CachedModel_ResolveAndCost() => _catalog.Resolve("claude-sonnet-4-5-20250929", "anthropic")!.Entry.Price.ComputeCost(_usage);

    /// <summary>First sight of a dated snapshot: forms, exact lookups, suffix stripping (then cached).</summary>
    [Benchmark]
    public TokenUsagePriceMatch? ColdResolve_Snapshot() => _catalog.ResolveUncached("claude-sonnet-4-5-20250929", "anthropic");

    /// <summary>First sight of a Bedrock cross-region id.</summary>
    [Benchmark]
    public TokenUsagePriceMatch? ColdResolve_BedrockRegional() => _catalog.ResolveUncached("eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws.bedrock");

    /// <summary>First sight of an unknown model: every rule fails, including the full prefix scan (the worst case).</summary>
    [Benchmark]
    public TokenUsagePriceMatch? ColdMiss_UnknownModel() => _catalog.ResolveUncached("acme-private-model-2031-01-01", "openai");
}
