using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace TokenMetrics.Storage.Internal;

/// <summary>The rollup every SQL store keeps beside its records (schema version 4): totals per time bucket (UTC hour and UTC
/// day), per single dimension (none, provider, model, user, consumer, session, status, feature), per priced flag and currency.</summary>
/// <remarks>
/// <para>One row per (<c>dim</c>, <c>grain</c>, <c>bucket</c>, <c>dnull</c>, <c>dkey</c>, <c>priced</c>, <c>ccy</c>): <c>dim</c> is the
/// <see cref="TokenUsageDimensions"/> flag (0 = grand total), <c>dkey</c> the dimension's stored value (<c>dnull</c> = 1 and
/// <c>dkey</c> = '' when the record has none), <c>priced</c>/<c>ccy</c> split priced records by currency. Each record adds to
/// 15 rows (8 dimensions x 2 grains, sessions by hour only); a dashboard group over a range reads about (buckets x distinct keys) rows instead of
/// every record, and whole days come from the day grain.</para>
/// <para>Kept in the writing transaction by ONE set-based upsert per written batch (the batch's new records, grouped in SQL),
/// not per-row triggers and not one statement per key; retention subtracts the deleted records the same way and drops rows
/// whose calls reach zero. <c>last_ts</c> is the newest record of the row: it stays exact because retention only ever
/// deletes the oldest records.</para>
/// </remarks>
internal static class StoreRollup
{
    /// <summary>The dimension codes kept (the <see cref="TokenUsageDimensions"/> values; 0 = the grand total).</summary>
    public static readonly (int Code, string? Column)[] Dimensions =
    [
        (0, null),
        ((int)TokenUsageDimensions.Provider, "u.provider"),
        ((int)TokenUsageDimensions.Model, "u.model"),
        ((int)TokenUsageDimensions.User, "u.user_id"),
        ((int)TokenUsageDimensions.Consumer, "u.consumer"),
        ((int)TokenUsageDimensions.Session, "u.session_id"),
        ((int)TokenUsageDimensions.Status, "u.status"),
        ((int)TokenUsageDimensions.Feature, "u.feature"),
    ];

    /// <summary>How many records a store instance writes before it folds them into the rollup (schema version 6): large groups
    /// make the fold cheap per record, and a query reads at most about this many unfolded records besides the rollup.</summary>
    public const long FoldThreshold = 10_000;

    /// <summary>The most records folded in one transaction (a backlog after a crash is folded in steps).</summary>
    public const long FoldChunk = 100_000;

    /// <summary>Returns whether [from, to) holds a week or more of whole UTC days (a null end: unbounded): enough day rows that reading
    /// a few keys' rows through an index by key beats reading the whole range (SQLite's day-key hint, PostgreSQL's ranking of keys
    /// first).</summary>
    /// <param name="from">The start, or null.</param>
    /// <param name="to">The end, or null.</param>
    /// <returns>Whether the whole days in the range number 7 or more.</returns>
    public static bool SpansWeekOfDays(long? from, long? to) =>
        from is not { } f || to is not { } t || (t / StoreValues.DayTicks) - ((f + StoreValues.DayTicks - 1) / StoreValues.DayTicks) >= 7;

    /// <summary>The sum columns, in order.</summary>
    public static readonly string[] SumColumns =
    [
        "calls", "input_tokens", "output_tokens", "total_tokens", "cached_tokens", "cache_write_tokens", "reasoning_tokens",
        "estimated_calls", "estimated_tokens", "missing_calls", "failed_calls", "duration_ticks", "unpriced_calls",
    ];

    /// <summary>The record columns the upsert reads (a <c>RETURNING</c> list for PostgreSQL's data-modifying CTE).</summary>
    public const string SourceColumns =
        "ts, provider, model, user_id, consumer, session_id, status, feature, source, input_tokens, output_tokens, total_tokens, " +
        "cached_tokens, cache_write_tokens, reasoning_tokens, duration_ticks, cost, currency";

