using System.Collections.Generic;

namespace TokenMetrics.Reports.Internal;

// The JSON shapes of totals and groups, the same for the ASP.NET Core API (/api/overview, /api/usage, /api/sessions) and the
// CLI (report and sessions --format json): one home, so the two never drift. camelCase; add members, never rename or remove one.

/// <summary>Totals of a set of records.</summary>
internal class TotalsJson
{
    public long Calls { get; set; }

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    public long TotalTokens { get; set; }

    public long CachedInputTokens { get; set; }

    public long CacheWriteInputTokens { get; set; }

    public long ReasoningTokens { get; set; }

    public long EstimatedCalls { get; set; }

    public long EstimatedTokens { get; set; }

    public long MissingCalls { get; set; }

    public long FailedCalls { get; set; }

    /// <summary>Gets or sets the fraction (0..1) of <see cref="TotalTokens"/> reported by the vendor.</summary>
    public double ReportedShare { get; set; }

    /// <summary>Gets or sets the fraction (0..1) of <see cref="TotalTokens"/> that was estimated.</summary>
    public double EstimatedShare { get; set; }

    public double AverageLatencyMs { get; set; }

    /// <summary>Gets or sets the cost per currency (exact decimals; calls without a price are left out, see <see cref="UnpricedCalls"/>).</summary>
    public Dictionary<string, decimal> Cost { get; set; } = [];

    public long UnpricedCalls { get; set; }

    public static T Fill<T>(T json, TokenUsageAggregate? a)
        where T : TotalsJson
    {
        if (a is null)
        {
            return json;
        }

        json.Calls = a.Calls;
        json.InputTokens = a.InputTokens;
        json.OutputTokens = a.OutputTokens;
        json.TotalTokens = a.TotalTokens;
        json.CachedInputTokens = a.CachedInputTokens;
        json.CacheWriteInputTokens = a.CacheWriteInputTokens;
        json.ReasoningTokens = a.ReasoningTokens;
        json.EstimatedCalls = a.EstimatedCalls;
        json.EstimatedTokens = a.EstimatedTokens;
        json.MissingCalls = a.MissingCalls;
        json.FailedCalls = a.FailedCalls;
        json.EstimatedShare = a.TotalTokens > 0 ? Math.Clamp((double)a.EstimatedTokens / a.TotalTokens, 0, 1) : 0;
        json.ReportedShare = a.TotalTokens > 0 ? 1 - json.EstimatedShare : 0;
        json.AverageLatencyMs = a.Calls > 0 ? Math.Round(a.TotalDuration.TotalMilliseconds / a.Calls, 3) : 0;
        json.Cost = new Dictionary<string, decimal>(a.Costs, StringComparer.Ordinal);
        json.UnpricedCalls = a.UnpricedCalls;
        return json;
    }
}

/// <summary>Totals of one group.</summary>
internal sealed class GroupJson : TotalsJson
{
    /// <summary>Gets or sets the group's dimension values (keys <c>model</c>, <c>provider</c>, <c>user</c>, <c>consumer</c>,
    /// <c>session</c>, <c>feature</c>, <c>status</c>, <c>tag</c>; null = not set); empty when grouped by time only.</summary>
    public Dictionary<string, string?> Key { get; set; } = [];

    /// <summary>Gets or sets the start of the UTC day or hour, when grouped by time.</summary>
    public DateTimeOffset? Bucket { get; set; }

    public static GroupJson From(TokenUsageAggregate a) =>
        Fill(new GroupJson { Key = new Dictionary<string, string?>(a.Keys, StringComparer.Ordinal), Bucket = a.BucketStart }, a);
}
