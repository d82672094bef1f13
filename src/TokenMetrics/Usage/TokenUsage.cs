using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>Token counts of one LLM call, normalised across vendors.</summary>
/// <remarks>
/// <para>The semantics follow <c>Microsoft.Extensions.AI.UsageDetails</c>: <see cref="CachedInputTokenCount"/> and
/// <see cref="CacheWriteInputTokenCount"/> are counted <em>inside</em> <see cref="InputTokenCount"/>, and
/// <see cref="ReasoningTokenCount"/> is counted <em>inside</em> <see cref="OutputTokenCount"/>. Vendors that report
/// cache tokens outside input (Anthropic) are normalised to this shape; their raw figures stay in the detail dictionaries.</para>
/// <para>A <see langword="null"/> count means "not known", never zero (<see cref="long.MinValue"/>, never a count, reads as unknown).</para>
/// </remarks>
public sealed class TokenUsage
{
    // Counts are kept as plain longs with this value for "unknown" instead of six long? (16 bytes each): 48 bytes less per call.
    private const long Unknown = long.MinValue;

    private long _input = Unknown;
    private long _output = Unknown;
    private long _total = Unknown;
    private long _cached = Unknown;
    private long _cacheWrite = Unknown;
    private long _reasoning = Unknown;

    /// <summary>An instance with every count unknown.</summary>
    public static TokenUsage Empty { get; } = new();

    /// <summary>Gets the input (prompt) tokens, cached and cache-write tokens included.</summary>
    public long? InputTokenCount { get => _input == Unknown ? null : _input; init => _input = value ?? Unknown; }

    /// <summary>Gets the output (completion) tokens, reasoning tokens included.</summary>
    public long? OutputTokenCount { get => _output == Unknown ? null : _output; init => _output = value ?? Unknown; }

    /// <summary>Gets the total tokens as reported, or input + output when the vendor gives no total.</summary>
    public long? TotalTokenCount { get => _total == Unknown ? null : _total; init => _total = value ?? Unknown; }

    /// <summary>Gets the input tokens served from the vendor's prompt cache (a subset of input).</summary>
    public long? CachedInputTokenCount { get => _cached == Unknown ? null : _cached; init => _cached = value ?? Unknown; }

    /// <summary>Gets the input tokens written to the vendor's prompt cache (a subset of input).</summary>
    public long? CacheWriteInputTokenCount { get => _cacheWrite == Unknown ? null : _cacheWrite; init => _cacheWrite = value ?? Unknown; }

    /// <summary>Gets the reasoning ("thinking") tokens (a subset of output).</summary>
    public long? ReasoningTokenCount { get => _reasoning == Unknown ? null : _reasoning; init => _reasoning = value ?? Unknown; }

    /// <summary>Gets the vendor's raw input-side details (for example <c>audio_tokens</c>), kept whole.</summary>
    public IReadOnlyDictionary<string, long>? InputTokenDetails { get; init; }

    /// <summary>Gets the vendor's raw output-side details (for example <c>accepted_prediction_tokens</c>), kept whole.</summary>
    public IReadOnlyDictionary<string, long>? OutputTokenDetails { get; init; }

    /// <summary>Gets a value indicating whether no count at all is known.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsEmpty =>
        _input == Unknown && _output == Unknown && _total == Unknown && _cached == Unknown && _cacheWrite == Unknown && _reasoning == Unknown;

    /// <summary>Gets <see cref="TotalTokenCount"/>, or input + output when no total was given.</summary>
    public long? GetTotalOrSum() =>
        TotalTokenCount ?? (InputTokenCount is null && OutputTokenCount is null ? null : (InputTokenCount ?? 0) + (OutputTokenCount ?? 0));

    /// <summary>Returns a copy in which every count that <paramref name="newer"/> knows replaces this one's.</summary>
    /// <param name="newer">The later observation; cumulative vendors report running totals, so later wins per field.</param>
    /// <returns>The merged usage.</returns>
    /// <remarks>This is the "last value per field" rule for cumulative streams; it never sums.</remarks>
    public TokenUsage MergeLatest(TokenUsage? newer)
    {
        if (newer is null || newer.IsEmpty && newer.InputTokenDetails is null && newer.OutputTokenDetails is null)
        {
            return this;
        }

        return new TokenUsage
        {
            InputTokenCount = newer.InputTokenCount ?? InputTokenCount,
            OutputTokenCount = newer.OutputTokenCount ?? OutputTokenCount,
            TotalTokenCount = newer.TotalTokenCount ?? (newer.InputTokenCount is null && newer.OutputTokenCount is null ? TotalTokenCount : null),
            CachedInputTokenCount = newer.CachedInputTokenCount ?? CachedInputTokenCount,
            CacheWriteInputTokenCount = newer.CacheWriteInputTokenCount ?? CacheWriteInputTokenCount,
            ReasoningTokenCount = newer.ReasoningTokenCount ?? ReasoningTokenCount,
            InputTokenDetails = newer.InputTokenDetails ?? InputTokenDetails,
            OutputTokenDetails = newer.OutputTokenDetails ?? OutputTokenDetails,
        };
    }

    /// <summary>Returns the field-wise sum of two usages of <em>separate</em> calls (for example the rounds of a tool loop).</summary>
    /// <param name="other">The other call's usage.</param>
    /// <returns>The sum; a field unknown on both sides stays unknown.</returns>
    public TokenUsage Add(TokenUsage? other)
    {
        if (other is null)
        {
            return this;
        }

        return new TokenUsage
        {
            InputTokenCount = Sum(InputTokenCount, other.InputTokenCount),
            OutputTokenCount = Sum(OutputTokenCount, other.OutputTokenCount),
            TotalTokenCount = Sum(GetTotalOrSum(), other.GetTotalOrSum()),
            CachedInputTokenCount = Sum(CachedInputTokenCount, other.CachedInputTokenCount),
            CacheWriteInputTokenCount = Sum(CacheWriteInputTokenCount, other.CacheWriteInputTokenCount),
            ReasoningTokenCount = Sum(ReasoningTokenCount, other.ReasoningTokenCount),
            InputTokenDetails = SumDetails(InputTokenDetails, other.InputTokenDetails),
            OutputTokenDetails = SumDetails(OutputTokenDetails, other.OutputTokenDetails),
        };
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"in={InputTokenCount?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"} out={OutputTokenCount?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"} total={GetTotalOrSum()?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}";

    private static long? Sum(long? a, long? b) => a is null && b is null ? null : (a ?? 0) + (b ?? 0);

    private static Dictionary<string, long>? SumDetails(IReadOnlyDictionary<string, long>? a, IReadOnlyDictionary<string, long>? b)
    {
        if (a is null && b is null)
        {
            return null;
        }

        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var source in new[] { a, b })
        {
            if (source is null)
            {
                continue;
            }

            foreach (var (key, value) in source)
            {
                result[key] = result.TryGetValue(key, out var existing) ? existing + value : value;
            }
        }

        return result;
    }
}