    /// <summary>A record's total tokens as the rollup counts them (alias <c>u</c>).</summary>
    public const string TotalOfRecord = "COALESCE(u.total_tokens, COALESCE(u.input_tokens, 0) + COALESCE(u.output_tokens, 0))";

    /// <summary>The CTE the upsert joins (<c>tm_d</c>: the (dimension, grain) pairs kept), without the leading <c>WITH</c>.</summary>
    public static string Ctes { get; } =
        "tm_d(dim, grain) AS (VALUES " + string.Join(", ", Dimensions.SelectMany(d => Grains(d.Code)
            .Select(g => "(" + d.Code.ToString(CultureInfo.InvariantCulture) + ", " + g.ToString(CultureInfo.InvariantCulture) + ")"))) + ")";

    /// <summary>Returns the grains kept for a dimension: hour and day, except sessions (hour only: a session rarely outlives an
    /// hour, so day rows would nearly double its rows and save no reading).</summary>
    /// <param name="dimension">The dimension code.</param>
    /// <returns>The grains, in ticks.</returns>
    public static long[] Grains(int dimension) =>
        dimension == (int)TokenUsageDimensions.Session ? [StoreValues.HourTicks] : [StoreValues.HourTicks, StoreValues.DayTicks];

    /// <summary>Builds the upsert adding (or, with <paramref name="sign"/> -1, subtracting) the records of <paramref name="source"/>
    /// to the rollup; the caller puts <see cref="Ctes"/> in the statement's <c>WITH</c>.</summary>
    /// <param name="dialect">The dialect.</param>
    /// <param name="source">A table or CTE name holding records (alias <c>u</c> is added).</param>
    /// <param name="where">A condition on <c>u</c> (a constant or generated parameters), or <c>1 = 1</c>.</param>
    /// <param name="sign">1 to add, -1 to subtract.</param>
    /// <returns>The statement (without <c>WITH</c>).</returns>
    public static string Upsert(StoreDialect dialect, string source, string where, int sign) =>
        UpsertSelect(dialect, Rows(dialect, source + " u CROSS JOIN tm_d", where, sign));

    /// <summary>Builds the upsert adding rollup-shaped rows already summed (the columns of <see cref="ColumnList"/>, e.g. by
    /// <see cref="RollupAccumulator"/>) from a table to the rollup.</summary>
    /// <param name="dialect">The dialect.</param>
    /// <param name="table">The table holding the rows.</param>
    /// <returns>The statement.</returns>
    public static string UpsertRows(StoreDialect dialect, string table) =>
        UpsertSelect(dialect, "SELECT " + ColumnList(dialect) + " FROM " + table);

    /// <summary>Builds the upsert adding one summed rollup row, bound by position (the columns of <see cref="ColumnList"/>).</summary>
    /// <param name="dialect">The dialect.</param>
    /// <returns>The statement.</returns>
    public static string UpsertValues(StoreDialect dialect) =>
        "INSERT INTO " + dialect.RollupTable + " AS r (" + ColumnList(dialect) + ") VALUES ("
        + string.Join(", ", ColumnList(dialect).Split(',').Select(_ => "?")) + ")" + OnConflict(dialect);

    // ORDER BY the key: concurrent writers (PostgreSQL) then lock shared rows in one order, so they queue instead of deadlocking.
    private static string UpsertSelect(StoreDialect dialect, string select) =>
        "INSERT INTO " + dialect.RollupTable + " AS r (" + ColumnList(dialect) + ") " + select + " ORDER BY 1, 2, 3, 4, 5, 6, 7" + OnConflict(dialect);

    private static string OnConflict(StoreDialect dialect) =>
        " ON CONFLICT " + dialect.RollupConflictTarget + " DO UPDATE SET "
        + string.Join(", ", SumColumns.Concat(dialect.RollupCostColumns).Select(c => c + " = r." + c + " + excluded." + c)
            .Append("last_ts = " + dialect.Greatest + "(r.last_ts, excluded.last_ts)"));

