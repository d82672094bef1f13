extern alias sqlite;

using System.Text;
using sqlite::TokenMetrics.Storage.Internal;

namespace TokenMetrics.Storage.Tests;

/// <summary>The typed row walk (the shared source, as compiled into the SQLite store) the stores' write paths use gives every column the value, kind and order of
/// <see cref="UsageColumns.All"/> (the reference the read path mirrors).</summary>
public sealed class UsageRowTests
{
    public static TheoryData<int, bool> Cases() => new() { { 0, false }, { 1, false }, { 2, false }, { 0, true }, { 2, true } };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Write_GivesEveryColumnItsKindAndValueInOrder(int which, bool escapeNul)
    {
        var record = which switch
        {
            0 => StoreContractTests.FullRecord("nul\0 \uE000 \"q\" 🧪"),
            1 => StoreContractTests.Rec(),
            _ => StoreContractTests.Rec() with { Tags = new Dictionary<string, string>(), Usage = new TokenUsage { InputTokenDetails = new Dictionary<string, long>() }, Cost = 1.5m },
        };
        var writer = new Recorder { Values = [] };
        UsageRow.Write(record, escapeNul, ref writer);

        var columns = UsageColumns.All;
        Assert.Equal(columns.Count, writer.Values.Count);
        for (var i = 0; i < columns.Count; i++)
        {
            var (kind, value) = writer.Values[i];
            var expected = columns[i].Kind switch
            {
                ColumnKind.Id => record.Id,
                ColumnKind.Cost => record.Cost,
                _ => columns[i].Get(record, escapeNul),
            };
            Assert.True(value is null || kind == columns[i].Kind || (kind == ColumnKind.Int64 && columns[i].Kind == ColumnKind.Int32),
                $"{columns[i].Name}: written as {kind}, declared {columns[i].Kind}");
            Assert.Equal(expected is int n ? (long)n : expected is bool b ? (b ? 1L : 0L) : expected, value);
        }
    }

    private struct Recorder : IUsageRowWriter
    {
        public List<(ColumnKind Kind, object? Value)> Values;

        public void Null() => Values.Add((ColumnKind.Text, null));

        public void Id(Guid id) => Values.Add((ColumnKind.Id, id));

        public void Text(string value) => Values.Add((ColumnKind.Text, value));

        public void Int64(long value) => Values.Add((ColumnKind.Int64, value));

        public void Int32(int value) => Values.Add((ColumnKind.Int32, (long)value));

        public void Bool(bool value) => Values.Add((ColumnKind.Bool, value ? 1L : 0L));

        public void Json(ReadOnlySpan<byte> utf8) => Values.Add((ColumnKind.Json, Encoding.UTF8.GetString(utf8)));

        public void Cost(decimal cost) => Values.Add((ColumnKind.Cost, cost));
    }
}
