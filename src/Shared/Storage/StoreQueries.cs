using System.Collections.Generic;
using System.Data.Common;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics.Storage.Internal;

/// <summary>The read side of every SQL store: filters, paging, grouping rules and sessions, over an open connection.</summary>
/// <remarks>Grouping rules: <c>model</c> is the effective model (response, else routed, else request); <c>status</c> is the
/// lowercase status name (<c>ok</c>, <c>error</c>, <c>cancelled</c>, <c>truncated</c>); buckets are UTC hours or days;
/// total tokens are the reported total, else input + output. Groups come largest total first. Cost is summed per currency over
/// the priced records; "unpriced" counts records whose usage is known (reported or estimated) but whose cost is NULL.</remarks>
internal static class StoreQueries
{
    private const string Sums =
        "COUNT(*), " +
        "CAST(COALESCE(SUM(u.input_tokens), 0) AS BIGINT), " +
        "CAST(COALESCE(SUM(u.output_tokens), 0) AS BIGINT), " +
        "CAST(COALESCE(SUM(COALESCE(u.total_tokens, COALESCE(u.input_tokens, 0) + COALESCE(u.output_tokens, 0))), 0) AS BIGINT), " +
        "CAST(COALESCE(SUM(u.cached_tokens), 0) AS BIGINT), " +
        "CAST(COALESCE(SUM(u.cache_write_tokens), 0) AS BIGINT), " +
        "CAST(COALESCE(SUM(u.reasoning_tokens), 0) AS BIGINT), " +
        "CAST(COALESCE(SUM(CASE WHEN u.source = 'estimated' THEN 1 ELSE 0 END), 0) AS BIGINT), " +
        "CAST(COALESCE(SUM(CASE WHEN u.source = 'estimated' THEN COALESCE(u.total_tokens, COALESCE(u.input_tokens, 0) + COALESCE(u.output_tokens, 0)) ELSE 0 END), 0) AS BIGINT), " +
        "CAST(COALESCE(SUM(CASE WHEN u.source = 'missing' THEN 1 ELSE 0 END), 0) AS BIGINT), " +
        "CAST(COALESCE(SUM(CASE WHEN u.status <> 'ok' THEN 1 ELSE 0 END), 0) AS BIGINT), " +
        "CAST(COALESCE(SUM(u.duration_ticks), 0) AS BIGINT), " +
        "CAST(COALESCE(SUM(CASE WHEN u.cost IS NULL AND u.source <> 'missing' THEN 1 ELSE 0 END), 0) AS BIGINT)";

    private const string RollupSums =
        "CAST(SUM(u.calls) AS BIGINT), CAST(SUM(u.input_tokens) AS BIGINT), CAST(SUM(u.output_tokens) AS BIGINT), CAST(SUM(u.total_tokens) AS BIGINT), " +
        "CAST(SUM(u.cached_tokens) AS BIGINT), CAST(SUM(u.cache_write_tokens) AS BIGINT), CAST(SUM(u.reasoning_tokens) AS BIGINT), " +
        "CAST(SUM(u.estimated_calls) AS BIGINT), CAST(SUM(u.estimated_tokens) AS BIGINT), CAST(SUM(u.missing_calls) AS BIGINT), CAST(SUM(u.failed_calls) AS BIGINT), CAST(SUM(u.duration_ticks) AS BIGINT), " +
        "CAST(SUM(u.unpriced_calls) AS BIGINT)";

    private const string TotalTokensSum =
        "CAST(COALESCE(SUM(COALESCE(u.total_tokens, COALESCE(u.input_tokens, 0) + COALESCE(u.output_tokens, 0))), 0) AS BIGINT)";

    private const int SumCount = 13;

    /// <summary>Up to this many keys, a query reads their rollup rows by key (an index probe each) rather than the whole bucket range.</summary>
    private const int ProbedKeys = 50;