    /// <summary>Gets the rollup table's columns in the order <see cref="Rows"/> produces them.</summary>
    /// <param name="dialect">The dialect.</param>
    /// <returns>The comma-separated column list.</returns>
    public static string ColumnList(StoreDialect dialect) =>
        "dim, grain, bucket, dnull, dkey, priced, ccy, " + string.Join(", ", SumColumns) + ", last_ts, " + string.Join(", ", dialect.RollupCostColumns);

    /// <summary>Builds the SELECT grouping records into rollup-shaped rows (the columns of <see cref="ColumnList"/>).</summary>
    /// <param name="dialect">The dialect.</param>
    /// <param name="from">The FROM clause: records as <c>u</c> joined with (dimension, grain) pairs as <c>tm_d</c>.</param>
    /// <param name="where">A condition on <c>u</c>.</param>
    /// <param name="sign">1 to add, -1 to subtract.</param>
    /// <returns>The SELECT.</returns>
    public static string Rows(StoreDialect dialect, string from, string where, int sign)
    {
        var s = sign < 0 ? "-" : string.Empty;
        var key = "CASE tm_d.dim " + string.Concat(Dimensions.Where(d => d.Column is not null)
            .Select(d => "WHEN " + d.Code.ToString(CultureInfo.InvariantCulture) + " THEN " + d.Column + " ")) + "END";
        string Sum(string expression) => "CAST(" + s + "COALESCE(SUM(" + expression + "), 0) AS BIGINT)";
        var sums = new[]
        {
            "CAST(" + s + "COUNT(*) AS BIGINT)",
            Sum("u.input_tokens"),
            Sum("u.output_tokens"),
            Sum(TotalOfRecord),
            Sum("u.cached_tokens"),
            Sum("u.cache_write_tokens"),
            Sum("u.reasoning_tokens"),
            Sum("CASE WHEN u.source = 'estimated' THEN 1 ELSE 0 END"),
            Sum("CASE WHEN u.source = 'estimated' THEN " + TotalOfRecord + " ELSE 0 END"),
            Sum("CASE WHEN u.source = 'missing' THEN 1 ELSE 0 END"),
            Sum("CASE WHEN u.status <> 'ok' THEN 1 ELSE 0 END"),
            Sum("u.duration_ticks"),
            Sum("CASE WHEN u.cost IS NULL AND u.source <> 'missing' THEN 1 ELSE 0 END"),
        };
        return "SELECT tm_d.dim, tm_d.grain, u.ts - u.ts % tm_d.grain, "
            + "CASE WHEN " + key + " IS NULL THEN 1 ELSE 0 END, COALESCE(" + key + ", ''), "
            + "CASE WHEN u.cost IS NULL THEN 0 ELSE 1 END, CASE WHEN u.cost IS NULL THEN '' ELSE COALESCE(u.currency, '') END, "
            + string.Join(", ", sums) + ", MAX(u.ts), " + dialect.RollupCostValues(sign)
            + " FROM " + from + " WHERE " + where
            + " GROUP BY 1, 2, 3, 4, 5, 6, 7";
    }

    /// <summary>Gets the condition selecting the records not yet folded into the rollup (alias <c>u</c>): those past the
    /// persisted watermark.</summary>
    /// <param name="dialect">The dialect (its <see cref="StoreDialect.RollupStateTable"/> is set).</param>
    /// <param name="sql">The SQL the condition goes into (for the hint's parameter), or null without a hint.</param>
    /// <param name="hint">The watermark read just before the statement, or null. The statement's own read of it keeps the answer
    /// exact (a fold may commit in between); the hint, a parameter, lets PostgreSQL's planner see that few records are past it and
    /// read them through the sequence index (to a subquery's value it gives a third of the table, and scans it).</param>
    /// <returns>The condition.</returns>
    public static string Unfolded(StoreDialect dialect, SqlText? sql = null, long? hint = null) =>
        (sql is not null && hint is { } h ? "u.seq > " + sql.Add(h) + " AND " : string.Empty) + "u.seq > (SELECT folded_seq FROM " + dialect.RollupStateTable + ")";

