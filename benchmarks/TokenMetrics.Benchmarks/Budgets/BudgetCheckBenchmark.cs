using System.Text;
using BenchmarkDotNet.Attributes;
using TokenMetrics.Internal;

namespace TokenMetrics.Benchmarks.Budgets;

/// <summary>The budget check per call in process (goal: ≤ 1 µs): reserve against the in-process store and reconcile with the
/// record, without the estimate (the tokens given), and with the estimate of a small chat request (the tokenizer + the
/// <c>max_tokens</c> read), as the handler does it.</summary>
[MemoryDiagnoser]
public class BudgetCheckBenchmark
{
    private static readonly byte[] SmallRequest = Encoding.UTF8.GetBytes(
        """{"model":"gpt-4o-mini","max_tokens":200,"messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"How many tokens is this question, roughly?"}]}""");

    private readonly TokenUsageRecord _record = new() { Usage = new TokenUsage { InputTokenCount = 30, OutputTokenCount = 150, TotalTokenCount = 180 } };
    private readonly TokenUsageAttribution _alice = new() { UserId = "alice" };
    private TokenUsageRecorder _recorder = null!;
    private TokenUsageBudget[] _global = null!;
    private TokenUsageBudget[] _perUser = null!;

    [GlobalSetup]
    public void Setup()
    {
        _recorder = new TokenUsageRecorder(new TokenMetricsOptions { MeterName = "TokenMetrics.Benchmarks.Budgets" }, []);
        _global = [new TokenUsageBudget { Name = "global", TokensPerMinute = long.MaxValue / 4 }];
        _perUser = [new TokenUsageBudget { Name = "user", Subject = TokenUsageBudgetSubject.User, TokensPerMinute = long.MaxValue / 4 }];
    }

    [GlobalCleanup]
    public void Cleanup() => _recorder.Dispose();

    /// <summary>One global tokens-per-minute budget: reserve and reconcile, the estimate given.</summary>
    [Benchmark(Baseline = true)]
    public bool Global_ReserveAndReconcile() => ReserveAndReconcile(_global, new BudgetCall(null, "gpt-4o-mini", "openai", null), 30, 200);

    /// <summary>A per-user budget: the counter key is built per call.</summary>
    [Benchmark]
    public bool PerUser_ReserveAndReconcile() => ReserveAndReconcile(_perUser, new BudgetCall(_alice, "gpt-4o-mini", "openai", null), 30, 200);

    /// <summary>As the handler does it: count the small request with the tokenizer, read <c>max_tokens</c>, reserve, reconcile.</summary>
    [Benchmark]
    public bool Global_WithSmallEstimate()
    {
        var input = _recorder.Estimator.CountRequest(SmallRequest, "gpt-4o-mini").Tokens;
        var maxOutput = BudgetEnforcer.ReadMaxOutputTokens(SmallRequest);
        return ReserveAndReconcile(_global, new BudgetCall(null, "gpt-4o-mini", "openai", null), input, maxOutput);
    }

    private bool ReserveAndReconcile(TokenUsageBudget[] budgets, BudgetCall call, long input, long maxOutput)
    {
        var (reservation, rejection) = _recorder.Budgets.ReserveAsync(budgets, call, input, maxOutput, CancellationToken.None).GetAwaiter().GetResult();
        reservation?.Reconcile(_record);
        return rejection is null;
    }
}
