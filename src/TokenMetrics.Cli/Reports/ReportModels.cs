using System.Collections.Generic;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using TokenMetrics.Reports.Internal;

namespace TokenMetrics.Cli.Reports;

// The JSON shapes of `report --format json` and `sessions ... --format json` (camelCase). They follow the ASP.NET Core API's
// /api/usage, /api/sessions and /api/sessions/{id} shapes (same member names), plus the store and the options used. Scripts code
// against them: add members, never rename or remove one.

/// <summary>Totals of a set of records (the API's TotalsDto).</summary>
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
    /// <summary>Gets or sets the group's dimension value (key <c>model</c>, <c>provider</c>, <c>user</c>, <c>consumer</c>,
    /// <c>session</c> or <c>feature</c>; null = not set); empty for <c>--by day|hour</c>.</summary>
    public Dictionary<string, string?> Key { get; set; } = [];

    /// <summary>Gets or sets the start of the UTC day or hour, for <c>--by day|hour</c>.</summary>
    public DateTimeOffset? Bucket { get; set; }
}

/// <summary><c>tokenmetrics report --format json</c>.</summary>
internal sealed class ReportJson
{
    public string Store { get; set; } = string.Empty;

    public DateTimeOffset From { get; set; }

    public DateTimeOffset To { get; set; }

    public List<string> GroupBy { get; set; } = [];

    public string SortBy { get; set; } = string.Empty;

    public int Limit { get; set; }

    /// <summary>Gets or sets the grand total of the range and filters (all groups, not only the listed ones).</summary>
    public TotalsJson Totals { get; set; } = new();

    public List<GroupJson> Groups { get; set; } = [];
}

/// <summary>A session and its totals.</summary>
internal sealed class SessionJson : TotalsJson
{
    public string SessionId { get; set; } = string.Empty;

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public string? LastModel { get; set; }

    public IReadOnlyList<string> Models { get; set; } = [];

    public static SessionJson From(TokenUsageSession s) =>
        Fill(new SessionJson { SessionId = s.SessionId, CreatedAt = s.CreatedAt, UpdatedAt = s.UpdatedAt, LastModel = s.LastModel, Models = s.Models }, s.Totals);
}

/// <summary><c>tokenmetrics sessions list --format json</c>.</summary>
internal sealed class SessionListJson
{
    public string Store { get; set; } = string.Empty;

    public DateTimeOffset From { get; set; }

    public DateTimeOffset To { get; set; }

    public string SortBy { get; set; } = string.Empty;

    public int Offset { get; set; }

    public int Limit { get; set; }

    /// <summary>Gets or sets a value indicating whether another page follows (at <c>offset + limit</c>).</summary>
    public bool HasMore { get; set; }

    public List<SessionJson> Sessions { get; set; } = [];
}

/// <summary><c>tokenmetrics sessions show ID --format json</c>.</summary>
internal sealed class SessionDetailJson
{
    public string Store { get; set; } = string.Empty;

    public SessionJson Session { get; set; } = new();

    public List<RoundJson> Rounds { get; set; } = [];
}

/// <summary>The camelCase shapes, source-generated, indented for people and <c>jq</c> alike.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(ReportJson))]
[JsonSerializable(typeof(SessionListJson))]
[JsonSerializable(typeof(SessionDetailJson))]
internal sealed partial class ReportJsonContext : JsonSerializerContext
{
    /// <summary>The context the commands write with: terminal and file output is never embedded in HTML, so quotes, <c>+</c> and
    /// non-ASCII text print as themselves (control characters are still escaped, as JSON requires).</summary>
    public static ReportJsonContext Output { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