    /// <summary>Builds the statement dropping rollup rows left empty by retention (buckets before the cutoff).</summary>
    /// <param name="dialect">The dialect.</param>
    /// <param name="cutoffParameter">The cutoff's parameter (UTC ticks).</param>
    /// <returns>The statement.</returns>
    public static string DeleteEmpty(StoreDialect dialect, string cutoffParameter) =>
        "DELETE FROM " + dialect.RollupTable + " WHERE dim IN (" + string.Join(", ", Dimensions.Select(d => d.Code.ToString(CultureInfo.InvariantCulture)))
        + ") AND grain IN (" + StoreValues.HourTicks.ToString(CultureInfo.InvariantCulture) + ", " + StoreValues.DayTicks.ToString(CultureInfo.InvariantCulture)
        + ") AND bucket < " + cutoffParameter + " AND calls <= 0";

    /// <summary>Appends a derived table <c>(...) u</c> of the rollup rows of one dimension covering [from, to): hour rows for
    /// partial days (or every hour when <paramref name="hourly"/>), day rows for whole days.</summary>
    /// <param name="sql">The SQL.</param>
    /// <param name="dialect">The dialect.</param>
    /// <param name="dimension">The dimension code.</param>
    /// <param name="from">The hour-aligned start, or null.</param>
    /// <param name="to">The hour-aligned end, or null.</param>
    /// <param name="hourly">Whether hour rows are needed throughout (hour buckets).</param>
    /// <param name="extra">An extra condition on the rollup row (constants and parameters), or null.</param>
    /// <param name="watermark">The watermark read before the statement (a planner hint, see <see cref="Unfolded"/>), or null.</param>
    /// <param name="byKey">Whether <paramref name="extra"/> names a few keys (with <c>dnull IN (0, 1)</c> or <c>dnull = 0</c>) to probe by
    /// (<see cref="StoreDialect.RollupKeyHint"/>) rather than the bucket range.</param>
    /// <param name="dayProbe">A condition added to the day part only, that finds the few keys' day rows by an index
    /// (<see cref="StoreDialect.RollupDayKeyProbe"/>), or null.</param>
    public static void AppendSource(SqlText sql, StoreDialect dialect, int dimension, long? from, long? to, bool hourly, string? extra, long? watermark = null, bool byKey = false, string? dayProbe = null)
    {
        var parts = Parts(dimension, from, to, hourly);

        // The folded rows, then the records past the watermark grouped the same way (a few thousand at most, read through the
        // sequence's index): the answer is exact before and after a fold, from this process or another one.
        var dim = dimension.ToString(CultureInfo.InvariantCulture);
        sql.Append("(SELECT * FROM (");
        for (var i = 0; i < parts.Count; i++)
        {
            var (grain, partFrom, partTo) = parts[i];
            var g = grain.ToString(CultureInfo.InvariantCulture);
            string? pfParameter = partFrom is { } pf ? sql.Add(pf) : null;
            string? ptParameter = partTo is { } pt ? sql.Add(pt) : null;
            sql.Append((i == 0 ? string.Empty : " UNION ALL ") + "SELECT " + ColumnList(dialect) + " FROM " + dialect.RollupTable
                + (byKey ? dialect.RollupKeyHint(dimension, grain) : string.Empty) + " WHERE dim = " + dim + " AND grain = " + g);

            if (pfParameter is not null)
            {
                sql.Append(" AND bucket >= " + pfParameter);
            }

            if (ptParameter is not null)
            {
                sql.Append(" AND bucket < " + ptParameter);
            }

            if (extra is not null)
            {
                sql.Append(" AND " + extra);
            }

            if (dayProbe is not null && grain == StoreValues.DayTicks)
            {
                sql.Append(" AND " + dayProbe);
            }

            if (dialect.RollupStateTable is not null)
            {
                // "+u.ts": no index on ts for these terms, so both engines read the few records past the watermark through the
                // sequence rather than the whole range through the ts index (SQLite chose the latter: 1.8 s for 30 days).
                var range = (pfParameter is null ? string.Empty : " AND +u.ts >= " + pfParameter) + (ptParameter is null ? string.Empty : " AND +u.ts < " + ptParameter);
                sql.Append(" UNION ALL " + Rows(dialect, dialect.UsageTable + " u CROSS JOIN (SELECT " + dim + " AS dim, " + g + " AS grain) tm_d", Unfolded(dialect, sql, watermark) + range, 1));
            }
        }

        sql.Append(") tm_a" + (extra is null || dialect.RollupStateTable is null ? string.Empty : " WHERE " + extra) + ") u");
    }

