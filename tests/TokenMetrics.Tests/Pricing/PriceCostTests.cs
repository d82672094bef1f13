namespace TokenMetrics.Tests.Pricing;

/// <summary>Cost arithmetic: every token charged once, at its own rate.</summary>
public class PriceCostTests
{
    // Seed 004's TOKEN_PRICING values are USD per 1K tokens (see seed-inventory §4.5); ×1000 they are the per-1M prices here.
    private static readonly TokenUsagePrice SeedGpt4 = new() { Input = 3m, Output = 6m, CachedInput = 1.5m };
    private static readonly TokenUsagePrice SeedQwenMax = new() { Input = 0.5m, Output = 2m, CachedInput = 0.25m };
    private static readonly TokenUsagePrice SeedO1 = new() { Input = 15m, Output = 60m, CachedInput = 7.5m, Reasoning = 60m };
    private static readonly TokenUsagePrice SeedDeepSeekR1 = new() { Input = 4m, Output = 12m, CachedInput = 2m, Reasoning = 2m };

    [Fact]
    public void Seed004_StatsModelRows_RecomputedPerMillion_MatchTheSeedsDocumentedCosts()
    {
        // The seed's sample rows, which it computed per 1K: GPT-4 2,100/1,800 = $0.017100, Qwen-Max 4,200/3,100 = $0.008300.
        Assert.Equal(0.0171m, SeedGpt4.ComputeCost(new TokenUsage { InputTokenCount = 2100, OutputTokenCount = 1800 }));
        Assert.Equal(0.0083m, SeedQwenMax.ComputeCost(new TokenUsage { InputTokenCount = 4200, OutputTokenCount = 3100 }));
    }

    [Fact]
    public void Seed004_ReasoningInsideOutput_IsNotChargedTwice()
    {
        var usage = new TokenUsage { InputTokenCount = 1000, CachedInputTokenCount = 400, OutputTokenCount = 500, ReasoningTokenCount = 300 };

        var cost = SeedO1.ComputeCost(usage);

        // o1 bills reasoning at the output rate: 600 uncached, 400 cached, 500 output (reasoning inside).
        var correct = (600 * 15m + 400 * 7.5m + 500 * 60m) / 1_000_000m;
        // The seed's formula adds reasoning on top of output: 600×15 + 500×60 + 300×60 + 400×7.5.
        var seedDoubleCharged = (600 * 15m + 500 * 60m + 300 * 60m + 400 * 7.5m) / 1_000_000m;
        Assert.Equal(correct, cost);
        Assert.NotEqual(seedDoubleCharged, cost);
    }

    [Fact]
    public void Seed004_ReasoningBilledApart_ReplacesTheOutputRateForThoseTokens()
    {
        var usage = new TokenUsage { InputTokenCount = 1000, CachedInputTokenCount = 200, OutputTokenCount = 500, ReasoningTokenCount = 300 };

        var cost = SeedDeepSeekR1.ComputeCost(usage);

        Assert.Equal((800 * 4m + 200 * 2m + 200 * 12m + 300 * 2m) / 1_000_000m, cost);
        Assert.NotEqual((800 * 4m + 500 * 12m + 300 * 2m + 200 * 2m) / 1_000_000m, cost); // the seed's sum
    }

    [Fact]
    public void OpenAICachedInput_IsPricedOnce_AtTheCachedRate()
    {
        var price = new TokenUsagePrice { Input = 2.5m, CachedInput = 1.25m, Output = 10m };
        var usage = new TokenUsage { InputTokenCount = 10_000, CachedInputTokenCount = 8_000, OutputTokenCount = 100 };

        Assert.Equal((2_000 * 2.5m + 8_000 * 1.25m + 100 * 10m) / 1_000_000m, price.ComputeCost(usage));
    }

    [Fact]
    public void AnthropicCacheWrites_5mAnd1h_AndReads_EachAtTheirRate()
    {
        // Normalised Anthropic usage: input = input_tokens 100 + cache_creation 3,000 + cache_read 5,000.
        var usage = new TokenUsage
        {
            InputTokenCount = 8_100,
            CachedInputTokenCount = 5_000,
            CacheWriteInputTokenCount = 3_000,
            OutputTokenCount = 200,
            InputTokenDetails = new Dictionary<string, long> { ["ephemeral_5m_input_tokens"] = 1_000, ["ephemeral_1h_input_tokens"] = 2_000 },
        };
        var price = new TokenUsagePrice { Input = 3m, CachedInput = 0.3m, CacheWrite = 3.75m, CacheWrite1h = 6m, Output = 15m };

        Assert.Equal((100 * 3m + 5_000 * 0.3m + 1_000 * 3.75m + 2_000 * 6m + 200 * 15m) / 1_000_000m, price.ComputeCost(usage));
        // Without a 1-hour rate, every write is priced at the 5-minute rate.
        Assert.Equal((100 * 3m + 5_000 * 0.3m + 3_000 * 3.75m + 200 * 15m) / 1_000_000m, (price with { CacheWrite1h = null }).ComputeCost(usage));
    }

    [Fact]
    public void LongContextTier_AppliesAboveItsThreshold()
    {
        var price = new TokenUsagePrice
        {
            Input = 1.25m, Output = 10m,
            Tiers = [new TokenUsagePriceTier { AboveInputTokens = 200_000, Price = new TokenUsagePrice { Input = 2.5m, Output = 15m } }],
        };

        Assert.Equal((200_000 * 1.25m + 10 * 10m) / 1_000_000m, price.ComputeCost(new TokenUsage { InputTokenCount = 200_000, OutputTokenCount = 10 }));
        Assert.Equal((200_001 * 2.5m + 10 * 15m) / 1_000_000m, price.ComputeCost(new TokenUsage { InputTokenCount = 200_001, OutputTokenCount = 10 }));
    }

    [Fact]
    public void NothingToPrice_OrNoRateForTokens_IsNull_NeverZero()
    {
        var inputOnly = new TokenUsagePrice { Input = 0.02m };

        Assert.Null(inputOnly.ComputeCost(TokenUsage.Empty));
        Assert.Null(inputOnly.ComputeCost(new TokenUsage { InputTokenCount = 10, OutputTokenCount = 5 }));
        Assert.Equal(10 * 0.02m / 1_000_000m, inputOnly.ComputeCost(new TokenUsage { InputTokenCount = 10, OutputTokenCount = 0 }));
    }
}
