using System.Collections.Generic;
using System.Data.Common;
using System.Linq;

namespace TokenMetrics.Storage.Internal;

/// <summary>The kind of a stored column, which each store maps to its own SQL and parameter types.</summary>
internal enum ColumnKind
{
    /// <summary>The record id (SQLite: 16-byte big-endian BLOB; PostgreSQL: uuid).</summary>
    Id,

    /// <summary>Text.</summary>
    Text,

    /// <summary>JSON text (PostgreSQL: jsonb).</summary>
    Json,

    /// <summary>64-bit integer.</summary>
    Int64,

    /// <summary>32-bit integer.</summary>
    Int32,

    /// <summary>Boolean (SQLite: 0/1).</summary>
    Bool,

    /// <summary>An exact money amount (<see cref="decimal"/>); each store picks its exact representation (SQLite: integer units
    /// of <see cref="StoreValues.CostUnitsPerCurrencyUnit"/>; PostgreSQL: <c>numeric</c>).</summary>
    Cost,
}

/// <summary>One column of the usage table: its name and kind. A record's values are written by <see cref="UsageRow.Write"/>, in
/// the same order, and read back by <see cref="UsageColumns.Read"/>.</summary>
/// <param name="Name">The column name (a constant, never from input).</param>
/// <param name="Kind">The kind.</param>
internal sealed record UsageColumn(string Name, ColumnKind Kind);

/// <summary>The columns of the usage table, shared by every SQL store, and the mapping between a row and a record.</summary>
internal static class UsageColumns
{
    /// <summary>Gets the stored columns in insert and select order.</summary>
    public static IReadOnlyList<UsageColumn> All { get; } =
    [
        new("id", ColumnKind.Id),
        new("ts", ColumnKind.Int64),
        new("ts_offset_min", ColumnKind.Int32),
        new("provider", ColumnKind.Text),
        new("operation", ColumnKind.Text),
        new("request_model", ColumnKind.Text),
        new("routed_model", ColumnKind.Text),
        new("response_model", ColumnKind.Text),
        new("model", ColumnKind.Text),
        new("response_id", ColumnKind.Text),
        new("is_streaming", ColumnKind.Bool),
        new("status", ColumnKind.Text),
        new("error_type", ColumnKind.Text),
        new("http_status", ColumnKind.Int32),
        new("duration_ticks", ColumnKind.Int64),
        new("first_chunk_ticks", ColumnKind.Int64),
        new("endpoint", ColumnKind.Text),
        new("server_address", ColumnKind.Text),
        new("server_port", ColumnKind.Int32),
        new("input_tokens", ColumnKind.Int64),
        new("output_tokens", ColumnKind.Int64),
        new("total_tokens", ColumnKind.Int64),
        new("cached_tokens", ColumnKind.Int64),
        new("cache_write_tokens", ColumnKind.Int64),
        new("reasoning_tokens", ColumnKind.Int64),
        new("input_details", ColumnKind.Json),
        new("output_details", ColumnKind.Json),
        new("source", ColumnKind.Text),
        new("estimation_method", ColumnKind.Text),
        new("user_id", ColumnKind.Text),
        new("consumer", ColumnKind.Text),
        new("session_id", ColumnKind.Text),
        new("tags", ColumnKind.Json),
        new("client_name", ColumnKind.Text),
        new("layer", ColumnKind.Text),

        // Schema version 2: the tool-loop round of a record.
        new("operation_id", ColumnKind.Text),
        new("round_index", ColumnKind.Int32),

        // Schema version 3: price, feature and captured content.
        new("cost", ColumnKind.Cost),
        new("currency", ColumnKind.Text),
        new("priced_model", ColumnKind.Text),
        new("feature", ColumnKind.Text),
        new("content", ColumnKind.Json),
    ];

    /// <summary>Gets the comma-separated column names, in <see cref="All"/> order.</summary>
    public static string NameList { get; } = string.Join(", ", All.Select(static c => c.Name));

    /// <summary>Returns the column names prefixed with a table alias, for a select list whose first column is <see cref="All"/>[0].</summary>
    /// <param name="alias">The alias (a constant).</param>
    /// <param name="dialect">How JSON columns are read back as text.</param>
    /// <returns>The select list.</returns>
    public static string SelectList(string alias, StoreDialect dialect) =>
        string.Join(", ", All.Select(c => c.Kind == ColumnKind.Json ? dialect.JsonAsText(alias + "." + c.Name) : alias + "." + c.Name));

    /// <summary>Reads a record from a row selected with <see cref="SelectList"/>.</summary>
    /// <param name="reader">The reader, on the row.</param>
    /// <param name="dialect">The dialect (id and string decoding).</param>
    /// <returns>The record.</returns>
    public static TokenUsageRecord Read(DbDataReader reader, StoreDialect dialect)
    {
        var e = dialect.EscapesNul;
        string? S(int i) => reader.IsDBNull(i) ? null : StoreValues.Decode(reader.GetString(i), e);
        long? L(int i) => reader.IsDBNull(i) ? null : reader.GetInt64(i);
        int? I(int i) => reader.IsDBNull(i) ? null : reader.GetInt32(i);
        string? J(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);

        return new TokenUsageRecord
        {
            Id = dialect.ReadId(reader, 0),
            Timestamp = StoreValues.FromUtcTicks(reader.GetInt64(1), reader.GetInt32(2)),
            Provider = S(3),
            Operation = S(4),
            RequestModel = S(5),
            RoutedModel = S(6),
            ResponseModel = S(7),
            //// 8 is the derived effective model.
            ResponseId = S(9),
            IsStreaming = reader.GetBoolean(10),
            Status = StoreValues.ParseStatus(reader.GetString(11)),
            ErrorType = S(12),
            HttpStatusCode = I(13),
            Duration = TimeSpan.FromTicks(reader.GetInt64(14)),
            TimeToFirstChunk = L(15) is { } ttfc ? TimeSpan.FromTicks(ttfc) : null,
            Endpoint = S(16),
            ServerAddress = S(17),
            ServerPort = I(18),
            Usage = new TokenUsage
            {
                InputTokenCount = L(19),
                OutputTokenCount = L(20),
                TotalTokenCount = L(21),
                CachedInputTokenCount = L(22),
                CacheWriteInputTokenCount = L(23),
                ReasoningTokenCount = L(24),
                InputTokenDetails = StoreValues.CountsFromJson(J(25), e),
                OutputTokenDetails = StoreValues.CountsFromJson(J(26), e),
            },
            Source = StoreValues.ParseSource(reader.GetString(27)),
            EstimationMethod = S(28),
            UserId = S(29),
            Consumer = S(30),
            SessionId = S(31),
            Tags = StoreValues.TagsFromJson(J(32), e),
            ClientName = S(33),
            Layer = StoreValues.ParseLayer(reader.GetString(34)),
            OperationId = reader.IsDBNull(35) || !Guid.TryParseExact(reader.GetString(35), "D", out var operationId) ? null : operationId,
            RoundIndex = I(36),
            Cost = reader.IsDBNull(37) ? null : dialect.ReadCost(reader, 37),
            Currency = S(38),
            PricedModel = S(39),
            Feature = S(40),
            Content = StoreValues.ContentFromJson(J(41), e),
        };
    }
}
