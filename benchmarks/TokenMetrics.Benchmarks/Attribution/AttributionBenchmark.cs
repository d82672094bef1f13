using System.Diagnostics;
using System.Net.Http;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using TokenMetrics.Internal;

namespace TokenMetrics.Benchmarks.Attribution;

/// <summary>Attribution and pricing per record, the cost issue 12 adds to every call (goal: attribution + pricing ≤ 200 ns,
/// 0 B for a cached model lookup). Each case does what the meter does once per call.</summary>
[MemoryDiagnoser]
public class AttributionBenchmark
{
    private readonly TokenMetricsSettings _settings = TokenMetricsSettings.Default;
    private AttributionSettings _attribution = null!;
    private AttributionSettings _scopeOnly = null!;
    private HttpDimensionPlan _plan = null!;
    private HttpRequestMessage _request = null!;
    private TokenUsagePricer _pricer = null!;
    private TokenUsageRecord _record = null!;
    private IDisposable _scope = null!;
    private Activity _activity = null!;

    [GlobalSetup]
    public void Setup()
    {
        _attribution = AttributionSettings.Create(new TokenMetricsAttributionOptions());
        var noBaggage = new TokenMetricsAttributionOptions();
        noBaggage.Baggage.Read = false;
        _scopeOnly = AttributionSettings.Create(noBaggage);
        _plan = HttpDimensionPlan.Create(new TokenMetricsHandlerOptions())!;
        _request = new HttpRequestMessage(HttpMethod.Post, "https://api.openai.com/v1/chat/completions");
        _request.Headers.TryAddWithoutValidation("x-agent-session", "agent:main:discord:1465367993012981988");
        _request.Headers.TryAddWithoutValidation("x-mse-consumer", "clawdbot");
        _pricer = new TokenUsagePricer(new TokenMetricsPricingOptions(), TimeProvider.System, NullLogger.Instance, (_, _) => { });
        _record = new TokenUsageRecord
        {
            Provider = "openai",
            RequestModel = "gpt-4o-mini",
            ResponseModel = "gpt-4o-mini-2024-07-18",
            Usage = new TokenUsage { InputTokenCount = 1_200, CachedInputTokenCount = 1_024, OutputTokenCount = 300, TotalTokenCount = 1_500 },
            Source = TokenUsageSource.Reported,
        };
        _pricer.Apply(_record, _settings); // the model's price is now cached, as after the first call

        // The ambient state of a request in a web app: a scope set by the app, and baggage from the caller on its activity.
        _scope = TokenMetricsScope.Begin(new TokenUsageAttribution { UserId = "alice", Feature = "summarize" });
        _activity = new Activity("request").AddBaggage("session.id", "conv-42").AddBaggage("tenant.id", "acme").Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _activity.Stop();
        _scope.Dispose();
        _pricer.Dispose();
        _request.Dispose();
    }

    /// <summary>The ambient attribution with baggage reading switched off: the scope's values as they are.</summary>
    [Benchmark]
    public TokenUsageAttribution? Ambient_ScopeOnly() => AttributionResolver.Ambient(_scopeOnly);

    /// <summary>The ambient attribution: the scope's values completed from baggage (two keys found, so one merged object).</summary>
    [Benchmark]
    public TokenUsageAttribution? Ambient_ScopeAndBaggage() => AttributionResolver.Ambient(_attribution);

    /// <summary>The attribution headers of one HTTP call (session header list, consumer header) applied to its record.</summary>
    [Benchmark]
    public TokenUsageRecord Headers_SessionAndConsumer()
    {
        using var capture = _plan.Begin(_request)!;
        return capture.Apply(_record);
    }

    /// <summary>Pricing one record whose model lookup is cached: the step in <c>Deliver</c>.</summary>
    [Benchmark(Baseline = true)]
    public decimal? Pricing_CachedModel()
    {
        _record.SetCost(null, null, null);
        _pricer.Apply(_record, _settings);
        return _record.Cost;
    }

    /// <summary>The goal's case: ambient attribution (scope + baggage) resolved and the record priced.</summary>
    [Benchmark]
    public decimal? AttributionAndPricing()
    {
        var who = AttributionResolver.Ambient(_attribution);
        _record.SetCost(null, null, null);
        _pricer.Apply(_record, _settings);
        return who is null ? null : _record.Cost;
    }
}
