using System.Data.Common;
using TokenMetrics.Storage.Internal;

namespace TokenMetrics.Storage.PostgreSql;

/// <summary>PostgreSQL specifics: uuid ids, jsonb tags (containment with a GIN index), NUL-escaped text, costs as exact
/// <c>numeric</c> (stored and summed without rounding).</summary>
internal sealed class PostgreSqlStoreDialect(string quotedSchema) : StoreDialect
{
    public override bool EscapesNul => true;

    public override string UsageTable { get; } = quotedSchema + ".tm_usage";

    public override int CostSumColumns => 1;

    public override object CostToColumn(decimal cost) => cost;

    public override decimal ReadCost(DbDataReader reader, int ordinal) => reader.GetDecimal(ordinal);

    public override string SumCost() => "COALESCE(SUM(u.cost), 0)";

    public override decimal ReadCostSum(DbDataReader reader, int ordinal) => reader.GetDecimal(ordinal);

    public override string JsonAsText(string column) => column + "::text";

    public override Guid ReadId(DbDataReader reader, int ordinal) => reader.GetGuid(ordinal);

    public override string TagEquals(string keyParameter, string valueParameter) =>
        $"u.tags @> jsonb_build_object({keyParameter}::text, {valueParameter}::text)";

    public override string TagValue(string keyParameter) => $"(u.tags ->> {keyParameter}::text)";
}