    private static readonly (TokenUsageDimensions Dimension, string Key, string Column)[] Dimensions =
    [
        (TokenUsageDimensions.Provider, "provider", "u.provider"),
        (TokenUsageDimensions.Model, "model", "u.model"),
        (TokenUsageDimensions.User, "user", "u.user_id"),
        (TokenUsageDimensions.Consumer, "consumer", "u.consumer"),
        (TokenUsageDimensions.Session, "session", "u.session_id"),
        (TokenUsageDimensions.Tag, "tag", string.Empty),
        (TokenUsageDimensions.Status, "status", "u.status"),
        (TokenUsageDimensions.Feature, "feature", "u.feature"),
    ];

    /// <summary>Checks a limit: below 1 throws, above <see cref="TokenUsageFilter.MaxLimit"/> is capped.</summary>
    /// <param name="limit">The limit asked for.</param>
    /// <param name="name">The parameter name for the exception.</param>
    /// <returns>The limit to use.</returns>
    public static int CapLimit(int limit, string name)
    {
        if (limit < 1)
        {
            throw new ArgumentOutOfRangeException(name, limit, "The limit must be at least 1.");
        }

        return Math.Min(limit, TokenUsageFilter.MaxLimit);
    }

    /// <summary>Appends <c> WHERE ...</c> for a filter on alias <c>u</c> (nothing when the filter is empty).</summary>
    /// <param name="sql">The SQL.</param>
    /// <param name="filter">The filter.</param>
    /// <param name="dialect">The dialect.</param>
    /// <param name="extra">An extra condition (a constant), or <see langword="null"/>.</param>
    /// <returns>The appended text, to repeat in the same statement with the same parameters.</returns>
    public static string AppendWhere(SqlText sql, TokenUsageFilter filter, StoreDialect dialect, string? extra = null)
    {
        var e = dialect.EscapesNul;
        var conditions = new List<string>();
        if (extra is not null)
        {
            conditions.Add(extra);
        }

        if (filter.From is { } from)
        {
            conditions.Add("u.ts >= " + sql.Add(StoreValues.ToUtcTicks(from)));
        }

        if (filter.To is { } to)
        {
            conditions.Add("u.ts < " + sql.Add(StoreValues.ToUtcTicks(to)));
        }

        void Equal(string column, string? value)
        {
            if (value is not null)
            {
                conditions.Add(column + " = " + sql.Add(StoreValues.Encode(value, e)!));
            }
        }

        Equal("u.provider", filter.Provider);
        Equal("u.user_id", filter.UserId);
        Equal("u.consumer", filter.Consumer);
        Equal("u.session_id", filter.SessionId);
        Equal("u.feature", filter.Feature);
        if (filter.Model is not null)
        {
            var p = sql.Add(StoreValues.Encode(filter.Model, e)!);
            conditions.Add($"(u.model = {p} OR u.request_model = {p} OR u.routed_model = {p})");
        }

        if (filter.Status is { } status)
        {
            conditions.Add("u.status = " + sql.Add(StoreValues.StatusName(status)));
        }

        if (filter.Source is { } source)
        {
            conditions.Add("u.source = " + sql.Add(StoreValues.SourceName(source)));
        }

        if (filter.Tags is not null)
        {
            foreach (var (key, value) in filter.Tags)
            {
                ArgumentNullException.ThrowIfNull(key);
                ArgumentNullException.ThrowIfNull(value);
                conditions.Add(dialect.TagEquals(sql.Add(StoreValues.Encode(key, e)!), sql.Add(StoreValues.Encode(value, e)!)));
            }
        }

        var where = conditions.Count == 0 ? string.Empty : " WHERE " + string.Join(" AND ", conditions);
        sql.Append(where);
        return where;
    }

