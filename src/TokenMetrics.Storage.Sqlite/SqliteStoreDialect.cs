using System.Collections.Generic;
using System.Data.Common;
using TokenMetrics.Storage.Internal;

namespace TokenMetrics.Storage.Sqlite;

/// <summary>SQLite specifics: BLOB ids, tags read from the record's JSON column, costs as integers of 10^-12.</summary>
/// <remarks>SQLite has no exact decimal type (its <c>NUMERIC</c> is a float), so a cost is stored as a 64-bit integer of
/// 10^-12 currency units (<see cref="StoreValues.ToCostUnits"/>): exact for any price with up to six decimals per million tokens.
/// Sums are integer sums in two parts (<c>cost / 10^6</c> and <c>cost % 10^6</c>) recombined as a decimal, so no sum of any
/// realistic size overflows SQLite's 64-bit integers and none is rounded through a float.</remarks>
internal sealed class SqliteStoreDialect : StoreDialect
{
    public static SqliteStoreDialect Instance { get; } = new();

    public override bool EscapesNul => false;

    public override string UsageTable => "tm_usage";

    public override string RollupCostSum => "CAST(SUM(u.cost_hi) AS BIGINT), CAST(SUM(u.cost_lo) AS BIGINT)";

    public override string? RollupTable => "tm_usage_rollup";

    /// <inheritdoc/>
    public override string? RollupStateTable => "tm_rollup_state";

    /// <inheritdoc/>
    public override string? SessionTable => "tm_usage_session";

    public override string Least => "MIN";

    // Without statistics SQLite takes any range on an indexed column as selective; "+" keeps a sessions page walking the index of
    // its order, and the edge candidates on the first_ts index.
    public override string Unindexed(string column) => "+" + column;

    public override bool RanksKeysFirst(long? from, long? to) => true;

    public override string SessionLongHint => " INDEXED BY " + SqliteSchema.SessionLongIndex;

    public override string RollupKeyHint(int dimension, long grain) =>
        dimension == (int)TokenUsageDimensions.Session ? " INDEXED BY " + SqliteSchema.RollupSessionIndex
        : grain == StoreValues.DayTicks ? " INDEXED BY " + SqliteSchema.RollupDayKeysIndex
        : string.Empty;

    // The expression of ix_tm_usage_session_cost (schema 8): an ORDER BY on it walks that index.
    public override string SessionCostKey => "(cost_hi * 1000000.0 + cost_lo)";

    public override IReadOnlyList<string> RollupCostColumns { get; } = ["cost_hi", "cost_lo"];

    public override string Greatest => "MAX";

    public override IReadOnlyList<string> RollupCostExpressions(int sign)
    {
        var s = sign < 0 ? "-" : string.Empty;
        return [$"CAST({s}COALESCE(SUM(u.cost / 1000000), 0) AS BIGINT)", $"CAST({s}COALESCE(SUM(u.cost % 1000000), 0) AS BIGINT)"];
    }

    // A REAL of the two exact integer sums: the same value from records and from the rollup, so both paths order alike.
    public override string CostSortKey(bool rollup) => rollup
        ? "(SUM(u.cost_hi) * 1000000.0 + SUM(u.cost_lo))"
        : "(COALESCE(SUM(u.cost / 1000000), 0) * 1000000.0 + COALESCE(SUM(u.cost % 1000000), 0))";

    public override int CostSumColumns => 2;

    public override decimal ReadCost(DbDataReader reader, int ordinal) => StoreValues.FromCostUnits(reader.GetInt64(ordinal));

    public override string SumCost() => "CAST(COALESCE(SUM(u.cost / 1000000), 0) AS BIGINT), CAST(COALESCE(SUM(u.cost % 1000000), 0) AS BIGINT)";

    public override decimal ReadCostSum(DbDataReader reader, int ordinal) =>
        StoreValues.TrimZeros(((decimal)reader.GetInt64(ordinal) * 1_000_000m + reader.GetInt64(ordinal + 1)) / StoreValues.CostUnitsPerCurrencyUnit);

    public override string JsonAsText(string column) => column;

    public override Guid ReadId(DbDataReader reader, int ordinal) => new(reader.GetFieldValue<byte[]>(ordinal), bigEndian: true);

    public override string TagEquals(string keyParameter, string valueParameter) => TagValue(keyParameter) + " = " + valueParameter;

    // A JSON path cannot quote a key holding a double quote or NUL, and reads escapes after a backslash: such keys are matched by json_each, exact and a little slower.
    public override string TagValue(string keyParameter) =>
        $"(CASE WHEN instr({keyParameter}, '\"') = 0 AND instr({keyParameter}, '\\') = 0 AND instr({keyParameter}, char(0)) = 0 THEN json_extract(u.tags, '$.\"' || {keyParameter} || '\"') "
        + $"ELSE (SELECT j.value FROM json_each(u.tags) j WHERE j.key = {keyParameter}) END)";
}
