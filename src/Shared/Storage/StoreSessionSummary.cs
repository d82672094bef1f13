using System.Collections.Generic;
using System.Linq;

namespace TokenMetrics.Storage.Internal;

/// <summary>The per-session summary a store keeps beside its rollup (PostgreSQL since schema version 5, SQLite since 8): one row
/// per session id with its first and last timestamp, calls, total tokens and cost, kept by the fold with the rollup.</summary>
/// <remarks>
/// <para>Why: ranking sessions over a long range from the rollup groups one row per session-hour (about 125,000 rows for
/// 100,000 sessions over 30 days: 0.1–0.6 s). A session whose records all lie inside the range (<c>first_ts &gt;= from</c> and
/// <c>last_ts &lt; to</c>) is ranked from its summary row as is, through an index in the page's order (cost, tokens or last
/// record), so a page reads about its own length of rows; only the sessions straddling an edge of the range are summed from the
/// rollup's session-hour rows.</para>
/// <para><c>last_ts</c> is exact (retention only deletes the oldest records). <c>first_ts</c> is a lower bound: retention
/// raises it to the newest record it deleted from the session, which the session's remaining records are not older than.
/// A lower bound is safe: a session whose bound is before <c>from</c> is merely summed from the rollup instead.</para>
/// <para>Keys appear in indexes as <see cref="StoreDialect.IndexedKey"/> (PostgreSQL: <c>md5</c>, like the rollup's: a btree
/// entry cannot hold a very long session id).</para>
/// </remarks>
internal static class StoreSessionSummary
{
    /// <summary>The span from which a session counts as long (one day, in ticks): a short session straddling a range's edge started
    /// less than this before it.</summary>
    public const long LongSpan = 864_000_000_000;

    /// <summary>The condition of the partial index of long sessions (spelled the same in the index and the queries, which
    /// both planners need to match it).</summary>
    public const string LongSession = "last_ts - first_ts >= 864000000000";

    private const string LongSpanText = "864000000000";

    /// <summary>Returns the summary's columns, in order (the cost as the rollup keeps it: <see cref="StoreDialect.RollupCostColumns"/>).</summary>
    /// <param name="dialect">The dialect.</param>
    /// <returns>The comma-separated column list.</returns>
    public static string Columns(StoreDialect dialect) => "skey, first_ts, last_ts, calls, total_tokens, " + string.Join(", ", dialect.RollupCostColumns);

    /// <summary>Returns the upsert's conflict clause adding a row (alias <c>excluded</c>) to the stored one (alias <c>s</c>).</summary>
    /// <param name="dialect">The dialect.</param>
    /// <returns>The clause, with a leading space.</returns>
    public static string OnConflict(StoreDialect dialect) =>
        " ON CONFLICT (" + dialect.IndexedKey("skey") + ") DO UPDATE SET first_ts = " + dialect.Least + "(s.first_ts, excluded.first_ts), last_ts = "
        + dialect.Greatest + "(s.last_ts, excluded.last_ts), calls = s.calls + excluded.calls, total_tokens = s.total_tokens + excluded.total_tokens, "
        + string.Join(", ", dialect.RollupCostColumns.Select(c => c + " = s." + c + " + excluded." + c));

    /// <summary>Builds the upsert adding the records of <paramref name="source"/> (alias <c>u</c>, the rollup's
    /// <see cref="StoreRollup.SourceColumns"/>) to the summary.</summary>
    /// <param name="dialect">The dialect (its <see cref="StoreDialect.SessionTable"/> is set).</param>
    /// <param name="source">A table or CTE name holding records.</param>
    /// <returns>The statement.</returns>
    public static string Upsert(StoreDialect dialect, string source) =>
        "INSERT INTO " + dialect.SessionTable + " AS s (" + Columns(dialect) + ") SELECT u.session_id, MIN(u.ts), MAX(u.ts), COUNT(*), "
        + "COALESCE(SUM(" + StoreRollup.TotalOfRecord + "), 0), " + dialect.RollupCostValues(1) + " FROM " + source + " u WHERE u.session_id IS NOT NULL"
        + " GROUP BY u.session_id ORDER BY " + dialect.IndexedKey("u.session_id") // one lock order for concurrent writers (see StoreRollup.Upsert)
        + OnConflict(dialect);

