using System.Collections.Generic;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using TokenMetrics.Reports.Internal;

namespace TokenMetrics.Cli.Reports;

// The JSON shapes of `report --format json` and `sessions ... --format json` (camelCase). They follow the ASP.NET Core API's
// /api/usage, /api/sessions and /api/sessions/{id} shapes (same member names), plus the store and the options used. Scripts code
// against them: add members, never rename or remove one.

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
