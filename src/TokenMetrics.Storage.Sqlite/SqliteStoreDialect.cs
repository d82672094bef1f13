using System.Data.Common;
using TokenMetrics.Storage.Internal;

namespace TokenMetrics.Storage.Sqlite;

/// <summary>SQLite specifics: BLOB ids, tags in the <c>tm_usage_tag</c> child table.</summary>
internal sealed class SqliteStoreDialect : StoreDialect
{
    public static SqliteStoreDialect Instance { get; } = new();

    public override bool EscapesNul => false;

    public override string UsageTable => "tm_usage";

    public override string? DailyRollupTable => "tm_usage_daily";

    public override string JsonAsText(string column) => column;

    public override Guid ReadId(DbDataReader reader, int ordinal) => new(reader.GetFieldValue<byte[]>(ordinal), bigEndian: true);

    public override string TagEquals(string keyParameter, string valueParameter) =>
        $"EXISTS (SELECT 1 FROM tm_usage_tag t WHERE t.usage_seq = u.seq AND t.key = {keyParameter} AND t.value = {valueParameter})";

    public override string TagValue(string keyParameter) =>
        $"(SELECT t.value FROM tm_usage_tag t WHERE t.usage_seq = u.seq AND t.key = {keyParameter})";
}
