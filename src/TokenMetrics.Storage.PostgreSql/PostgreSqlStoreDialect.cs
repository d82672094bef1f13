using System.Collections.Generic;
using System.Linq;
using System.Data.Common;
using TokenMetrics.Storage.Internal;

namespace TokenMetrics.Storage.PostgreSql;

/// <summary>PostgreSQL specifics: uuid ids, jsonb tags (containment with a GIN index), NUL-escaped text, costs as exact
/// <c>numeric</c> (stored and summed without rounding).</summary>
internal sealed class PostgreSqlStoreDialect(string quotedSchema) : StoreDialect
{
    public override bool EscapesNul => true;

    public override string UsageTable { get; } = quotedSchema + ".tm_usage";

    public override string? RollupTable { get; } = quotedSchema + ".tm_usage_rollup";

    public override string? SessionTable { get; } = quotedSchema + ".tm_usage_session";

    /// <inheritdoc/>
    public override string? RollupStateTable { get; } = quotedSchema + ".tm_rollup_state";

    public override IReadOnlyList<string> RollupCostColumns { get; } = ["cost"];

    public override string RollupCostSum => "SUM(u.cost)";

    // Keys hashed in the unique index: a btree entry cannot hold a very long model or session id; md5 can.
    public override string RollupConflictTarget => "(dim, grain, bucket, dnull, md5(dkey), priced, md5(ccy))";

    public override IReadOnlyList<string> RollupCostExpressions(int sign) => [(sign < 0 ? "-" : string.Empty) + "COALESCE(SUM(u.cost), 0)"];

    public override string IndexedKey(string column) => "md5(" + column + ")";

    public override string SessionCostKey => "cost";

    public override bool RanksKeysFirst(long? from, long? to) => StoreRollup.SpansWeekOfDays(from, to);

    // A stored key reads as dnull 0 or 1 (null is dnull = 1 with dkey ''), so each key is probed under both hashes; the caller's
    // condition on dnull and dkey keeps only the real key's rows.
    public override string? RollupDayKeyProbe(IReadOnlyList<string> keyParameters) =>
        "khash IN (" + string.Join(", ", keyParameters.SelectMany(p => new[] { KeyHash(p, "0"), KeyHash(p, "1") })) + ")";

    /// <summary>Gets or sets the function hashing a rollup key (text, seed) to a bigint: the column <c>khash</c> (schema 10) is
    /// <c>KeyHashFunction(dkey, dnull)</c>. Tests set a function with a collision; it must be set before the schema is created.</summary>
    internal string KeyHashFunction { get; set; } = "hashtextextended";

    // PostgreSQL's own 64-bit text hash (the one hash partitioning routes rows by, so it is kept stable across versions; a
    // restore recomputes generated columns), seeded by the null flag so a null key and an empty one hash apart. Computed by the server: the generated column, the SQL
    // fold, the migration and the records past the watermark all agree without a client-side copy.
    public override string? KeyHash(string text, string isNull) => KeyHashFunction + "(" + text + ", " + isNull + ")";

    public override string CostSortKey(bool rollup) => "COALESCE(SUM(u.cost), 0)";

    public override int CostSumColumns => 1;

    public override decimal ReadCost(DbDataReader reader, int ordinal) => reader.GetDecimal(ordinal);

    public override string SumCost() => "COALESCE(SUM(u.cost), 0)";

    // Trailing zeros trimmed: a numeric sum's scale depends on which rows were added (and subtracted), not on the amount.
    public override decimal ReadCostSum(DbDataReader reader, int ordinal) => StoreValues.TrimZeros(reader.GetDecimal(ordinal));

    // A page's worth as ORed equalities: the hash indexes answer each one (a bitmap OR) but never an IN list. A longer list
    // (rare: pages of more than 100) stays an IN list rather than a statement of thousands of ORs.
    public override string InList(string column, IReadOnlyList<string> parameters) =>
        parameters.Count <= 100 ? "(" + string.Join(" OR ", parameters.Select(p => column + " = " + p)) + ")" : base.InList(column, parameters);

    public override string JsonAsText(string column) => column + "::text";

    public override Guid ReadId(DbDataReader reader, int ordinal) => reader.GetGuid(ordinal);

    public override string TagEquals(string keyParameter, string valueParameter) =>
        $"u.tags @> jsonb_build_object({keyParameter}::text, {valueParameter}::text)";

    public override string TagValue(string keyParameter) => $"(u.tags ->> {keyParameter}::text)";
}
