using System.Collections.Generic;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TokenMetrics.AspNetCore.Api;

// The FinOps JSON report: the session monitor's shape (snake_case) plus our fields (costs per currency, unpriced calls, shares).

internal sealed class FinOpsReportDto
{
    public DateTimeOffset GeneratedAt { get; set; }

    public DateTimeOffset From { get; set; }

    public DateTimeOffset To { get; set; }

    public FinOpsSummaryDto Summary { get; set; } = new();

    public SortedDictionary<string, FinOpsGroupDto> ByModel { get; set; } = new(StringComparer.Ordinal);

    public SortedDictionary<string, FinOpsGroupDto> ByDate { get; set; } = new(StringComparer.Ordinal);

    public SortedDictionary<string, FinOpsGroupDto> ByUser { get; set; } = new(StringComparer.Ordinal);
}

internal sealed class FinOpsSummaryDto
{
    public long TotalSessions { get; set; }

    public long TotalCalls { get; set; }

    public long TotalInputTokens { get; set; }

    public long TotalOutputTokens { get; set; }

    public long TotalReasoningTokens { get; set; }

    public decimal TotalCostUsd { get; set; }

    public Dictionary<string, decimal> Costs { get; set; } = [];

    public long UnpricedCalls { get; set; }

    public double EstimatedShare { get; set; }
}

internal sealed class FinOpsGroupDto
{
    public long SessionCount { get; set; }

    public long Calls { get; set; }

    public long TotalInput { get; set; }

    public long TotalOutput { get; set; }

    public long TotalReasoning { get; set; }

    /// <summary>Gets or sets the cost in USD (the seed's field); <see cref="Costs"/> has every currency.</summary>
    public decimal TotalCost { get; set; }

    public Dictionary<string, decimal> Costs { get; set; } = [];

    public long UnpricedCalls { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<string>? Models { get; set; }
}

/// <summary>The snake_case report shape, source-generated.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(FinOpsReportDto))]
internal sealed partial class FinOpsJsonContext : JsonSerializerContext;