    /// <summary>Builds the upsert adding summary rows already summed (the summary's columns, e.g. by <see cref="RollupAccumulator"/>)
    /// from a table to the summary.</summary>
    /// <param name="dialect">The dialect (its <see cref="StoreDialect.SessionTable"/> is set).</param>
    /// <param name="table">The table holding the rows.</param>
    /// <returns>The statement.</returns>
    public static string UpsertRows(StoreDialect dialect, string table) =>
        "INSERT INTO " + dialect.SessionTable + " AS s (" + Columns(dialect) + ") SELECT " + Columns(dialect) + " FROM " + table + " ORDER BY " + dialect.IndexedKey("skey") + OnConflict(dialect);

    /// <summary>Builds the upsert adding one summed row, bound by position (the summary's columns in order).</summary>
    /// <param name="dialect">The dialect (its <see cref="StoreDialect.SessionTable"/> is set).</param>
    /// <returns>The statement.</returns>
    public static string UpsertValues(StoreDialect dialect) =>
        "INSERT INTO " + dialect.SessionTable + " AS s (" + Columns(dialect) + ") VALUES (" + string.Join(", ", Columns(dialect).Split(',').Select(_ => "?")) + ")" + OnConflict(dialect);

    /// <summary>Builds the update subtracting the records of <paramref name="source"/> deleted by retention, raising
    /// <c>first_ts</c> to the newest deleted record of each session.</summary>
    /// <param name="dialect">The dialect.</param>
    /// <param name="source">A table or CTE name holding the deleted records.</param>
    /// <param name="where">A condition on <c>u</c> selecting them, or null for all of <paramref name="source"/>.</param>
    /// <returns>The statement.</returns>
    public static string Subtract(StoreDialect dialect, string source, string? where = null)
    {
        var costs = dialect.RollupCostColumns;
        var values = dialect.RollupCostExpressions(1);
        return "UPDATE " + dialect.SessionTable + " AS s SET calls = s.calls - g.calls, total_tokens = s.total_tokens - g.total_tokens, "
            + string.Join(", ", costs.Select(c => c + " = s." + c + " - g." + c))
            + ", first_ts = " + dialect.Greatest + "(s.first_ts, g.last_ts) FROM (SELECT u.session_id AS skey, MAX(u.ts) AS last_ts, COUNT(*) AS calls, COALESCE(SUM("
            + StoreRollup.TotalOfRecord + "), 0) AS total_tokens, " + string.Join(", ", costs.Select((c, i) => values[i] + " AS " + c)) + " FROM " + source
            + " u WHERE u.session_id IS NOT NULL" + (where is null ? string.Empty : " AND " + where) + " GROUP BY u.session_id) g WHERE "
            + dialect.IndexedKey("s.skey") + " = " + dialect.IndexedKey("g.skey");
    }

    /// <summary>Builds the statement dropping sessions left without records by retention (all older than the cutoff).</summary>
    /// <param name="dialect">The dialect.</param>
    /// <param name="cutoffParameter">The cutoff's parameter (UTC ticks).</param>
    /// <returns>The statement.</returns>
    public static string DeleteEmpty(StoreDialect dialect, string cutoffParameter) =>
        "DELETE FROM " + dialect.SessionTable + " WHERE last_ts < " + cutoffParameter + " AND calls <= 0";

    /// <summary>Builds the backfill of the summary from the stored records (the migration creating it).</summary>
    /// <param name="dialect">The dialect.</param>
    /// <param name="where">A condition on <c>u</c> (the folded records, when the store folds later), or null for every record.</param>
    /// <returns>The statement.</returns>
    public static string Backfill(StoreDialect dialect, string? where = null) =>
        "INSERT INTO " + dialect.SessionTable + " (" + Columns(dialect) + ") SELECT u.session_id, MIN(u.ts), MAX(u.ts), COUNT(*), COALESCE(SUM("
        + StoreRollup.TotalOfRecord + "), 0), " + dialect.RollupCostValues(1) + " FROM " + dialect.UsageTable + " u WHERE u.session_id IS NOT NULL"
        + (where is null ? string.Empty : " AND " + where) + " GROUP BY u.session_id";