    /// <summary>Appends a derived table <c>(...) u</c> of one dimension's totals per key over [from, to) (columns <c>dnull</c>,
    /// <c>dkey</c>, <c>calls</c>, <c>total_tokens</c> and the cost columns; a key may have several rows, to be summed): each part of
    /// the range grouped on its own, so SQLite reads a part's day rows in key order from the covering index of day keys (no sort of
    /// every row), and the records past the watermark grouped from the records.</summary>
    /// <param name="sql">The SQL.</param>
    /// <param name="dialect">The dialect.</param>
    /// <param name="dimension">The dimension code (not 0).</param>
    /// <param name="from">The hour-aligned start, or null.</param>
    /// <param name="to">The hour-aligned end, or null.</param>
    /// <param name="watermark">The watermark read before the statement (a planner hint, see <see cref="Unfolded"/>), or null.</param>
    public static void AppendKeyTotals(SqlText sql, StoreDialect dialect, int dimension, long? from, long? to, long? watermark)
    {
        var costs = dialect.RollupCostColumns;
        var sums = "SUM(calls) AS calls, SUM(total_tokens) AS total_tokens, " + string.Join(", ", costs.Select(c => "SUM(" + c + ") AS " + c));
        var dim = dimension.ToString(CultureInfo.InvariantCulture);
        sql.Append("(");
        var first = true;
        foreach (var (grain, partFrom, partTo) in Parts(dimension, from, to, false))
        {
            // A week or more of day rows by the day-key index, in key order (SQLite 3.53 otherwise takes the primary key's range and
            // sorts every row to group it); fewer days through that range, since the key index also holds the days outside it.
            var longDays = grain == StoreValues.DayTicks && SpansWeekOfDays(partFrom, partTo);
            var hint = longDays ? dialect.RollupKeyHint(dimension, grain) : string.Empty;
            sql.Append((first ? string.Empty : " UNION ALL ") + "SELECT dnull, dkey, " + sums + " FROM " + dialect.RollupTable + hint + " WHERE dim = " + dim
                + " AND grain = " + grain.ToString(CultureInfo.InvariantCulture)
                + (partFrom is { } pf ? " AND bucket >= " + sql.Add(pf) : string.Empty) + (partTo is { } pt ? " AND bucket < " + sql.Add(pt) : string.Empty)
                + " GROUP BY dnull, dkey");
            first = false;
        }

        if (dialect.RollupStateTable is not null)
        {
            var column = Dimensions.Single(d => d.Code == dimension).Column;
            sql.Append(" UNION ALL SELECT CASE WHEN " + column + " IS NULL THEN 1 ELSE 0 END, COALESCE(" + column + ", ''), COUNT(*), COALESCE(SUM(" + TotalOfRecord + "), 0), "
                + dialect.RollupCostValues(1) + " FROM " + dialect.UsageTable + " u WHERE " + Unfolded(dialect, sql, watermark)
                + (from is { } f ? " AND +u.ts >= " + sql.Add(f) : string.Empty) + (to is { } t ? " AND +u.ts < " + sql.Add(t) : string.Empty) + " GROUP BY 1, 2");
        }

        sql.Append(") u");
    }

