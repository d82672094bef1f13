using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>A filter over stored records; every criterion is optional and they combine with AND.</summary>
public record TokenUsageFilter
{
    /// <summary>The largest page or group count a store returns, whatever is asked.</summary>
    public const int MaxLimit = 10_000;

    /// <summary>Gets the inclusive start of the time range (record timestamps).</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Gets the exclusive end of the time range.</summary>
    public DateTimeOffset? To { get; init; }

    /// <summary>Gets the provider.</summary>
    public string? Provider { get; init; }

    /// <summary>Gets the model (request, routed or response model).</summary>
    public string? Model { get; init; }

    /// <summary>Gets the end user.</summary>
    public string? UserId { get; init; }

    /// <summary>Gets the consumer.</summary>
    public string? Consumer { get; init; }

    /// <summary>Gets the session.</summary>
    public string? SessionId { get; init; }

    /// <summary>Gets the product feature.</summary>
    public string? Feature { get; init; }

    /// <summary>Gets tag criteria: every key must have the given value.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>Gets the status.</summary>
    public TokenUsageStatus? Status { get; init; }

    /// <summary>Gets the usage source.</summary>
    public TokenUsageSource? Source { get; init; }
}

/// <summary>A page of records.</summary>
public sealed record TokenUsageQuery : TokenUsageFilter
{
    /// <summary>Gets the page size (1 to <see cref="TokenUsageFilter.MaxLimit"/>).</summary>
    public int Limit { get; init; } = 100;

    /// <summary>Gets the number of records to skip.</summary>
    public int Offset { get; init; }
}

/// <summary>One page of records.</summary>
/// <param name="Records">The records, newest first.</param>
/// <param name="Total">The number of records matching the filter.</param>
public sealed record TokenUsagePage(IReadOnlyList<TokenUsageRecord> Records, long Total);

/// <summary>The dimensions totals can be grouped by.</summary>
[Flags]
public enum TokenUsageDimensions
{
    /// <summary>No grouping: one grand total.</summary>
    None = 0,

    /// <summary>The provider.</summary>
    Provider = 1,

    /// <summary>The model (response model, else routed, else request model).</summary>
    Model = 2,

    /// <summary>The end user.</summary>
    User = 4,

    /// <summary>The consumer.</summary>
    Consumer = 8,

    /// <summary>The session.</summary>
    Session = 16,

    /// <summary>The value of <see cref="TokenUsageAggregateQuery.TagKey"/>.</summary>
    Tag = 32,

    /// <summary>The status.</summary>
    Status = 64,

    /// <summary>The product feature.</summary>
    Feature = 128,
}

/// <summary>The time bucket of grouped totals.</summary>
public enum TokenUsageTimeBucket
{
    /// <summary>No time grouping.</summary>
    None = 0,

    /// <summary>UTC hours.</summary>
    Hour = 1,

    /// <summary>UTC days.</summary>
    Day = 2,
}

/// <summary>Grouped totals.</summary>
public sealed record TokenUsageAggregateQuery : TokenUsageFilter
{
    /// <summary>Gets the dimensions to group by.</summary>
    public TokenUsageDimensions GroupBy { get; init; }

    /// <summary>Gets the tag key whose values form groups when <see cref="GroupBy"/> includes <see cref="TokenUsageDimensions.Tag"/>.</summary>
    public string? TagKey { get; init; }

    /// <summary>Gets the time bucket.</summary>
    public TokenUsageTimeBucket Bucket { get; init; }

    /// <summary>Gets the most groups returned (1 to <see cref="TokenUsageFilter.MaxLimit"/>).</summary>
    public int Limit { get; init; } = 1000;

    /// <summary>Gets the order of the groups (and so which ones a <see cref="Limit"/> keeps); default largest total tokens first.</summary>
    public TokenUsageAggregateSort SortBy { get; init; }
}

/// <summary>The order of grouped totals.</summary>
public enum TokenUsageAggregateSort
{
    /// <summary>Largest total tokens first.</summary>
    Tokens = 0,

    /// <summary>Largest cost first (the summed cost of the priced calls, whatever their currency).</summary>
    Cost = 1,

    /// <summary>Most calls first.</summary>
    Calls = 2,

    /// <summary>Oldest time bucket first (then largest total tokens); the order of a time series.</summary>
    Time = 3,
}

/// <summary>The order of listed sessions.</summary>
public enum TokenUsageSessionSort
{
    /// <summary>Most recently updated first.</summary>
    Updated = 0,

