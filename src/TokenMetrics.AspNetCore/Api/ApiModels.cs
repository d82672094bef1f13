using System.Collections.Generic;
using System.Text.Json;
using System.Text.Json.Serialization;
using TokenMetrics.Reports.Internal;

namespace TokenMetrics.AspNetCore.Api;

// The JSON shapes of the API (camelCase, see ApiJsonContext). They are the contract the dashboard and API clients code against:
// change them only together with the plan's contract.

/// <summary>One point of a time series.</summary>
internal sealed class SeriesPointDto : TotalsJson
{
    public DateTimeOffset Bucket { get; set; }
}

/// <summary>A session and its totals.</summary>
internal sealed class SessionSummaryDto : TotalsJson
{
    public string SessionId { get; set; } = string.Empty;

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public string? LastModel { get; set; }

    public IReadOnlyList<string> Models { get; set; } = [];

    public string Url { get; set; } = string.Empty;

    public string ApiUrl { get; set; } = string.Empty;
}

internal sealed class OverviewDto
{
    public DateTimeOffset From { get; set; }

    public DateTimeOffset To { get; set; }

    public string Bucket { get; set; } = "hour";

    public TotalsJson Totals { get; set; } = new();

    public List<SeriesPointDto> Series { get; set; } = [];

    public List<GroupJson> ByModel { get; set; } = [];

    public List<GroupJson> TopUsers { get; set; } = [];

    public List<SessionSummaryDto> TopSessions { get; set; } = [];
}

internal sealed class UsageDto
{
    public DateTimeOffset From { get; set; }

    public DateTimeOffset To { get; set; }

    public List<string> GroupBy { get; set; } = [];

    public TotalsJson Totals { get; set; } = new();

    public List<GroupJson> Groups { get; set; } = [];
}

internal sealed class SessionsDto
{
    public List<SessionSummaryDto> Sessions { get; set; } = [];

    public int Offset { get; set; }

    public int Limit { get; set; }

    public bool HasMore { get; set; }
}

internal sealed class SessionDetailDto
{
    public SessionSummaryDto Session { get; set; } = new();

    public List<RoundJson> Rounds { get; set; } = [];

    public bool RoundsTruncated { get; set; }
}

internal sealed class SettingsDto
{
    public bool Enabled { get; set; }

    public bool EstimateMissingUsage { get; set; }

    public bool CaptureContent { get; set; }

    public double SamplingRatio { get; set; }

    public List<string> DisabledExporters { get; set; } = [];

    /// <summary>Gets or sets the models with a runtime price override (read-only here).</summary>
    public List<string> PriceOverrides { get; set; } = [];

    /// <summary>Gets or sets the names of the budgets in force (read-only here).</summary>
    public List<string> Budgets { get; set; } = [];
}

internal sealed class SettingsStateDto
{
    public long Version { get; set; }

    public SettingsDto Current { get; set; } = new();

    public SettingsDto Configured { get; set; } = new();

    public IReadOnlyList<string> Exporters { get; set; } = [];
}

/// <summary>The body of <c>PATCH /api/settings</c>: any subset; unknown members are refused.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed class SettingsPatchDto
{
    public bool? Enabled { get; set; }

    public bool? EstimateMissingUsage { get; set; }

    public bool? CaptureContent { get; set; }

    public double? SamplingRatio { get; set; }

    public List<string>? DisabledExporters { get; set; }

    public string? Reason { get; set; }
}

internal sealed class AntiforgeryDto
{
    public string HeaderName { get; set; } = string.Empty;

    public string? Token { get; set; }
}

internal sealed class ErrorDto
{
    public string Error { get; set; } = string.Empty;

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Errors { get; set; }
}

/// <summary>The camelCase API shapes, source-generated (no reflection, trimming-safe).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = false)]
[JsonSerializable(typeof(OverviewDto))]
[JsonSerializable(typeof(UsageDto))]
[JsonSerializable(typeof(SessionsDto))]
[JsonSerializable(typeof(SessionDetailDto))]
[JsonSerializable(typeof(SettingsStateDto))]
[JsonSerializable(typeof(SettingsPatchDto))]
[JsonSerializable(typeof(AntiforgeryDto))]
[JsonSerializable(typeof(ErrorDto))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