    /// <summary>Appends the statement ranking one dimension's keys by their 64-bit hash (<see cref="StoreDialect.KeyHash"/>, column
    /// <c>khash</c>): the hashes of the first <paramref name="limitParameter"/> groups and of every group tied with the last, each
    /// with its key(s). Grouping rows by a bigint with three sums is far cheaper than by text (PostgreSQL: the day rows come from a
    /// covering index). Columns: the hash, <c>dnull</c>, <c>dkey</c> (up to two keys per hash: two mean a collision), and whether any
    /// key's row in the range holds a negative sum (a candidate without a key found, which should not happen, reads as null keys).</summary>
    /// <remarks>Why the answer is the text ranking's when every hash has one key and no sum is negative: the candidates are then
    /// whole keys with exact sums, and a key outside them (even one sharing a hash with another key outside) has sums no larger
    /// than its hash's group, which ranks strictly after the candidates. The caller ranks the candidates' keys exactly (ties broken
    /// by the key) and falls back to the text ranking otherwise.</remarks>
    /// <param name="sql">The SQL.</param>
    /// <param name="dialect">The dialect (<see cref="StoreDialect.KeyHash"/> is set).</param>
    /// <param name="dimension">The dimension code (one kept by the day).</param>
    /// <param name="from">The hour-aligned start, or null.</param>
    /// <param name="to">The hour-aligned end, or null.</param>
    /// <param name="watermark">The watermark read before the statement (a planner hint, see <see cref="Unfolded"/>), or null.</param>
    /// <param name="order">The ranking's order over columns 2 (calls), 3 (total tokens) and 4 (the cost sort key), without the key.</param>
    /// <param name="limitParameter">The limit's parameter.</param>
    public static void AppendKeyHashRanking(SqlText sql, StoreDialect dialect, int dimension, long? from, long? to, long? watermark, string order, string limitParameter)
    {
        var costs = dialect.RollupCostColumns;
        var dim = dimension.ToString(CultureInfo.InvariantCulture);
        var day = StoreValues.DayTicks.ToString(CultureInfo.InvariantCulture);
        var column = Dimensions.Single(d => d.Code == dimension).Column;
        var isNull = "CASE WHEN " + column + " IS NULL THEN 1 ELSE 0 END";
        var hash = dialect.KeyHash("COALESCE(" + column + ", '')", isNull)!;
        string? fromParameter = from is { } f ? sql.Add(f) : null;
        string? toParameter = to is { } t ? sql.Add(t) : null;
        var recordRange = (fromParameter is null ? string.Empty : " AND +u.ts >= " + fromParameter) + (toParameter is null ? string.Empty : " AND +u.ts < " + toParameter);

        // The rows of each part, ungrouped (PostgreSQL reads the day part from ix_tm_usage_rollup_day_rank alone), and the records
        // past the watermark by key.
        sql.Append("WITH tm_top AS (SELECT u.khash, SUM(u.calls), SUM(u.total_tokens), " + dialect.CostSortKey(true) + ", bool_or(bool_or(u.calls < 0 OR u.total_tokens < 0"
            + string.Concat(costs.Select(c => " OR u." + c + " < 0")) + ")) OVER () AS tm_negative FROM (");
        var first = true;
        foreach (var (grain, partFrom, partTo) in Parts(dimension, from, to, false))
        {
            sql.Append((first ? string.Empty : " UNION ALL ") + "SELECT khash, calls, total_tokens, " + string.Join(", ", costs) + " FROM " + dialect.RollupTable
                + " WHERE dim = " + dim + " AND grain = " + grain.ToString(CultureInfo.InvariantCulture)
                + (partFrom is { } pf ? " AND bucket >= " + sql.Add(pf) : string.Empty) + (partTo is { } pt ? " AND bucket < " + sql.Add(pt) : string.Empty));
            first = false;
        }

        if (dialect.RollupStateTable is not null)
        {
            // Bigint like the rollup's columns: a numeric here would make the day rows' sums numeric too.
            sql.Append(" UNION ALL SELECT " + hash + ", COUNT(*), CAST(COALESCE(SUM(" + TotalOfRecord + "), 0) AS BIGINT), " + dialect.RollupCostValues(1) + " FROM " + dialect.UsageTable
                + " u WHERE " + Unfolded(dialect, sql, watermark) + recordRange + " GROUP BY " + isNull + ", COALESCE(" + column + ", '')");
        }

        // Each candidate's keys: its day rows from the start's day on (they hold every key of the partial days too) through the
        // hash index, and the records past the watermark; two distinct keys are enough to tell a collision.
        var dayFrom = from is { } df ? sql.Add(df / StoreValues.DayTicks * StoreValues.DayTicks) : null;
        sql.Append(") u GROUP BY u.khash HAVING SUM(u.calls) > 0 ORDER BY " + order + " FETCH FIRST (" + limitParameter + ") ROWS WITH TIES) "
            + "SELECT tm_top.khash, tm_k.dnull, tm_k.dkey, tm_top.tm_negative FROM tm_top LEFT JOIN LATERAL (SELECT DISTINCT dnull, dkey FROM (SELECT dnull, dkey FROM "
            + dialect.RollupTable + " WHERE dim = " + dim + " AND grain = " + day + " AND khash = tm_top.khash"
            + (dayFrom is null ? string.Empty : " AND bucket >= " + dayFrom) + (toParameter is null ? string.Empty : " AND bucket < " + toParameter));
        if (dialect.RollupStateTable is not null)
        {
            sql.Append(" UNION ALL SELECT " + isNull + ", COALESCE(" + column + ", '') FROM " + dialect.UsageTable + " u WHERE " + Unfolded(dialect, sql, watermark)
                + recordRange + " AND " + hash + " = tm_top.khash");
        }

        sql.Append(") tm_k0 LIMIT 2) tm_k ON TRUE");
    }

