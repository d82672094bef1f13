using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>Who a call is for: stamped on every record made inside a <see cref="TokenMetricsScope"/>.</summary>
public sealed class TokenUsageAttribution
{
    /// <summary>Gets the end user.</summary>
    public string? UserId { get; init; }

    /// <summary>Gets the consumer (API key owner, tenant, calling service).</summary>
    public string? Consumer { get; init; }

    /// <summary>Gets the conversation or agent session.</summary>
    public string? SessionId { get; init; }

    /// <summary>Gets the product feature the calls serve.</summary>
    public string? Feature { get; init; }

    /// <summary>Gets free-form tags.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
}
