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

    /// <summary>Gets the ISO 4217 currency of the prices.</summary>
    /// <value>The default is <c>USD</c>.</value>
    public string Currency { get; init; } = "USD";
}