    /// <summary>Runs <see cref="ITokenUsageStore.QueryAsync"/>.</summary>
    /// <param name="connection">An open connection.</param>
    /// <param name="dialect">The dialect.</param>
    /// <param name="query">The query.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The page.</returns>
    public static async ValueTask<TokenUsagePage> QueryAsync(DbConnection connection, StoreDialect dialect, TokenUsageQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = CapLimit(query.Limit, nameof(query));
        ArgumentOutOfRangeException.ThrowIfNegative(query.Offset, nameof(query));

        var count = new SqlText().Append("SELECT COUNT(*) FROM " + dialect.UsageTable + " u");
        _ = AppendWhere(count, query, dialect);
        long total;
        var countCommand = count.CreateCommand(connection);
        await using (countCommand.ConfigureAwait(false))
        {
            total = Convert.ToInt64(await countCommand.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }

        var page = new SqlText().Append("SELECT " + UsageColumns.SelectList("u", dialect) + " FROM " + dialect.UsageTable + " u");
        _ = AppendWhere(page, query, dialect);
        page.Append(" ORDER BY u.ts DESC, u.id DESC LIMIT " + page.Add(limit) + " OFFSET " + page.Add((long)query.Offset));
        var records = await ReadRecordsAsync(connection, dialect, page, cancellationToken).ConfigureAwait(false);
        return new TokenUsagePage(records, total);
    }

    /// <summary>Runs <see cref="ITokenUsageStore.AggregateAsync"/>.</summary>
    /// <param name="connection">An open connection.</param>
    /// <param name="dialect">The dialect.</param>
    /// <param name="query">The query.</param>
    /// <param name="useRollup">Whether the rollup may answer (false forces the scan: tests and benchmarks compare the two).</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The groups.</returns>
    public static async ValueTask<IReadOnlyList<TokenUsageAggregate>> AggregateAsync(DbConnection connection, StoreDialect dialect, TokenUsageAggregateQuery query, bool useRollup, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = CapLimit(query.Limit, nameof(query));
        if (query.GroupBy.HasFlag(TokenUsageDimensions.Tag) && query.TagKey is null)
        {
            throw new ArgumentException("Grouping by tag needs a TagKey.", nameof(query));
        }

        var bucketTicks = query.Bucket switch
        {
            TokenUsageTimeBucket.None => 0L,
            TokenUsageTimeBucket.Hour => StoreValues.HourTicks,
            TokenUsageTimeBucket.Day => StoreValues.DayTicks,
            _ => throw new ArgumentException("Unknown time bucket.", nameof(query)),
        };

        // The rollup answers one dimension (or none), filtered at most on that same dimension, over hour-aligned ranges;
        // anything else scans the records. Both give the same groups in the same order.
        var rollup = useRollup && dialect.RollupTable is not null ? RollupPlan.ForAggregate(query) : null;
        var watermark = rollup is null ? null : await ReadWatermarkAsync(connection, dialect, cancellationToken).ConfigureAwait(false);

        var sql = new SqlText();
        var (keys, groups) = Groups(sql, dialect, query, bucketTicks, rollup is not null);

        // A top N of one dimension's keys: the keys first, ranked on the one or two sums the order needs (a 30-day ranking of 500
        // users reads 18,000 day rows; 16 sums over each cost 15-30 ms in SQLite, 2-3 cheap), then every sum for those keys only.
        string? topKeys = null;
        List<string>? topParameters = null;
        if (rollup is not null && dialect.RanksKeysFirst(query.From?.UtcTicks, query.To?.UtcTicks) && !rollup.Filtered && rollup.Dimension != 0 && bucketTicks == 0 && query.SortBy != TokenUsageAggregateSort.Time)
        {
            var top = await TopKeysAsync(connection, dialect, query, rollup, limit, watermark, cancellationToken).ConfigureAwait(false);
            if (top.Count == 0)
            {
                return [];
            }

            topParameters = top.Select(k => sql.Add(k ?? string.Empty)).ToList();
            topKeys = "dnull IN (0, 1) AND dkey IN (" + string.Join(", ", topParameters) + ")"; // stored text: null is dnull = 1, dkey ''
        }

        sql.Append("SELECT ");
        foreach (var group in groups)
        {
            sql.Append(group).Append(", ");
        }

        if (rollup is not null)
        {
            sql.Append(RollupSums + ", " + dialect.CostSortKey(true) + " FROM ");
            rollup.AppendSource(sql, dialect, query, bucketTicks == StoreValues.HourTicks, topKeys, watermark, byKey: topKeys is not null && limit <= ProbedKeys && topParameters!.Count <= ProbedKeys, topParameters);
        }
        else
        {
            sql.Append(Sums + ", " + dialect.CostSortKey(false) + " FROM " + dialect.UsageTable + " u");
            _ = AppendWhere(sql, query, dialect);
        }

        var ordinals = Enumerable.Range(1, groups.Count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
        if (groups.Count > 0)
        {
            sql.Append(" GROUP BY " + string.Join(", ", ordinals));
        }

        string Ordinal(int i) => (groups.Count + i).ToString(CultureInfo.InvariantCulture);
        var calls = Ordinal(1);
        var total = Ordinal(4);
        var cost = Ordinal(SumCount + 1);
        string[] order = query.SortBy switch
        {
            TokenUsageAggregateSort.Tokens => [total + " DESC"],
            TokenUsageAggregateSort.Cost => [cost + " DESC", total + " DESC"],
            TokenUsageAggregateSort.Calls => [calls + " DESC", total + " DESC"],
            TokenUsageAggregateSort.Time when bucketTicks != 0 => [groups.Count.ToString(CultureInfo.InvariantCulture), total + " DESC"],
            TokenUsageAggregateSort.Time => [total + " DESC"],
            _ => throw new ArgumentException("Unknown sort.", nameof(query)),
        };

        // Ties broken by the group keys, so a page boundary (Limit) is the same on every run.
        sql.Append((rollup is not null ? " HAVING SUM(u.calls) > 0" : " HAVING COUNT(*) > 0") + " ORDER BY " + string.Join(", ", order.Concat(ordinals)) + " LIMIT " + sql.Add(limit));

        var result = new List<TokenUsageAggregate>();
        var command = sql.CreateCommand(connection);
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var (values, bucket) = ReadGroup(reader, dialect, keys, bucketTicks);
                    result.Add(ReadSums(reader, groups.Count, values, bucket));
                }
            }
        }

