using System.Collections.Generic;
using System.Linq;
using Microsoft.AspNetCore.Http;

using TokenMetrics.Reports.Internal;

namespace TokenMetrics.AspNetCore.Api;

/// <summary>Store results to API shapes.</summary>
internal static class ApiMapping
{
    public static T Fill<T>(T dto, TokenUsageAggregate? a)
        where T : TotalsDto
    {
        if (a is null)
        {
            return dto;
        }

        dto.Calls = a.Calls;
        dto.InputTokens = a.InputTokens;
        dto.OutputTokens = a.OutputTokens;
        dto.TotalTokens = a.TotalTokens;
        dto.CachedInputTokens = a.CachedInputTokens;
        dto.CacheWriteInputTokens = a.CacheWriteInputTokens;
        dto.ReasoningTokens = a.ReasoningTokens;
        dto.EstimatedCalls = a.EstimatedCalls;
        dto.EstimatedTokens = a.EstimatedTokens;
        dto.MissingCalls = a.MissingCalls;
        dto.FailedCalls = a.FailedCalls;
        dto.EstimatedShare = a.TotalTokens > 0 ? Math.Clamp((double)a.EstimatedTokens / a.TotalTokens, 0, 1) : 0;
        dto.ReportedShare = a.TotalTokens > 0 ? 1 - dto.EstimatedShare : 0;
        dto.AverageLatencyMs = a.Calls > 0 ? Math.Round(a.TotalDuration.TotalMilliseconds / a.Calls, 3) : 0;
        dto.Cost = new Dictionary<string, decimal>(a.Costs, StringComparer.Ordinal);
        dto.UnpricedCalls = a.UnpricedCalls;
        return dto;
    }

    /// <summary>The grand total of a one-row (or, with no records, empty) ungrouped aggregate.</summary>
    public static TotalsDto Totals(IReadOnlyList<TokenUsageAggregate> rows) => Fill(new TotalsDto(), rows.Count > 0 ? rows[0] : null);

    public static GroupDto Group(TokenUsageAggregate a) =>
        Fill(new GroupDto { Key = new Dictionary<string, string?>(a.Keys, StringComparer.Ordinal), Bucket = a.BucketStart }, a);

    public static SessionSummaryDto Session(TokenUsageSession s, PathString root)
    {
        var escaped = Uri.EscapeDataString(s.SessionId);
        return Fill(
            new SessionSummaryDto
            {
                SessionId = s.SessionId,
                CreatedAt = s.CreatedAt,
                UpdatedAt = s.UpdatedAt,
                LastModel = s.LastModel,
                Models = s.Models,
                Url = root.Value + "/sessions/" + escaped,
                ApiUrl = root.Value + "/api/sessions/" + escaped,
            },
            s.Totals);
    }

    public static RoundJson Round(TokenUsageRecord r) => RoundJson.From(r);

    public static SettingsDto Settings(TokenMetricsSettings s) => new()
    {
        Enabled = s.Enabled,
        EstimateMissingUsage = s.EstimateMissingUsage,
        CaptureContent = s.CaptureContent,
        SamplingRatio = s.SamplingRatio,
        DisabledExporters = s.DisabledExporters?.Order(StringComparer.Ordinal).ToList() ?? [],
        PriceOverrides = s.PriceOverrides?.Keys.Order(StringComparer.OrdinalIgnoreCase).ToList() ?? [],
        Budgets = s.Budgets?.Where(b => b is not null).Select(b => b.Name).ToList() ?? [],
    };
}