    /// <summary>Appends the page query's source: session id, last timestamp, cost sort key and total tokens of every session with
    /// records in [from, to) (hour-aligned or open) that can be on the page: inside sessions from the summary (only the first
    /// <paramref name="firstRows"/> in the page's order, read through the summary's index in that order), straddling ones summed
    /// from the rollup.</summary>
    /// <param name="sql">The SQL.</param>
    /// <param name="dialect">The dialect.</param>
    /// <param name="from">The start, or null.</param>
    /// <param name="to">The end, or null.</param>
    /// <param name="watermark">The rollup's watermark read before the statement (a planner hint), or null.</param>
    /// <param name="orderBy">The page's ORDER BY over the four columns (ties broken down to the session id), with a leading space.</param>
    /// <param name="firstRows">The parameter holding the page's offset plus its length.</param>
    public static void AppendRanking(SqlText sql, StoreDialect dialect, long? from, long? to, long? watermark, string orderBy, string firstRows)
    {
        string? fromParameter = from is { } f ? sql.Add(f) : null;
        string? toParameter = to is { } t ? sql.Add(t) : null;

        // Inside: every record in the range (first_ts is a lower bound, so this never claims a session that straddles).
        // Straddling: the range holds the session's edge (below); sessions entirely outside are neither. A straddling candidate
        // without records in the range drops out at HAVING. Sessions with records past the rollup's watermark are not in their
        // summary row yet: summed from the rollup source, which adds those records, whether they straddle or not.
        var unfolded = dialect.RollupStateTable is null ? null
            : "SELECT " + dialect.IndexedKey("u.session_id") + " FROM " + dialect.UsageTable + " u WHERE " + StoreRollup.Unfolded(dialect, sql, watermark) + " AND u.session_id IS NOT NULL";
        var inside = "calls > 0" + (fromParameter is null ? string.Empty : " AND " + dialect.Unindexed("first_ts") + " >= " + fromParameter)
            + (toParameter is null ? string.Empty : " AND " + dialect.Unindexed("last_ts") + " < " + toParameter)
            + (unfolded is null ? string.Empty : " AND " + dialect.IndexedKey("skey") + " NOT IN (" + unfolded + ")");

        // The page's rows among the inside sessions are among their first offset + limit in the page's order (the ties are broken
        // the same way here and in the page), so only those are read, walking the index in that order.
        sql.Append("SELECT * FROM (SELECT skey, last_ts, " + dialect.SessionCostKey + ", total_tokens FROM " + dialect.SessionTable + " WHERE " + inside
            + orderBy + " LIMIT " + firstRows + ") tm_i");
        if (fromParameter is null && toParameter is null && unfolded is null)
        {
            return;
        }

        // Straddling an edge e: first_ts < e <= last_ts. No single index finds that in general (every session before e, or after
        // it); split by span: a session shorter than LongSpan started within LongSpan before e (the first_ts index reads that
        // stretch), a longer one is in the partial index of long sessions (rare). Duplicates do not matter to IN.
        var candidates = new List<string>(5);
        void Straddling(string edge, string? upper)
        {
            // No calls > 0 here (a candidate without records in the range drops out at HAVING): the first_ts index covers the rest.
            var select = "SELECT " + dialect.IndexedKey("skey") + " FROM " + dialect.SessionTable;
            var reaches = " AND " + dialect.Unindexed("last_ts") + " >= " + edge + (upper is null ? string.Empty : " AND " + dialect.Unindexed("last_ts") + " < " + upper);
            candidates.Add(select + " WHERE first_ts >= " + edge + " - " + LongSpanText + " AND first_ts < " + edge + reaches);
            candidates.Add(select + dialect.SessionLongHint + " WHERE " + LongSession + " AND first_ts < " + edge + reaches);
        }

        if (fromParameter is not null)
        {
            Straddling(fromParameter, toParameter);
        }

        if (toParameter is not null)
        {
            Straddling(toParameter, null);
        }

        if (unfolded is not null)
        {
            candidates.Add(unfolded);
        }

        sql.Append(" UNION ALL SELECT u.dkey, MAX(u.last_ts), " + dialect.CostSortKey(true) + ", SUM(u.total_tokens) FROM ");
        StoreRollup.AppendSource(sql, dialect, (int)TokenUsageDimensions.Session, from, to, false,
            "dnull = 0 AND " + dialect.IndexedKey("dkey") + " IN (" + string.Join(" UNION ALL ", candidates) + ")", watermark, byKey: true);
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
