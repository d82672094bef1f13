using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using TokenMetrics.AspNetCore.Endpoints;
using TokenMetrics.Reports.Internal;

namespace TokenMetrics.AspNetCore.Api;

/// <summary>The JSON API under <c>{prefix}/api</c> (and the scrape at <c>{prefix}/metrics</c>).</summary>
internal static class ApiEndpoints
{
    /// <summary>The most rounds a session page returns.</summary>
    public const int MaxRounds = 500;

    private const int TopCount = 10;
    private static readonly TimeSpan DefaultSpan = TimeSpan.FromHours(24);

    private static readonly Dictionary<string, TokenUsageDimensions> Dimensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["model"] = TokenUsageDimensions.Model,
        ["provider"] = TokenUsageDimensions.Provider,
        ["user"] = TokenUsageDimensions.User,
        ["consumer"] = TokenUsageDimensions.Consumer,
        ["session"] = TokenUsageDimensions.Session,
        ["feature"] = TokenUsageDimensions.Feature,
        ["status"] = TokenUsageDimensions.Status,
        ["tag"] = TokenUsageDimensions.Tag,
    };

    public static void Map(RouteGroupBuilder group, TokenMetricsEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(options);
        var api = group.MapGroup("/api");
        _ = api.MapGet("/overview", (RequestDelegate)(c => OverviewAsync(c, options))).WithDisplayName("TokenMetrics API overview");
        _ = api.MapGet("/usage", (RequestDelegate)(c => UsageAsync(c, options))).WithDisplayName("TokenMetrics API usage");
        _ = api.MapGet("/sessions", (RequestDelegate)(c => SessionsAsync(c, options))).WithDisplayName("TokenMetrics API sessions");
        _ = api.MapGet("/sessions/{**id}", (RequestDelegate)(c => SessionAsync(c, options))).WithDisplayName("TokenMetrics API session");
        _ = api.MapGet("/reports/finops.json", (RequestDelegate)(c => FinOpsReport.JsonAsync(c, options))).WithDisplayName("TokenMetrics FinOps report (JSON)");
        _ = api.MapGet("/reports/finops.csv", (RequestDelegate)(c => FinOpsReport.CsvAsync(c, options))).WithDisplayName("TokenMetrics FinOps report (CSV)");
        SettingsEndpoints.Map(api);
        if (group is IEndpointRouteBuilder routes && routes.ServiceProvider.GetService<TokenMetricsPrometheus>() is { } metrics)
        {
            _ = group.MapGet("/metrics", (RequestDelegate)(c => TokenMetricsPrometheusEndpointRouteBuilderExtensions.WriteAsync(c, metrics)))
                .WithDisplayName("TokenMetrics Prometheus scrape");
        }
    }

    /// <summary>The group's root as the browser sees it (path base + prefix), for links.</summary>
    public static PathString Root(HttpContext context) =>
        context.Request.PathBase.Add(context.GetEndpoint()?.Metadata.GetMetadata<TokenMetricsEndpointMetadata>()?.Prefix ?? PathString.Empty);

    private static async Task OverviewAsync(HttpContext context, TokenMetricsEndpointOptions options)
    {
        var query = await ApiQuery.ParseAsync(context, options, DefaultSpan).ConfigureAwait(false);
        if (await query.FailedAsync(context).ConfigureAwait(false) || await ApiHttp.StoreOrFailAsync(context).ConfigureAwait(false) is not { } store)
        {
            return;
        }

        var ct = context.RequestAborted;
        var bucket = query.To - query.From <= TimeSpan.FromHours(72) ? TokenUsageTimeBucket.Hour : TokenUsageTimeBucket.Day;
        var baseQuery = query.Aggregate();
        var totals = store.AggregateAsync(baseQuery with { Limit = 1 }, ct).AsTask();
        var series = store.AggregateAsync(baseQuery with { Bucket = bucket, SortBy = TokenUsageAggregateSort.Time, Limit = TokenUsageFilter.MaxLimit }, ct).AsTask();
        var byModel = store.AggregateAsync(baseQuery with { GroupBy = TokenUsageDimensions.Model, SortBy = TokenUsageAggregateSort.Cost, Limit = TopCount }, ct).AsTask();
        var topUsers = store.AggregateAsync(baseQuery with { GroupBy = TokenUsageDimensions.User, SortBy = TokenUsageAggregateSort.Cost, Limit = TopCount }, ct).AsTask();
        var topSessions = store.GetSessionsAsync(query.Sessions() with { SortBy = TokenUsageSessionSort.Cost, Limit = TopCount }, ct).AsTask();
        await Task.WhenAll(totals, series, byModel, topUsers, topSessions).ConfigureAwait(false);
        var root = Root(context);
        var dto = new OverviewDto
        {
            From = query.From,
            To = query.To,
            Bucket = bucket == TokenUsageTimeBucket.Hour ? "hour" : "day",
            Totals = ApiMapping.Totals(totals.Result),
            Series = [.. series.Result.Where(g => g.BucketStart is not null && g.Calls > 0).OrderBy(g => g.BucketStart)
                .Select(g => TotalsJson.Fill(new SeriesPointDto { Bucket = g.BucketStart!.Value }, g))],
            ByModel = [.. byModel.Result.Select(ApiMapping.Group)],
            TopUsers = [.. topUsers.Result.Select(ApiMapping.Group)],
            TopSessions = [.. topSessions.Result.Select(s => ApiMapping.Session(s, root))],
        };
        await ApiHttp.WriteJsonAsync(context, dto, ApiJsonContext.Default.OverviewDto).ConfigureAwait(false);
    }

    private static async Task UsageAsync(HttpContext context, TokenMetricsEndpointOptions options)
    {
        var query = await ApiQuery.ParseAsync(context, options, DefaultSpan).ConfigureAwait(false);
        if (await query.FailedAsync(context).ConfigureAwait(false))
        {
            return;
        }

        var q = context.Request.Query;
        var names = new List<string>();
        var dimensions = TokenUsageDimensions.None;
        var bucket = TokenUsageTimeBucket.None;
        foreach (var item in q["groupBy"].SelectMany(v => (v ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            var name = item.ToLowerInvariant();
            if (Dimensions.TryGetValue(name, out var dimension))
            {
                dimensions |= dimension;
            }
            else if (name is "hour" or "day" && bucket == TokenUsageTimeBucket.None)
            {
                bucket = name == "hour" ? TokenUsageTimeBucket.Hour : TokenUsageTimeBucket.Day;
            }
            else
            {
                await ApiHttp.WriteErrorAsync(context, StatusCodes.Status400BadRequest, name is "hour" or "day"
                    ? "'groupBy' may name one time bucket (hour or day)."
                    : $"Unknown groupBy '{ApiQuery.Clip(item)}': use model, provider, user, consumer, session, feature, status, tag, hour or day.").ConfigureAwait(false);
                return;
            }

            if (!names.Contains(name, StringComparer.Ordinal))
            {
                names.Add(name);
            }
        }

        var tagKey = q["tagKey"].ToString();
        if ((dimensions & TokenUsageDimensions.Tag) != 0 && string.IsNullOrEmpty(tagKey))
        {
            await ApiHttp.WriteErrorAsync(context, StatusCodes.Status400BadRequest, "groupBy=tag needs 'tagKey' (the tag whose values form the groups).").ConfigureAwait(false);
            return;
        }

        var sortText = q["sort"].ToString();
        TokenUsageAggregateSort sort;
        if (sortText.Length == 0)
        {
            sort = bucket != TokenUsageTimeBucket.None ? TokenUsageAggregateSort.Time : TokenUsageAggregateSort.Tokens;
        }
        else if (!TryParseName(sortText, out sort))
        {
            await ApiHttp.WriteErrorAsync(context, StatusCodes.Status400BadRequest, $"Unknown sort '{ApiQuery.Clip(sortText)}': use tokens, cost, calls or time.").ConfigureAwait(false);
            return;
        }

        if (ApiQuery.Int(q, "limit", 100, 1, out var limit) is { } limitError)
        {
            await ApiHttp.WriteErrorAsync(context, StatusCodes.Status400BadRequest, limitError).ConfigureAwait(false);
            return;
        }

        if (await ApiHttp.StoreOrFailAsync(context).ConfigureAwait(false) is not { } store)
        {
            return;
        }

        var ct = context.RequestAborted;
        var baseQuery = query.Aggregate();
        var totals = await store.AggregateAsync(baseQuery with { Limit = 1 }, ct).ConfigureAwait(false);
        var groups = await store.AggregateAsync(
            baseQuery with
            {
                GroupBy = dimensions,
                Bucket = bucket,
                TagKey = string.IsNullOrEmpty(tagKey) ? null : tagKey,
                SortBy = sort,
                Limit = Math.Min(limit, options.MaxPageSize),
            },
            ct).ConfigureAwait(false);
        var dto = new UsageDto
        {
            From = query.From,
            To = query.To,
            GroupBy = names,
            Totals = ApiMapping.Totals(totals),
            Groups = [.. groups.Take(Math.Min(limit, options.MaxPageSize)).Select(ApiMapping.Group)],
        };
        await ApiHttp.WriteJsonAsync(context, dto, ApiJsonContext.Default.UsageDto).ConfigureAwait(false);
    }

    private static async Task SessionsAsync(HttpContext context, TokenMetricsEndpointOptions options)
    {
        var query = await ApiQuery.ParseAsync(context, options, DefaultSpan).ConfigureAwait(false);
        if (await query.FailedAsync(context).ConfigureAwait(false))
        {
            return;
        }

        var q = context.Request.Query;
        var sortText = q["sort"].ToString();
        var sort = TokenUsageSessionSort.Updated;
        if (sortText.Length > 0 && !TryParseName(sortText, out sort))
        {
            await ApiHttp.WriteErrorAsync(context, StatusCodes.Status400BadRequest, $"Unknown sort '{ApiQuery.Clip(sortText)}': use updated, cost or tokens.").ConfigureAwait(false);
            return;
        }

        if ((ApiQuery.Int(q, "limit", 20, 1, out var limit) ?? ApiQuery.Int(q, "offset", 0, 0, out _)) is { } error)
        {
            await ApiHttp.WriteErrorAsync(context, StatusCodes.Status400BadRequest, error).ConfigureAwait(false);
            return;
        }

        _ = ApiQuery.Int(q, "offset", 0, 0, out var offset);
        if (await ApiHttp.StoreOrFailAsync(context).ConfigureAwait(false) is not { } store)
        {
            return;
        }

        limit = Math.Min(limit, options.MaxPageSize);

        // One more than the page tells whether there is a next page without counting every session.
        var sessions = await store.GetSessionsAsync(query.Sessions() with { SortBy = sort, Offset = offset, Limit = limit + 1 }, context.RequestAborted).ConfigureAwait(false);
        var root = Root(context);
        var dto = new SessionsDto
        {
            Sessions = [.. sessions.Take(limit).Select(s => ApiMapping.Session(s, root))],
            Offset = offset,
            Limit = limit,
            HasMore = sessions.Count > limit,
        };
        await ApiHttp.WriteJsonAsync(context, dto, ApiJsonContext.Default.SessionsDto).ConfigureAwait(false);
    }

    private static async Task SessionAsync(HttpContext context, TokenMetricsEndpointOptions options)
    {
        // A deep link works whatever its age: no default time range, only the one asked for.
        var query = await ApiQuery.ParseAsync(context, options, DefaultSpan, timeOptional: true).ConfigureAwait(false);
        if (await query.FailedAsync(context).ConfigureAwait(false))
        {
            return;
        }

        var id = SessionIds.FromRequest(context, "/api/sessions/");
        if (string.IsNullOrEmpty(id))
        {
            await ApiHttp.WriteErrorAsync(context, StatusCodes.Status400BadRequest, "The session id is missing.").ConfigureAwait(false);
            return;
        }

        if (await ApiHttp.StoreOrFailAsync(context).ConfigureAwait(false) is not { } store)
        {
            return;
        }

        var sessions = await store.GetSessionsAsync(query.Sessions() with { SessionId = id, IncludeRounds = true, Limit = 1 }, context.RequestAborted).ConfigureAwait(false);
        var session = sessions.FirstOrDefault(s => string.Equals(s.SessionId, id, StringComparison.Ordinal));
        if (session is null)
        {
            await ApiHttp.WriteErrorAsync(context, StatusCodes.Status404NotFound, "Session not found").ConfigureAwait(false);
            return;
        }

        var rounds = session.Rounds ?? [];
        var dto = new SessionDetailDto
        {
            Session = ApiMapping.Session(session, Root(context)),
            Rounds = [.. rounds.Take(MaxRounds).Select(ApiMapping.Round)],
            RoundsTruncated = rounds.Count > MaxRounds,
        };
        await ApiHttp.WriteJsonAsync(context, dto, ApiJsonContext.Default.SessionDetailDto).ConfigureAwait(false);
    }

    private static bool TryParseName<T>(string text, out T value)
        where T : struct, Enum =>
        Enum.TryParse(text, ignoreCase: true, out value) && Enum.IsDefined(value) && !char.IsAsciiDigit(text[0]) && text[0] != '-';
}