    /// <summary>Largest cost first (the summed cost of the priced calls, whatever their currency).</summary>
    Cost = 1,

    /// <summary>Largest total tokens first.</summary>
    Tokens = 2,
}

/// <summary>Totals of one group.</summary>
public sealed record TokenUsageAggregate
{
    /// <summary>Gets the group's dimension values (keys: <c>provider</c>, <c>model</c>, <c>user</c>, <c>consumer</c>, <c>session</c>, <c>tag</c>, <c>status</c>, <c>feature</c>); a null value means "not set".</summary>
    public IReadOnlyDictionary<string, string?> Keys { get; init; } = new Dictionary<string, string?>();

    /// <summary>Gets the start of the time bucket, when grouped by time.</summary>
    public DateTimeOffset? BucketStart { get; init; }

    /// <summary>Gets the number of calls.</summary>
    public long Calls { get; init; }

    /// <summary>Gets the input tokens (cached and cache-write included).</summary>
    public long InputTokens { get; init; }

    /// <summary>Gets the output tokens (reasoning included).</summary>
    public long OutputTokens { get; init; }

    /// <summary>Gets the total tokens.</summary>
    public long TotalTokens { get; init; }

    /// <summary>Gets the cached input tokens.</summary>
    public long CachedInputTokens { get; init; }

    /// <summary>Gets the cache-write input tokens.</summary>
    public long CacheWriteInputTokens { get; init; }

    /// <summary>Gets the reasoning tokens.</summary>
    public long ReasoningTokens { get; init; }

    /// <summary>Gets the calls whose usage was estimated.</summary>
    public long EstimatedCalls { get; init; }

    /// <summary>Gets the total tokens of the calls whose usage was estimated (the rest of <see cref="TotalTokens"/> was reported by the vendor).</summary>
    public long EstimatedTokens { get; init; }

    /// <summary>Gets the calls without usage.</summary>
    public long MissingCalls { get; init; }

    /// <summary>Gets the calls that did not end <see cref="TokenUsageStatus.Ok"/>.</summary>
    public long FailedCalls { get; init; }

    /// <summary>Gets the summed call duration.</summary>
    public TimeSpan TotalDuration { get; init; }

    /// <summary>Gets the summed cost of the priced calls, per currency (ISO 4217 code; empty string when a record had a cost but no
    /// currency); empty when no call was priced. Exact: summed as decimals, never through floating point.</summary>
    public IReadOnlyDictionary<string, decimal> Costs { get; init; } = EmptyCosts;

    /// <summary>Gets the calls whose usage is known (reported or estimated) but whose price is not (cost <see langword="null"/>):
    /// <see cref="Costs"/> leaves them out, so a non-zero count means the cost is a lower bound.</summary>
    public long UnpricedCalls { get; init; }

    private static readonly IReadOnlyDictionary<string, decimal> EmptyCosts = new Dictionary<string, decimal>();
}

/// <summary>Sessions to list, or one session to show.</summary>
public sealed record TokenUsageSessionQuery : TokenUsageFilter
{
    /// <summary>Gets the most sessions returned (1 to <see cref="TokenUsageFilter.MaxLimit"/>); default 20.</summary>
    public int Limit { get; init; } = 20;

    /// <summary>Gets the number of sessions to skip (paging, in <see cref="SortBy"/> order).</summary>
    public int Offset { get; init; }

    /// <summary>Gets the order of the sessions; default most recently updated first.</summary>
    public TokenUsageSessionSort SortBy { get; init; }

    /// <summary>Gets a value indicating whether each session's rounds (its records, oldest first) are included.</summary>
    public bool IncludeRounds { get; init; }
}

/// <summary>A conversation or agent session and its totals.</summary>
public sealed record TokenUsageSession
{
    /// <summary>Gets the session id.</summary>
    public required string SessionId { get; init; }

    /// <summary>Gets the first record's timestamp.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Gets the last record's timestamp.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Gets the model of the last round.</summary>
    public string? LastModel { get; init; }

    /// <summary>Gets the models used.</summary>
    public IReadOnlyList<string> Models { get; init; } = [];

    /// <summary>Gets the session's totals.</summary>
    public required TokenUsageAggregate Totals { get; init; }

    /// <summary>Gets the rounds (records, oldest first) when asked for.</summary>
    public IReadOnlyList<TokenUsageRecord>? Rounds { get; init; }
}
