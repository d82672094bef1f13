using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using TokenMetrics.Reports.Internal;

namespace TokenMetrics.AspNetCore.Api;

/// <summary>The FinOps reports: <c>api/reports/finops.json</c> (by model, by day, by user, with a summary) and
/// <c>api/reports/finops.csv?by=model|day|user</c>, as attachments. Every number comes from the store's grouped totals.</summary>
internal static class FinOpsReport
{
    private static readonly TimeSpan DefaultSpan = TimeSpan.FromDays(30);

    public static async Task JsonAsync(HttpContext context, TokenMetricsEndpointOptions options)
    {
        var query = await ApiQuery.ParseAsync(context, options, DefaultSpan).ConfigureAwait(false);
        if (await query.FailedAsync(context).ConfigureAwait(false) || await ApiHttp.StoreOrFailAsync(context).ConfigureAwait(false) is not { } store)
        {
            return;
        }

        var ct = context.RequestAborted;
        var q = query.Aggregate();
        var totals = await store.AggregateAsync(q with { Limit = 1 }, ct).ConfigureAwait(false);
        var total = totals.Count > 0 ? totals[0] : new TokenUsageAggregate();
        var sessions = await store.AggregateAsync(q with { GroupBy = TokenUsageDimensions.Session, Limit = TokenUsageFilter.MaxLimit }, ct).ConfigureAwait(false);
        var report = new FinOpsReportDto
        {
            GeneratedAt = Now(context),
            From = query.From,
            To = query.To,
            Summary = new FinOpsSummaryDto
            {
                TotalSessions = sessions.Count(s => Key(s, "session") is not null),
                TotalCalls = total.Calls,
                TotalInputTokens = total.InputTokens,
                TotalOutputTokens = total.OutputTokens,
                TotalReasoningTokens = total.ReasoningTokens,
                TotalCostUsd = total.Costs.GetValueOrDefault("USD"),
                Costs = new Dictionary<string, decimal>(total.Costs, StringComparer.Ordinal),
                UnpricedCalls = total.UnpricedCalls,
                EstimatedShare = total.TotalTokens > 0 ? Math.Clamp((double)total.EstimatedTokens / total.TotalTokens, 0, 1) : 0,
            },
        };
        foreach (var (key, group) in await GroupsAsync(store, q, "model", ct).ConfigureAwait(false))
        {
            report.ByModel[key] = group;
        }

        foreach (var (key, group) in await GroupsAsync(store, q, "day", ct).ConfigureAwait(false))
        {
            report.ByDate[key] = group;
        }

        foreach (var (key, group) in await GroupsAsync(store, q, "user", ct).ConfigureAwait(false))
        {
            report.ByUser[key] = group;
        }

        Attachment(context, query, "json");
        ApiHttp.NoStore(context.Response);
        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, report, FinOpsJsonContext.Default.FinOpsReportDto, ct).ConfigureAwait(false);
    }

    public static async Task CsvAsync(HttpContext context, TokenMetricsEndpointOptions options)
    {
        var by = context.Request.Query["by"].ToString();
        by = by.Length == 0 ? "model" : by.ToLowerInvariant();
        if (by is not ("model" or "day" or "user"))
        {
            await ApiHttp.WriteErrorAsync(context, StatusCodes.Status400BadRequest, $"Unknown 'by' '{ApiQuery.Clip(by)}': use model, day or user.").ConfigureAwait(false);
            return;
        }

        var query = await ApiQuery.ParseAsync(context, options, DefaultSpan).ConfigureAwait(false);
        if (await query.FailedAsync(context).ConfigureAwait(false) || await ApiHttp.StoreOrFailAsync(context).ConfigureAwait(false) is not { } store)
        {
            return;
        }

        var groups = await GroupsAsync(store, query.Aggregate(), by, context.RequestAborted).ConfigureAwait(false);
        var text = new StringBuilder();
        var first = by switch { "day" => "Date", "user" => "User", _ => "Model" };
        var header = new List<string> { first, "Sessions", "Calls", "Input Tokens", "Output Tokens", "Reasoning Tokens", "Cost", "Currency" };
        if (by == "day")
        {
            header.Add("Models");
        }

        Csv.AppendRow(text, header);
        foreach (var (key, g) in groups.OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var costs = g.Costs.OrderBy(c => c.Key, StringComparer.Ordinal).ToList();
            var row = new List<string?>
            {
                key,
                Number(g.SessionCount),
                Number(g.Calls),
                Number(g.TotalInput),
                Number(g.TotalOutput),
                Number(g.TotalReasoning),

                // Several currencies (rare) share one cell each, in the same order, rather than adding unlike amounts.
                string.Join(";", costs.Select(c => c.Value.ToString(CultureInfo.InvariantCulture))),
                string.Join(";", costs.Select(c => c.Key)),
            };
            if (by == "day")
            {
                row.Add(string.Join(";", g.Models ?? []));
            }

            Csv.AppendRow(text, row);
        }

        Attachment(context, query, "csv");
        ApiHttp.NoStore(context.Response);
        context.Response.ContentType = "text/csv; charset=utf-8";
        await context.Response.WriteAsync(text.ToString(), Encoding.UTF8, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>One group per model, day or user (key <c>(none)</c> for records without one), with its distinct-session count.</summary>
    private static async Task<Dictionary<string, FinOpsGroupDto>> GroupsAsync(ITokenUsageStore store, TokenUsageAggregateQuery q, string by, CancellationToken ct)
    {
        var (dimension, bucket, keyName) = by switch
        {
            "day" => (TokenUsageDimensions.None, TokenUsageTimeBucket.Day, (string?)null),
            "user" => (TokenUsageDimensions.User, TokenUsageTimeBucket.None, "user"),
            _ => (TokenUsageDimensions.Model, TokenUsageTimeBucket.None, "model"),
        };
        var rows = await store.AggregateAsync(q with { GroupBy = dimension, Bucket = bucket, Limit = TokenUsageFilter.MaxLimit }, ct).ConfigureAwait(false);
        var withSessions = await store.AggregateAsync(q with { GroupBy = dimension | TokenUsageDimensions.Session, Bucket = bucket, Limit = TokenUsageFilter.MaxLimit }, ct).ConfigureAwait(false);
        var result = new Dictionary<string, FinOpsGroupDto>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var key = GroupKey(row, keyName);
            result[key] = new FinOpsGroupDto
            {
                Calls = row.Calls,
                TotalInput = row.InputTokens,
                TotalOutput = row.OutputTokens,
                TotalReasoning = row.ReasoningTokens,
                TotalCost = row.Costs.GetValueOrDefault("USD"),
                Costs = new Dictionary<string, decimal>(row.Costs, StringComparer.Ordinal),
                UnpricedCalls = row.UnpricedCalls,
            };
        }

        foreach (var row in withSessions)
        {
            if (Key(row, "session") is not null && result.TryGetValue(GroupKey(row, keyName), out var group))
            {
                group.SessionCount++;
            }
        }

        if (by == "day")
        {
            var models = await store.AggregateAsync(q with { GroupBy = TokenUsageDimensions.Model, Bucket = bucket, Limit = TokenUsageFilter.MaxLimit }, ct).ConfigureAwait(false);
            foreach (var row in models)
            {
                if (result.TryGetValue(GroupKey(row, null), out var group) && Key(row, "model") is { } model)
                {
                    (group.Models ??= []).Add(model);
                }
            }

            foreach (var group in result.Values)
            {
                group.Models = group.Models?.Order(StringComparer.Ordinal).ToList() ?? [];
            }
        }

        return result;
    }

    private static string GroupKey(TokenUsageAggregate row, string? keyName) => keyName is null
        ? row.BucketStart?.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "(none)"
        : Key(row, keyName) ?? "(none)";

    private static string? Key(TokenUsageAggregate row, string name) => row.Keys.TryGetValue(name, out var value) ? value : null;

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static DateTimeOffset Now(HttpContext context) =>
        ((TimeProvider?)context.RequestServices.GetService(typeof(TimeProvider)) ?? TimeProvider.System).GetUtcNow();

    private static void Attachment(HttpContext context, ApiQuery query, string extension)
    {
        static string Day(DateTimeOffset t) => t.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"tokenmetrics-finops-{Day(query.From)}-{Day(query.To)}.{extension}\"";
    }
}
