using System.Collections.Generic;

namespace TokenMetrics.Storage.Internal;

/// <summary>Receives one row's values typed, in <see cref="UsageColumns.All"/> order (a struct, so no value is boxed).</summary>
internal interface IUsageRowWriter
{
    /// <summary>Writes an <see cref="ColumnKind.Id"/> value.</summary>
    /// <param name="value">The value.</param>
    void Id(Guid value);

    /// <summary>Writes an <see cref="ColumnKind.Int64"/> value.</summary>
    /// <param name="value">The value, or null.</param>
    void Int64(long? value);

    /// <summary>Writes an <see cref="ColumnKind.Int32"/> value.</summary>
    /// <param name="value">The value, or null.</param>
    void Int32(int? value);

    /// <summary>Writes a <see cref="ColumnKind.Bool"/> value.</summary>
    /// <param name="value">The value.</param>
    void Bool(bool value);

    /// <summary>Writes a <see cref="ColumnKind.Text"/> value (already encoded for the store).</summary>
    /// <param name="value">The value, or null.</param>
    void Text(string? value);

    /// <summary>Writes a <see cref="ColumnKind.Json"/> value (already encoded for the store).</summary>
    /// <param name="value">The value, or null.</param>
    void Json(string? value);

    /// <summary>Writes a <see cref="ColumnKind.Cost"/> value.</summary>
    /// <param name="value">The value, or null.</param>
    void Cost(decimal? value);
}

/// <summary>A record's row written typed: the same values as <see cref="UsageColumn.Get"/>, without an object per value. A store
/// whose writer takes typed values (PostgreSQL's binary COPY) uses this; <see cref="Kinds"/> checks that it matches the columns.</summary>
internal static class UsageRow
{
    /// <summary>Gets the kinds <see cref="Write"/> writes, in order (equal to the kinds of <see cref="UsageColumns.All"/>: checked by
    /// <see cref="EnsureMatchesColumns"/>).</summary>
    public static IReadOnlyList<ColumnKind> Kinds { get; } = RecordKinds();

    /// <summary>Throws unless <see cref="Write"/> writes the columns of <see cref="UsageColumns.All"/>, kind by kind.</summary>
    /// <exception cref="InvalidOperationException">The two lists differ (a column added to one only).</exception>
    public static void EnsureMatchesColumns()
    {
        var columns = UsageColumns.All;
        if (Kinds.Count != columns.Count)
        {
            throw new InvalidOperationException("UsageRow.Write writes " + Kinds.Count + " columns; UsageColumns.All has " + columns.Count + ".");
        }

        for (var i = 0; i < columns.Count; i++)
        {
            if (Kinds[i] != columns[i].Kind)
            {
                throw new InvalidOperationException("UsageRow.Write writes column " + i + " as " + Kinds[i] + "; UsageColumns.All has " + columns[i].Name + " as " + columns[i].Kind + ".");
            }
        }
    }

    /// <summary>Writes a record's row.</summary>
    /// <typeparam name="TWriter">The writer.</typeparam>
    /// <param name="r">The record.</param>
    /// <param name="e">Whether strings are NUL-escaped (<see cref="StoreDialect.EscapesNul"/>).</param>
    /// <param name="w">The writer.</param>
    public static void Write<TWriter>(TokenUsageRecord r, bool e, ref TWriter w)
        where TWriter : struct, IUsageRowWriter
    {
        w.Id(r.Id);
        w.Int64(StoreValues.ToUtcTicks(r.Timestamp));
        w.Int32((int)r.Timestamp.Offset.TotalMinutes);
        w.Text(StoreValues.Encode(r.Provider, e));
        w.Text(StoreValues.Encode(r.Operation, e));
        w.Text(StoreValues.Encode(r.RequestModel, e));
        w.Text(StoreValues.Encode(r.RoutedModel, e));
        w.Text(StoreValues.Encode(r.ResponseModel, e));
        w.Text(StoreValues.Encode(StoreValues.EffectiveModel(r), e));
        w.Text(StoreValues.Encode(r.ResponseId, e));
        w.Bool(r.IsStreaming);
        w.Text(StoreValues.StatusName(r.Status));
        w.Text(StoreValues.Encode(r.ErrorType, e));
        w.Int32(r.HttpStatusCode);
        w.Int64(r.Duration.Ticks);
        w.Int64(r.TimeToFirstChunk?.Ticks);
        w.Text(StoreValues.Encode(r.Endpoint, e));
        w.Text(StoreValues.Encode(r.ServerAddress, e));
        w.Int32(r.ServerPort);
        w.Int64(r.Usage.InputTokenCount);
        w.Int64(r.Usage.OutputTokenCount);
        w.Int64(r.Usage.TotalTokenCount);
        w.Int64(r.Usage.CachedInputTokenCount);
        w.Int64(r.Usage.CacheWriteInputTokenCount);
        w.Int64(r.Usage.ReasoningTokenCount);
        w.Json(StoreValues.CountsToJson(r.Usage.InputTokenDetails, e));
        w.Json(StoreValues.CountsToJson(r.Usage.OutputTokenDetails, e));
        w.Text(StoreValues.SourceName(r.Source));
        w.Text(StoreValues.Encode(r.EstimationMethod, e));
        w.Text(StoreValues.Encode(r.UserId, e));
        w.Text(StoreValues.Encode(r.Consumer, e));
        w.Text(StoreValues.Encode(r.SessionId, e));
        w.Json(StoreValues.TagsToJson(r.Tags, e));
        w.Text(StoreValues.Encode(r.ClientName, e));
        w.Text(StoreValues.LayerName(r.Layer));
        w.Text(r.OperationId?.ToString("D"));
        w.Int32(r.RoundIndex);
        w.Cost(r.Cost);
        w.Text(StoreValues.Encode(r.Currency, e));
        w.Text(StoreValues.Encode(r.PricedModel, e));
        w.Text(StoreValues.Encode(r.Feature, e));
        w.Json(StoreValues.ContentToJson(r.Content, e));
    }

    private static List<ColumnKind> RecordKinds()
    {
        var recorder = new KindRecorder { Kinds = [] };
        Write(new TokenUsageRecord(), false, ref recorder);
        return recorder.Kinds;
    }

    private struct KindRecorder : IUsageRowWriter
    {
        public List<ColumnKind> Kinds;

        public readonly void Id(Guid value) => Kinds.Add(ColumnKind.Id);

        public readonly void Int64(long? value) => Kinds.Add(ColumnKind.Int64);

        public readonly void Int32(int? value) => Kinds.Add(ColumnKind.Int32);

        public readonly void Bool(bool value) => Kinds.Add(ColumnKind.Bool);

        public readonly void Text(string? value) => Kinds.Add(ColumnKind.Text);

        public readonly void Json(string? value) => Kinds.Add(ColumnKind.Json);

        public readonly void Cost(decimal? value) => Kinds.Add(ColumnKind.Cost);
    }
}
