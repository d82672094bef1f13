extern alias sqlite;

using System.Buffers;
using System.Text;
using System.Text.Json;
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
        var expectedValues = Expected(record, escapeNul);
        Assert.Equal(columns.Count, expectedValues.Length);
        Assert.Equal(columns.Count, writer.Values.Count);
        for (var i = 0; i < columns.Count; i++)
        {
            var (kind, value) = writer.Values[i];
            var expected = expectedValues[i];
            Assert.True(value is null || kind == columns[i].Kind || (kind == ColumnKind.Int64 && columns[i].Kind == ColumnKind.Int32),
                $"{columns[i].Name}: written as {kind}, declared {columns[i].Kind}");
            Assert.Equal(expected is int n ? (long)n : expected is bool b ? (b ? 1L : 0L) : expected, value);
        }
    }

    // The record's values in column order, spelled out here as the test's own reference (strings encoded as stored, JSON as the
    // stores' writers write it).
    private static object?[] Expected(TokenUsageRecord r, bool e)
    {
        string? S(string? value) => StoreValues.Encode(value, e);
        string? Json<T>(T? value, Action<Utf8JsonWriter, T, bool> write)
            where T : class
        {
            if (value is null)
            {
                return null;
            }

            var buffer = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                write(writer, value, e);
            }

            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }

        return
        [
            r.Id, StoreValues.ToUtcTicks(r.Timestamp), (int)r.Timestamp.Offset.TotalMinutes, S(r.Provider), S(r.Operation),
            S(r.RequestModel), S(r.RoutedModel), S(r.ResponseModel), S(StoreValues.EffectiveModel(r)), S(r.ResponseId), r.IsStreaming,
            StoreValues.StatusName(r.Status), S(r.ErrorType), r.HttpStatusCode, r.Duration.Ticks, r.TimeToFirstChunk?.Ticks,
            S(r.Endpoint), S(r.ServerAddress), r.ServerPort, r.Usage.InputTokenCount, r.Usage.OutputTokenCount, r.Usage.TotalTokenCount,
            r.Usage.CachedInputTokenCount, r.Usage.CacheWriteInputTokenCount, r.Usage.ReasoningTokenCount,
            Json(r.Usage.InputTokenDetails, StoreValues.WriteCounts), Json(r.Usage.OutputTokenDetails, StoreValues.WriteCounts),
            StoreValues.SourceName(r.Source), S(r.EstimationMethod), S(r.UserId), S(r.Consumer), S(r.SessionId),
            Json(r.Tags, StoreValues.WriteTags), S(r.ClientName), StoreValues.LayerName(r.Layer), r.OperationId?.ToString("D"),
            r.RoundIndex, r.Cost, S(r.Currency), S(r.PricedModel), S(r.Feature), Json(r.Content, StoreValues.WriteContent),
        ];
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