        if (result.Count == 0)
        {
            return result;
        }

        // Cost per currency, a second grouped pass over the priced records only (a record's currency is not a grouping the
        // caller asked for, so it cannot share the first pass's rows); matched to the groups above by their keys.
        var costSql = new SqlText();
        var (_, costGroups) = Groups(costSql, dialect, query, bucketTicks, rollup is not null);
        costSql.Append("SELECT ");
        foreach (var group in costGroups)
        {
            costSql.Append(group).Append(", ");
        }

        if (rollup is not null)
        {
            // Only the rows of the groups returned (a top 10 of 100,000 sessions reads 10 sessions' rows, not all of them).
            var only = "priced = 1";
            var distinct = rollup.Dimension != 0 && !rollup.Filtered ? result.Select(r => r.Keys[keys[0]]).Distinct().ToList() : [];
            var probed = distinct.Count is > 0 and <= 1000;
            List<string>? keyParameters = null;
            if (probed)
            {
                keyParameters = distinct.Select(k => costSql.Add(StoreValues.Encode(k ?? string.Empty, dialect.EscapesNul)!)).ToList();
                only += " AND dnull IN (0, 1) AND dkey IN (" + string.Join(", ", keyParameters) + ")";
            }

            costSql.Append("u.ccy, " + dialect.RollupCostSum + " FROM ");
            rollup.AppendSource(costSql, dialect, query, bucketTicks == StoreValues.HourTicks, only, watermark, byKey: probed && distinct.Count <= ProbedKeys, keyParameters);
        }
        else
        {
            costSql.Append("COALESCE(u.currency, ''), " + dialect.SumCost() + " FROM " + dialect.UsageTable + " u");
            _ = AppendWhere(costSql, query, dialect, "u.cost IS NOT NULL");
        }

