using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>What one model's tokens cost, per 1 million tokens, in <see cref="Currency"/>.</summary>
/// <remarks>
/// <para>Prices apply to <see cref="TokenUsage"/>'s normalised counts: cached and cache-write tokens are inside input,
/// reasoning tokens inside output, so each token is charged exactly once at its own rate (uncached input at
/// <see cref="Input"/>, cache reads at <see cref="CachedInput"/>, ...). A rate left <see langword="null"/> falls back to
/// the base rate of its side (<see cref="Input"/> or <see cref="Output"/>).</para>
/// </remarks>
public sealed record TokenUsagePrice
{
    /// <summary>Gets the price of uncached input tokens per 1M.</summary>
    public decimal? Input { get; init; }

    /// <summary>Gets the price of input tokens read from the prompt cache per 1M.</summary>
    public decimal? CachedInput { get; init; }

    /// <summary>Gets the price of input tokens written to the prompt cache per 1M (Anthropic's 5-minute cache).</summary>
    public decimal? CacheWrite { get; init; }

    /// <summary>Gets the price of input tokens written to a 1-hour prompt cache per 1M, where it differs from <see cref="CacheWrite"/>.</summary>
    public decimal? CacheWrite1h { get; init; }

    /// <summary>Gets the price of output tokens per 1M.</summary>
    public decimal? Output { get; init; }

    /// <summary>Gets the price of reasoning tokens per 1M, only where a vendor bills them apart from output.</summary>
    public decimal? Reasoning { get; init; }

    /// <summary>Gets the price of input tokens per 1M through the vendor's batch API, where it differs (shown, not applied:
    /// a metered call is not a batch job).</summary>
    public decimal? BatchInput { get; init; }

    /// <summary>Gets the price of output tokens per 1M through the vendor's batch API, where it differs (shown, not applied).</summary>
    public decimal? BatchOutput { get; init; }

    /// <summary>Gets the long-context tiers: when a call's input tokens (cached and cache-write included) exceed a tier's
    /// <see cref="TokenUsagePriceTier.AboveInputTokens"/>, that tier's rates apply to the whole call (the highest such tier wins).</summary>
    public IReadOnlyList<TokenUsagePriceTier>? Tiers { get; init; }

    /// <summary>Gets the ISO 4217 currency of the prices.</summary>
    /// <value>The default is <c>USD</c>.</value>
    public string Currency { get; init; } = "USD";

    /// <summary>Computes what <paramref name="usage"/> costs at these prices.</summary>
    /// <param name="usage">The normalised counts.</param>
    /// <returns>The cost in <see cref="Currency"/>; <see langword="null"/> when there is nothing to price or a side with tokens
    /// has no rate (never a silent 0).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="usage"/> is <see langword="null"/>.</exception>
    public decimal? ComputeCost(TokenUsage usage)
    {
        ArgumentNullException.ThrowIfNull(usage);
        if (usage.InputTokenCount is null && usage.OutputTokenCount is null)
        {
            return null;
        }

        var input = Math.Max(usage.InputTokenCount ?? 0, 0);
        var output = Math.Max(usage.OutputTokenCount ?? 0, 0);
        var tier = SelectTier(input);

        // Input is split into disjoint parts (cache reads, 1-hour writes, 5-minute writes, the rest), each at its own rate:
        // a token is never charged twice, whatever the vendor reported.
        var cached = Math.Clamp(usage.CachedInputTokenCount ?? 0, 0, input);
        var writes = Math.Clamp(usage.CacheWriteInputTokenCount ?? 0, 0, input - cached);
        var writes1h = 0L;
        if (writes > 0 && Rate(tier?.CacheWrite1h, CacheWrite1h) is not null
            && usage.InputTokenDetails is { } details && details.TryGetValue(OneHourCacheWriteDetail, out var oneHour))
        {
            writes1h = Math.Clamp(oneHour, 0, writes);
        }

        var uncached = input - cached - writes;
        var inputRate = Rate(tier?.Input, Input);
        var outputRate = Rate(tier?.Output, Output);
        var reasoningRate = Rate(tier?.Reasoning, Reasoning);
        var reasoning = reasoningRate is null ? 0 : Math.Clamp(usage.ReasoningTokenCount ?? 0, 0, output);

        decimal total = 0;
        if (!Add(ref total, uncached, inputRate)
            || !Add(ref total, cached, Rate(tier?.CachedInput, CachedInput) ?? inputRate)
            || !Add(ref total, writes - writes1h, Rate(tier?.CacheWrite, CacheWrite) ?? inputRate)
            || !Add(ref total, writes1h, Rate(tier?.CacheWrite1h, CacheWrite1h))
            || !Add(ref total, output - reasoning, outputRate)
            || !Add(ref total, reasoning, reasoningRate))
        {
            return null;
        }

        // Multiplying by 10^-6 is exact in decimal and several times cheaper than dividing by 10^6.
        return total * 0.000001m;
    }

    /// <summary>The input detail Anthropic reports for writes to the 1-hour cache (a part of the cache writes).</summary>
    internal const string OneHourCacheWriteDetail = "ephemeral_1h_input_tokens";

    private static decimal? Rate(decimal? tierRate, decimal? baseRate) => tierRate ?? baseRate;

    private static bool Add(ref decimal total, long tokens, decimal? rate)
    {
        if (tokens <= 0)
        {
            return true;
        }

        if (rate is not { } r)
        {
            return false;
        }

        total += tokens * r;
        return true;
    }

    private TokenUsagePrice? SelectTier(long input)
    {
        if (Tiers is not { Count: > 0 } tiers)
        {
            return null;
        }

        TokenUsagePriceTier? chosen = null;
        for (var i = 0; i < tiers.Count; i++)
        {
            var tier = tiers[i];
            if (tier is not null && input > tier.AboveInputTokens && (chosen is null || tier.AboveInputTokens > chosen.AboveInputTokens))
            {
                chosen = tier;
            }
        }

        return chosen?.Price;
    }
}

/// <summary>A long-context price tier: rates that replace the base rates when a call's input exceeds a threshold.</summary>
public sealed record TokenUsagePriceTier
{
    /// <summary>Gets the input-token count above which the tier applies (for example 200,000).</summary>
    public long AboveInputTokens { get; init; }

    /// <summary>Gets the tier's rates; a rate left <see langword="null"/> keeps the base price's rate.</summary>
    public TokenUsagePrice Price { get; init; } = new();
}
