using System.Collections.Generic;

namespace TokenMetrics.Storage.Internal;

/// <summary>The per-session summary a store may keep beside its rollup (PostgreSQL, schema version 5): one row per session id
/// with its first and last timestamp, calls, total tokens and cost sort key, kept by the same write transaction as the rollup.</summary>
/// <remarks>
/// <para>Why: ranking sessions over a long range from the rollup groups one row per session-hour (about 125,000 rows for
/// 100,000 sessions over 30 days), and PostgreSQL's per-group <c>numeric</c> sums made that 0.6 s. A session whose records
/// all lie inside the range (<c>first_ts &gt;= from</c> and <c>last_ts &lt; to</c>) is ranked from its summary row as is; only
/// the sessions straddling an edge of the range are summed from the rollup's session-hour rows.</para>
/// <para><c>last_ts</c> is exact (retention only deletes the oldest records). <c>first_ts</c> is a lower bound: retention
/// raises it to the newest record it deleted from the session, which the session's remaining records are not older than.
/// A lower bound is safe: a session whose bound is before <c>from</c> is merely summed from the rollup instead.</para>
/// <para>The SQL is PostgreSQL's (<c>md5</c> keys, like the rollup's: a btree entry cannot hold a very long session id).</para>
/// </remarks>
internal static class StoreSessionSummary
{
    /// <summary>The summary's columns, in order.</summary>
    public const string Columns = "skey, first_ts, last_ts, calls, total_tokens, cost";

    private const string OnConflict = " ON CONFLICT (md5(skey)) DO UPDATE SET first_ts = LEAST(s.first_ts, excluded.first_ts), last_ts = GREATEST(s.last_ts, excluded.last_ts),"
        + " calls = s.calls + excluded.calls, total_tokens = s.total_tokens + excluded.total_tokens, cost = s.cost + excluded.cost";

    /// <summary>Builds the upsert adding the records of <paramref name="source"/> (alias <c>u</c>, the rollup's
    /// <see cref="StoreRollup.SourceColumns"/>) to the summary.</summary>
    /// <param name="dialect">The dialect (its <see cref="StoreDialect.SessionTable"/> is set).</param>
    /// <param name="source">A table or CTE name holding records.</param>
    /// <returns>The statement.</returns>
    public static string Upsert(StoreDialect dialect, string source) =>
        "INSERT INTO " + dialect.SessionTable + " AS s (" + Columns + ") SELECT u.session_id, MIN(u.ts), MAX(u.ts), COUNT(*), "
        + "COALESCE(SUM(" + StoreRollup.TotalOfRecord + "), 0), " + dialect.RollupCostValues(1) + " FROM " + source + " u WHERE u.session_id IS NOT NULL"
        + " GROUP BY u.session_id ORDER BY md5(u.session_id)" // one lock order for concurrent writers (see StoreRollup.Upsert)
        + OnConflict;

    /// <summary>Builds the upsert adding summary rows already summed (the summary's columns, e.g. by <see cref="RollupAccumulator"/>)
    /// from a table to the summary.</summary>
    /// <param name="dialect">The dialect (its <see cref="StoreDialect.SessionTable"/> is set).</param>
    /// <param name="table">The table holding the rows.</param>
    /// <returns>The statement.</returns>
    public static string UpsertRows(StoreDialect dialect, string table) =>
        "INSERT INTO " + dialect.SessionTable + " AS s (" + Columns + ") SELECT " + Columns + " FROM " + table + " ORDER BY md5(skey)" + OnConflict;

    /// <summary>Builds the update subtracting the records of <paramref name="source"/> deleted by retention, raising
    /// <c>first_ts</c> to the newest deleted record of each session.</summary>
    /// <param name="dialect">The dialect.</param>
    /// <param name="source">A table or CTE name holding the deleted records.</param>
    /// <returns>The statement.</returns>
    public static string Subtract(StoreDialect dialect, string source) =>
        "UPDATE " + dialect.SessionTable + " AS s SET calls = s.calls - g.calls, total_tokens = s.total_tokens - g.total_tokens, cost = s.cost - g.cost,"
        + " first_ts = GREATEST(s.first_ts, g.last_ts) FROM (SELECT u.session_id AS skey, MAX(u.ts) AS last_ts, COUNT(*) AS calls, COALESCE(SUM("
        + StoreRollup.TotalOfRecord + "), 0) AS total_tokens, " + dialect.RollupCostValues(1) + " AS cost FROM " + source
        + " u WHERE u.session_id IS NOT NULL GROUP BY u.session_id) g WHERE md5(s.skey) = md5(g.skey)";

    /// <summary>Builds the statement dropping sessions left without records by retention (all older than the cutoff).</summary>
    /// <param name="dialect">The dialect.</param>
    /// <param name="cutoffParameter">The cutoff's parameter (UTC ticks).</param>
    /// <returns>The statement.</returns>
    public static string DeleteEmpty(StoreDialect dialect, string cutoffParameter) =>
        "DELETE FROM " + dialect.SessionTable + " WHERE last_ts < " + cutoffParameter + " AND calls <= 0";