    /// <summary>Splits [from, to) into the rollup's parts: hour rows for partial days (or throughout when <paramref name="hourly"/>,
    /// or for a dimension kept by the hour only), day rows for whole days.</summary>
    private static List<(long Grain, long? From, long? To)> Parts(int dimension, long? from, long? to, bool hourly)
    {
        var parts = new List<(long Grain, long? From, long? To)>();
        if (hourly || Grains(dimension).Length == 1)
        {
            parts.Add((StoreValues.HourTicks, from, to));
        }
        else if (from is null && to is null)
        {
            parts.Add((StoreValues.DayTicks, null, null));
        }
        else
        {
            long? firstDay = from is { } f ? (f + StoreValues.DayTicks - 1) / StoreValues.DayTicks * StoreValues.DayTicks : null;
            long? lastDay = to is { } t ? t / StoreValues.DayTicks * StoreValues.DayTicks : null;
            if (firstDay is { } fd && lastDay is { } ld && fd >= ld)
            {
                parts.Add((StoreValues.HourTicks, from, to));
            }
            else
            {
                if (from is { } f2 && f2 < firstDay)
                {
                    parts.Add((StoreValues.HourTicks, f2, firstDay));
                }

                parts.Add((StoreValues.DayTicks, firstDay, lastDay));
                if (to is { } t2 && lastDay < t2)
                {
                    parts.Add((StoreValues.HourTicks, lastDay, t2));
                }
            }
        }

        return parts;
    }
}

/// <summary>How the rollup answers one query: which dimension's rows, and an optional equality filter on that dimension.</summary>
internal sealed class RollupPlan
{
    private readonly string? _filter;

    private RollupPlan(int dimension, string? filter)
    {
        Dimension = dimension;
        _filter = filter;
    }

    /// <summary>Gets the dimension code whose rows are read (0 = grand total).</summary>
    public int Dimension { get; }

    /// <summary>Gets a value indicating whether the rows are filtered to one key.</summary>
    public bool Filtered => _filter is not null;

