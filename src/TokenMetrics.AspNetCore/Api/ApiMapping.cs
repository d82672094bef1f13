using System.Collections.Generic;
using System.Linq;
using Microsoft.AspNetCore.Http;
using TokenMetrics.Reports.Internal;

namespace TokenMetrics.AspNetCore.Api;

/// <summary>Store results to API shapes.</summary>
internal static class ApiMapping
{
    /// <summary>The grand total of a one-row (or, with no records, empty) ungrouped aggregate.</summary>
    public static TotalsJson Totals(IReadOnlyList<TokenUsageAggregate> rows) => TotalsJson.Fill(new TotalsJson(), rows.Count > 0 ? rows[0] : null);

    public static GroupJson Group(TokenUsageAggregate a) => GroupJson.From(a);

    public static SessionSummaryDto Session(TokenUsageSession s, PathString root)
    {
        var escaped = Uri.EscapeDataString(s.SessionId);
        return TotalsJson.Fill(
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