    /// <summary>Builds the backfill of the summary from every stored record (the migration creating it).</summary>
    /// <param name="dialect">The dialect.</param>
    /// <returns>The statement.</returns>
    public static string Backfill(StoreDialect dialect) =>
        "INSERT INTO " + dialect.SessionTable + " (" + Columns + ") SELECT u.session_id, MIN(u.ts), MAX(u.ts), COUNT(*), COALESCE(SUM("
        + StoreRollup.TotalOfRecord + "), 0), " + dialect.RollupCostValues(1) + " FROM " + dialect.UsageTable + " u WHERE u.session_id IS NOT NULL GROUP BY u.session_id";

    /// <summary>Appends the page query's source: session id, last timestamp, cost sort key and total tokens of every session with
    /// records in [from, to) (hour-aligned or open), inside sessions from the summary, straddling ones summed from the rollup.</summary>
    /// <param name="sql">The SQL.</param>
    /// <param name="dialect">The dialect.</param>
    /// <param name="from">The start, or null.</param>
    /// <param name="to">The end, or null.</param>
    /// <param name="watermark">The rollup's watermark read before the statement (a planner hint), or null.</param>
    public static void AppendRanking(SqlText sql, StoreDialect dialect, long? from, long? to, long? watermark)
    {
        string? fromParameter = from is { } f ? sql.Add(f) : null;
        string? toParameter = to is { } t ? sql.Add(t) : null;

        // Inside: every record in the range (first_ts is a lower bound, so this never claims a session that straddles).
        // Straddling: the range holds the session's edge, found through the first_ts or the last_ts index; sessions entirely
        // outside are neither. A straddling candidate without records in the range drops out at HAVING.
        // Sessions with records past the rollup's watermark are not in their summary row yet: summed from the rollup source,
        // which adds those records, whether they straddle or not.
        var unfolded = dialect.RollupStateTable is null ? null
            : "SELECT md5(u.session_id) FROM " + dialect.UsageTable + " u WHERE " + StoreRollup.Unfolded(dialect, sql, watermark) + " AND u.session_id IS NOT NULL";
        var inside = "calls > 0" + (fromParameter is null ? string.Empty : " AND first_ts >= " + fromParameter)
            + (toParameter is null ? string.Empty : " AND last_ts < " + toParameter)
            + (unfolded is null ? string.Empty : " AND md5(skey) NOT IN (" + unfolded + ")");
        sql.Append("SELECT skey, last_ts, cost, total_tokens FROM " + dialect.SessionTable + " WHERE " + inside);
        if (fromParameter is null && toParameter is null && unfolded is null)
        {
            return;
        }

        var edges = new List<string>(2);
        if (fromParameter is not null)
        {
            edges.Add("(first_ts < " + fromParameter + " AND last_ts >= " + fromParameter + (toParameter is null ? string.Empty : " AND last_ts < " + toParameter) + ")");
        }

        if (toParameter is not null)
        {
            edges.Add("(last_ts >= " + toParameter + " AND first_ts < " + toParameter + ")");
        }

        // One IN over both candidate sets (not an OR of two): the planner then probes the rollup's session index per candidate.
        var candidates = new List<string>(2);
        if (edges.Count > 0)
        {
            candidates.Add("SELECT md5(skey) FROM " + dialect.SessionTable + " WHERE calls > 0 AND (" + string.Join(" OR ", edges) + ")");
        }

        if (unfolded is not null)
        {
            candidates.Add(unfolded);
        }

        sql.Append(" UNION ALL SELECT u.dkey, MAX(u.last_ts), " + dialect.CostSortKey(true) + ", SUM(u.total_tokens) FROM ");
        StoreRollup.AppendSource(sql, dialect, (int)TokenUsageDimensions.Session, from, to, false,
            "dnull = 0 AND md5(dkey) IN (" + string.Join(" UNION ALL ", candidates) + ")", watermark);
        sql.Append(" GROUP BY u.dkey HAVING SUM(u.calls) > 0");
    }

    /// <summary>Returns the migration statements creating and backfilling the summary.</summary>
    /// <param name="dialect">The dialect.</param>
    /// <returns>The statements.</returns>
    public static string[] Create(StoreDialect dialect) =>
    [
        "CREATE TABLE " + dialect.SessionTable + " (skey text NOT NULL, first_ts bigint NOT NULL, last_ts bigint NOT NULL, calls bigint NOT NULL, "
            + "total_tokens bigint NOT NULL, cost numeric NOT NULL)",
        "CREATE UNIQUE INDEX ux_tm_usage_session ON " + dialect.SessionTable + " (md5(skey))",
        "CREATE INDEX ix_tm_usage_session_first ON " + dialect.SessionTable + " (first_ts)",
        "CREATE INDEX ix_tm_usage_session_last ON " + dialect.SessionTable + " (last_ts)",

        // The straddling sessions' rollup rows by key (a nested loop of index lookups rather than a scan of every session-hour row).
        "CREATE INDEX ix_tm_usage_rollup_session ON " + dialect.RollupTable + " (md5(dkey), bucket) WHERE dim = "
            + ((int)TokenUsageDimensions.Session).ToString(System.Globalization.CultureInfo.InvariantCulture),
        Backfill(dialect),
        "ANALYZE " + dialect.SessionTable,
    ];
}