    /// <summary>Returns the plan for grouped totals, or <see langword="null"/> when only a scan gives the exact answer: more than one
    /// dimension, tags, a filter on another dimension than the grouped one, a model filter (it also matches request and
    /// routed models), a source filter, or a range not aligned to UTC hours.</summary>
    /// <param name="query">The query.</param>
    /// <returns>The plan, or null.</returns>
    public static RollupPlan? ForAggregate(TokenUsageAggregateQuery query)
    {
        var grouped = (int)query.GroupBy;
        if (!Aligned(query) || query.Tags is not null || query.Source is not null || query.Model is not null
            || query.GroupBy.HasFlag(TokenUsageDimensions.Tag) || (grouped & (grouped - 1)) != 0)
        {
            return null;
        }

        var filters = new List<(int Dimension, string Value)>();
        void Filter(TokenUsageDimensions dimension, string? value)
        {
            if (value is not null)
            {
                filters.Add(((int)dimension, value));
            }
        }

        Filter(TokenUsageDimensions.Provider, query.Provider);
        Filter(TokenUsageDimensions.User, query.UserId);
        Filter(TokenUsageDimensions.Consumer, query.Consumer);
        Filter(TokenUsageDimensions.Session, query.SessionId);
        Filter(TokenUsageDimensions.Feature, query.Feature);
        Filter(TokenUsageDimensions.Status, query.Status is { } status ? StoreValues.StatusName(status) : null);
        if (filters.Count > 1 || (filters.Count == 1 && grouped != 0 && filters[0].Dimension != grouped))
        {
            return null;
        }

        return filters.Count == 1 ? new RollupPlan(filters[0].Dimension, filters[0].Value) : new RollupPlan(grouped, null);
    }

    /// <summary>Returns the plan choosing a page of sessions, or <see langword="null"/> unless the query is only an hour-aligned range.</summary>
    /// <param name="query">The query.</param>
    /// <returns>The plan, or null.</returns>
    public static RollupPlan? ForSessions(TokenUsageSessionQuery query) =>
        Aligned(query) && query.Provider is null && query.Model is null && query.UserId is null && query.Consumer is null && query.SessionId is null
            && query.Feature is null && query.Tags is null && query.Status is null && query.Source is null
            ? new RollupPlan((int)TokenUsageDimensions.Session, null)
            : null;

    /// <summary>Appends the rollup rows of <see cref="Dimension"/> covering the query's range, as derived table <c>u</c>.</summary>
    /// <param name="sql">The SQL.</param>
    /// <param name="dialect">The dialect.</param>
    /// <param name="query">The query (its range).</param>
    /// <param name="hourly">Whether hour rows are needed throughout.</param>
    /// <param name="extra">An extra condition on the rows, or null.</param>
    /// <param name="watermark">The watermark read before the statement (a planner hint), or null.</param>
    /// <param name="byKey">Whether <paramref name="extra"/> names a few keys to probe by (see <see cref="StoreRollup.AppendSource"/>); a
    /// filtered plan always does.</param>
    /// <param name="keyParameters">The parameters holding those keys, for the day part's probe (<see cref="StoreDialect.RollupDayKeyProbe"/>).</param>
    public void AppendSource(SqlText sql, StoreDialect dialect, TokenUsageFilter query, bool hourly, string? extra, long? watermark, bool byKey = false, IReadOnlyList<string>? keyParameters = null)
    {
        var probed = byKey ? keyParameters : null;
        if (_filter is not null)
        {
            var parameter = sql.Add(StoreValues.Encode(_filter, dialect.EscapesNul)!);
            var key = "dnull = 0 AND dkey = " + parameter;
            extra = extra is null ? key : extra + " AND " + key;
            probed = [parameter]; // the one key the filter leaves, whatever else was asked
        }

        var dayProbe = probed is { Count: > 0 } ? dialect.RollupDayKeyProbe(probed) : null;
        StoreRollup.AppendSource(sql, dialect, Dimension, query.From?.UtcTicks, query.To?.UtcTicks, hourly, extra, watermark, byKey || _filter is not null, dayProbe);
    }

    private static bool Aligned(TokenUsageFilter query) =>
        (query.From is null || query.From.Value.UtcTicks % StoreValues.HourTicks == 0) && (query.To is null || query.To.Value.UtcTicks % StoreValues.HourTicks == 0);
}
