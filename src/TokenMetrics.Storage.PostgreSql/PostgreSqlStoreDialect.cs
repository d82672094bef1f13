using System.Data.Common;
using TokenMetrics.Storage.Internal;

namespace TokenMetrics.Storage.PostgreSql;

/// <summary>PostgreSQL specifics: uuid ids, jsonb tags (containment with a GIN index), NUL-escaped text.</summary>
internal sealed class PostgreSqlStoreDialect(string quotedSchema) : StoreDialect
{
    public override bool EscapesNul => true;

    public override string UsageTable { get; } = quotedSchema + ".tm_usage";

    public override string JsonAsText(string column) => column + "::text";

    public override Guid ReadId(DbDataReader reader, int ordinal) => reader.GetGuid(ordinal);

    public override string TagEquals(string keyParameter, string valueParameter) =>
        $"u.tags @> jsonb_build_object({keyParameter}::text, {valueParameter}::text)";

    public override string TagValue(string keyParameter) => $"(u.tags ->> {keyParameter}::text)";
}