        costSql.Append(" GROUP BY " + string.Join(", ", Enumerable.Range(1, costGroups.Count + 1).Select(i => i.ToString(CultureInfo.InvariantCulture))));
        var byKey = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < result.Count; i++)
        {
            byKey[GroupKey(result[i].Keys, keys, result[i].BucketStart)] = i;
        }

        var costs = new Dictionary<string, decimal>?[result.Count];
        var costCommand = costSql.CreateCommand(connection);
        await using (costCommand.ConfigureAwait(false))
        {
            var reader = await costCommand.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var (values, bucket) = ReadGroup(reader, dialect, keys, bucketTicks);
                    if (byKey.TryGetValue(GroupKey(values, keys, bucket), out var index))
                    {
                        var currency = StoreValues.Decode(reader.GetString(costGroups.Count), dialect.EscapesNul)!;
                        (costs[index] ??= new Dictionary<string, decimal>(StringComparer.Ordinal))[currency] = dialect.ReadCostSum(reader, costGroups.Count + 1);
                    }
                }
            }
        }

        for (var i = 0; i < result.Count; i++)
        {
            if (costs[i] is { } c)
            {
                result[i] = result[i] with { Costs = c };
            }
        }

        return result;
    }

    /// <summary>Returns the stored keys (null for records without one) of the first <paramref name="limit"/> groups of a single-dimension
    /// rollup query in its order, ranked on the sums that order reads (the same values and ties as the full query).</summary>
    private static async ValueTask<List<string?>> TopKeysAsync(DbConnection connection, StoreDialect dialect, TokenUsageAggregateQuery query, RollupPlan rollup, int limit, long? watermark, CancellationToken cancellationToken)
    {
        if (dialect.KeyHash("dkey", "dnull") is not null && StoreRollup.Grains(rollup.Dimension).Length > 1
            && await TopKeysByHashAsync(connection, dialect, query, rollup, limit, watermark, cancellationToken).ConfigureAwait(false) is { } candidates)
        {
            return candidates;
        }

        var sql = new SqlText().Append("SELECT CASE WHEN u.dnull = 1 THEN NULL ELSE u.dkey END, SUM(u.calls), SUM(u.total_tokens), " + dialect.CostSortKey(true) + " FROM ");
        StoreRollup.AppendKeyTotals(sql, dialect, rollup.Dimension, query.From?.UtcTicks, query.To?.UtcTicks, watermark);
        sql.Append(" GROUP BY u.dnull, u.dkey HAVING SUM(u.calls) > 0 ORDER BY " + RankOrder(query.SortBy) + ", 1 LIMIT " + sql.Add(limit));
        var keys = new List<string?>();
        var command = sql.CreateCommand(connection);
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    keys.Add(reader.IsDBNull(0) ? null : reader.GetString(0));
                }
            }
        }

        return keys;
    }

    /// <summary>The order of a key ranking on its sums (column 2 calls, 3 tokens, 4 the cost sort key), as the full query orders
    /// the groups; the text ranking adds the key as the last tie-break, the hash ranking keeps every group tied with the last.</summary>
    private static string RankOrder(TokenUsageAggregateSort sort) => sort switch
    {
        TokenUsageAggregateSort.Tokens => "3 DESC",
        TokenUsageAggregateSort.Cost => "4 DESC, 3 DESC",
        _ => "2 DESC, 3 DESC",
    };

    /// <summary>Returns the keys of the first <paramref name="limit"/> groups and of every group tied with the last, ranked by key hash
    /// (<see cref="StoreRollup.AppendKeyHashRanking"/>); or null when two keys of a candidate share a hash or a sum is negative (the
    /// caller then ranks by text). The caller's full query orders them exactly and keeps <paramref name="limit"/>.</summary>
    private static async ValueTask<List<string?>?> TopKeysByHashAsync(DbConnection connection, StoreDialect dialect, TokenUsageAggregateQuery query, RollupPlan rollup, int limit, long? watermark, CancellationToken cancellationToken)
    {
        var sql = new SqlText();
        StoreRollup.AppendKeyHashRanking(sql, dialect, rollup.Dimension, query.From?.UtcTicks, query.To?.UtcTicks, watermark, RankOrder(query.SortBy), sql.Add((long)limit));
        var keys = new List<string?>();
        var hashes = new HashSet<long>();
        var command = sql.CreateCommand(connection);
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (!hashes.Add(reader.GetInt64(0)) || reader.GetBoolean(3) || reader.IsDBNull(1))
                    {
                        return null;
                    }

                    keys.Add(reader.GetInt32(1) == 1 ? null : reader.GetString(2));
                }
            }
        }

        return keys;
    }

    /// <summary>Runs <see cref="ITokenUsageStore.GetSessionsAsync"/>.</summary>
    /// <param name="connection">An open connection.</param>
    /// <param name="dialect">The dialect.</param>
    /// <param name="query">The query.</param>
    /// <param name="useRollup">Whether the rollup may choose the page (false forces the scan).</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The sessions, in <see cref="TokenUsageSessionQuery.SortBy"/> order.</returns>
    public static async ValueTask<IReadOnlyList<TokenUsageSession>> GetSessionsAsync(DbConnection connection, StoreDialect dialect, TokenUsageSessionQuery query, bool useRollup, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = CapLimit(query.Limit, nameof(query));
        if (query.Offset < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.Offset, "The offset must not be negative.");
        }

        // 1. The page: session ids in order (rollup rows of the session dimension when the query is only a range, else records).
        var rollup = useRollup && dialect.RollupTable is not null ? RollupPlan.ForSessions(query) : null;
        var watermark = rollup is null ? null : await ReadWatermarkAsync(connection, dialect, cancellationToken).ConfigureAwait(false);
        var orderBy = query.SortBy switch
        {
            TokenUsageSessionSort.Updated => " ORDER BY 2 DESC, 1",
            TokenUsageSessionSort.Cost => " ORDER BY 3 DESC, 2 DESC, 1",
            TokenUsageSessionSort.Tokens => " ORDER BY 4 DESC, 2 DESC, 1",
            _ => throw new ArgumentException("Unknown sort.", nameof(query)),
        };
        var page = new SqlText();
        if (rollup is not null && dialect.SessionTable is not null)
        {
            page.Append("SELECT * FROM (");
            StoreSessionSummary.AppendRanking(page, dialect, query.From?.UtcTicks, query.To?.UtcTicks, watermark, orderBy, page.Add(limit + (long)query.Offset));
            page.Append(") u");
        }
        else if (rollup is not null)
        {
            page.Append("SELECT u.dkey, MAX(u.last_ts), " + dialect.CostSortKey(true) + ", SUM(u.total_tokens) FROM ");
            rollup.AppendSource(page, dialect, query, false, "dnull = 0", watermark);
            page.Append(" GROUP BY u.dkey HAVING SUM(u.calls) > 0");
        }
        else
        {
            page.Append("SELECT u.session_id, MAX(u.ts), " + dialect.CostSortKey(false) + ", " + TotalTokensSum + " FROM " + dialect.UsageTable + " u");
            _ = AppendWhere(page, query, dialect, "u.session_id IS NOT NULL");
            page.Append(" GROUP BY u.session_id");
        }

        page.Append(orderBy + " LIMIT " + page.Add(limit) + " OFFSET " + page.Add((long)query.Offset));

        var ids = new List<string>();
        var pageCommand = page.CreateCommand(connection);
        await using (pageCommand.ConfigureAwait(false))
        {
            var reader = await pageCommand.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    ids.Add(reader.GetString(0));
                }
            }
        }

        if (ids.Count == 0)
        {
            return [];
        }

        // 2. The page's sessions from their records (the session index): totals per model, costs, rounds.
        SqlText Detail(string select, string? extra = null)
        {
            var text = new SqlText().Append("SELECT " + select + " FROM " + dialect.UsageTable + " u");
            var inList = dialect.InList("u.session_id", ids.Select(id => text.Add(id)).ToList());
            _ = AppendWhere(text, query, dialect, extra is null ? inList : inList + " AND " + extra);
            return text;
        }

        var sessions = new Dictionary<string, SessionBuilder>(StringComparer.Ordinal);
        var sql = Detail("u.session_id, u.model, MIN(u.ts), MAX(u.ts), " + Sums).Append(" GROUP BY u.session_id, u.model");
        var command = sql.CreateCommand(connection);
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var id = StoreValues.Decode(reader.GetString(0), dialect.EscapesNul)!;
                    if (!sessions.TryGetValue(id, out var session))
                    {
                        sessions[id] = session = new SessionBuilder(id);
                    }

                    var model = reader.IsDBNull(1) ? null : StoreValues.Decode(reader.GetString(1), dialect.EscapesNul);
                    session.Add(model, reader.GetInt64(2), reader.GetInt64(3), ReadSums(reader, 4, new Dictionary<string, string?>(StringComparer.Ordinal) { ["session"] = id }, null));
                }
            }
        }

        var costs = Detail("u.session_id, COALESCE(u.currency, ''), " + dialect.SumCost(), "u.cost IS NOT NULL").Append(" GROUP BY u.session_id, COALESCE(u.currency, '')");
        var costCommand = costs.CreateCommand(connection);
        await using (costCommand.ConfigureAwait(false))
        {
            var reader = await costCommand.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var id = StoreValues.Decode(reader.GetString(0), dialect.EscapesNul)!;
                    sessions[id].Costs[StoreValues.Decode(reader.GetString(1), dialect.EscapesNul)!] = dialect.ReadCostSum(reader, 2);
                }
            }
        }

        if (query.IncludeRounds)
        {
            var rounds = Detail(UsageColumns.SelectList("u", dialect)).Append(" ORDER BY u.session_id, u.ts, u.id");
            foreach (var record in await ReadRecordsAsync(connection, dialect, rounds, cancellationToken).ConfigureAwait(false))
            {
                sessions[record.SessionId!].Rounds.Add(record);
            }
        }

        // In the page's order (the sort and its tie-breaks were decided by the database above).
        return ids.Select(id => sessions[StoreValues.Decode(id, dialect.EscapesNul)!].Build(query.IncludeRounds)).ToList();
    }

    /// <summary>Reads the rollup's watermark (a hint for the query planner; the statements read it again themselves), or null when
    /// the store keeps no watermark.</summary>
    private static async ValueTask<long?> ReadWatermarkAsync(DbConnection connection, StoreDialect dialect, CancellationToken cancellationToken)
    {
        if (dialect.RollupStateTable is null)
        {
            return null;
        }

        var command = new SqlText().Append("SELECT folded_seq FROM " + dialect.RollupStateTable).CreateCommand(connection);
        await using (command.ConfigureAwait(false))
        {
            return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }
    }

    /// <summary>The group keys and SQL group expressions (dimensions, then the time bucket) of an aggregate query.</summary>
    private static (List<string> Keys, List<string> Groups) Groups(SqlText sql, StoreDialect dialect, TokenUsageAggregateQuery query, long bucketTicks, bool rollup)
    {
        var keys = new List<string>();
        var groups = new List<string>();
        foreach (var (dimension, key, column) in Dimensions)
        {
            if (query.GroupBy.HasFlag(dimension))
            {
                keys.Add(key);
                groups.Add(rollup ? "CASE WHEN u.dnull = 1 THEN NULL ELSE u.dkey END"
                    : dimension == TokenUsageDimensions.Tag ? dialect.TagValue(sql.Add(StoreValues.Encode(query.TagKey, dialect.EscapesNul)!)) : column);
            }
        }

        if (bucketTicks != 0)
        {
            var column = rollup ? "u.bucket" : "u.ts";
            groups.Add(string.Create(CultureInfo.InvariantCulture, $"({column} - {column} % {bucketTicks})"));
        }

        return (keys, groups);
    }

    private static (Dictionary<string, string?> Values, DateTimeOffset? Bucket) ReadGroup(DbDataReader reader, StoreDialect dialect, List<string> keys, long bucketTicks)
    {
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < keys.Count; i++)
        {
            values[keys[i]] = reader.IsDBNull(i) ? null : StoreValues.Decode(Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture), dialect.EscapesNul);
        }

        DateTimeOffset? bucket = bucketTicks == 0 ? null : new DateTimeOffset(reader.GetInt64(keys.Count), TimeSpan.Zero);
        return (values, bucket);
    }

    /// <summary>An unambiguous text key of a group (each value length-prefixed, null distinct from empty).</summary>
    private static string GroupKey(IReadOnlyDictionary<string, string?> values, List<string> keys, DateTimeOffset? bucket)
    {
        var key = new System.Text.StringBuilder();
        foreach (var name in keys)
        {
            _ = values[name] is { } v ? key.Append(CultureInfo.InvariantCulture, $"{v.Length}:").Append(v) : key.Append('-');
        }

        return key.Append('@').Append(bucket?.UtcTicks.ToString(CultureInfo.InvariantCulture)).ToString();
    }

    private static async ValueTask<List<TokenUsageRecord>> ReadRecordsAsync(DbConnection connection, StoreDialect dialect, SqlText sql, CancellationToken cancellationToken)
    {
        var records = new List<TokenUsageRecord>();
        var command = sql.CreateCommand(connection);
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    records.Add(UsageColumns.Read(reader, dialect));
                }
            }
        }

        return records;
    }

    private static TokenUsageAggregate ReadSums(DbDataReader reader, int first, Dictionary<string, string?> keys, DateTimeOffset? bucket)
    {
        var v = new long[SumCount];
        for (var i = 0; i < SumCount; i++)
        {
            v[i] = reader.GetInt64(first + i);
        }

        return new TokenUsageAggregate
        {
            Keys = keys,
            BucketStart = bucket,
            Calls = v[0],
            InputTokens = v[1],
            OutputTokens = v[2],
            TotalTokens = v[3],
            CachedInputTokens = v[4],
            CacheWriteInputTokens = v[5],
            ReasoningTokens = v[6],
            EstimatedCalls = v[7],
            EstimatedTokens = v[8],
            MissingCalls = v[9],
            FailedCalls = v[10],
            TotalDuration = TimeSpan.FromTicks(v[11]),
            UnpricedCalls = v[12],
        };
    }

    private sealed class SessionBuilder(string id)
    {
        private readonly List<(string? Model, long First, long Last)> _models = [];
        private TokenUsageAggregate? _totals;

        public List<TokenUsageRecord> Rounds { get; } = [];

        public Dictionary<string, decimal> Costs { get; } = new(StringComparer.Ordinal);

        public void Add(string? model, long first, long last, TokenUsageAggregate sums)
        {
            _models.Add((model, first, last));
            _totals = _totals is null ? sums : _totals with
            {
                Calls = _totals.Calls + sums.Calls,
                InputTokens = _totals.InputTokens + sums.InputTokens,
                OutputTokens = _totals.OutputTokens + sums.OutputTokens,
                TotalTokens = _totals.TotalTokens + sums.TotalTokens,
                CachedInputTokens = _totals.CachedInputTokens + sums.CachedInputTokens,
                CacheWriteInputTokens = _totals.CacheWriteInputTokens + sums.CacheWriteInputTokens,
                ReasoningTokens = _totals.ReasoningTokens + sums.ReasoningTokens,
                EstimatedCalls = _totals.EstimatedCalls + sums.EstimatedCalls,
                EstimatedTokens = _totals.EstimatedTokens + sums.EstimatedTokens,
                MissingCalls = _totals.MissingCalls + sums.MissingCalls,
                FailedCalls = _totals.FailedCalls + sums.FailedCalls,
                TotalDuration = _totals.TotalDuration + sums.TotalDuration,
                UnpricedCalls = _totals.UnpricedCalls + sums.UnpricedCalls,
            };
        }

        public TokenUsageSession Build(bool includeRounds)
        {
            var byFirstUse = _models.OrderBy(m => m.First).ThenBy(m => m.Model, StringComparer.Ordinal).ToList();
            var last = _models.OrderByDescending(m => m.Last).ThenBy(m => m.Model, StringComparer.Ordinal).First();
            return new TokenUsageSession
            {
                SessionId = id,
                CreatedAt = new DateTimeOffset(byFirstUse[0].First, TimeSpan.Zero),
                UpdatedAt = new DateTimeOffset(last.Last, TimeSpan.Zero),
                LastModel = last.Model,
                Models = byFirstUse.Where(m => m.Model is not null).Select(m => m.Model!).ToList(),
                Totals = Costs.Count == 0 ? _totals! : _totals! with { Costs = Costs },
                Rounds = includeRounds ? Rounds : null,
            };
        }
    }
}
