using System.Buffers;
using System.Text.Json;

namespace TokenMetrics.Storage.Internal;

/// <summary>Receives one record's column values in <see cref="UsageColumns.All"/> order, typed: the write path of every store
/// binds or copies them without boxing a value or building a string per JSON column (<see cref="UsageColumns.All"/>'s
/// <c>Get</c> delegates remain the reference the tests compare this with).</summary>
internal interface IUsageRowWriter
{
    /// <summary>Writes SQL NULL.</summary>
    void Null();

    /// <summary>Writes the record id.</summary>
    /// <param name="id">The id.</param>
    void Id(Guid id);

    /// <summary>Writes text, already encoded for the store.</summary>
    /// <param name="value">The text.</param>
    void Text(string value);

    /// <summary>Writes a 64-bit integer.</summary>
    /// <param name="value">The value.</param>
    void Int64(long value);

    /// <summary>Writes a 32-bit integer.</summary>
    /// <param name="value">The value.</param>
    void Int32(int value);

    /// <summary>Writes a boolean.</summary>
    /// <param name="value">The value.</param>
    void Bool(bool value);

    /// <summary>Writes a JSON document.</summary>
    /// <param name="utf8">Its UTF-8 text, valid until the call returns.</param>
    void Json(ReadOnlySpan<byte> utf8);

    /// <summary>Writes a cost.</summary>
    /// <param name="cost">The cost.</param>
    void Cost(decimal cost);
}

/// <summary>Walks a record's columns for an <see cref="IUsageRowWriter"/>.</summary>
internal static class UsageRow
{
    [ThreadStatic]
    private static JsonScratch? t_json;

    /// <summary>Writes every column of <paramref name="r"/>, in <see cref="UsageColumns.All"/> order.</summary>
    /// <typeparam name="TWriter">The writer (a struct, so the calls are direct).</typeparam>
    /// <param name="r">The record.</param>
    /// <param name="escapeNul">Whether strings escape NUL (<see cref="StoreValues.Encode"/>).</param>
    /// <param name="w">The writer.</param>
    public static void Write<TWriter>(TokenUsageRecord r, bool escapeNul, ref TWriter w)
        where TWriter : struct, IUsageRowWriter
    {
        var json = t_json ??= new JsonScratch();
        var usage = r.Usage;
        w.Id(r.Id);
        w.Int64(StoreValues.ToUtcTicks(r.Timestamp));
        w.Int32((int)r.Timestamp.Offset.TotalMinutes);
        Text(ref w, r.Provider, escapeNul);
        Text(ref w, r.Operation, escapeNul);
        Text(ref w, r.RequestModel, escapeNul);
        Text(ref w, r.RoutedModel, escapeNul);
        Text(ref w, r.ResponseModel, escapeNul);
        Text(ref w, StoreValues.EffectiveModel(r), escapeNul);
        Text(ref w, r.ResponseId, escapeNul);
        w.Bool(r.IsStreaming);
        w.Text(StoreValues.StatusName(r.Status));
        Text(ref w, r.ErrorType, escapeNul);
        Int32(ref w, r.HttpStatusCode);
        w.Int64(r.Duration.Ticks);
        Int64(ref w, r.TimeToFirstChunk?.Ticks);
        Text(ref w, r.Endpoint, escapeNul);
        Text(ref w, r.ServerAddress, escapeNul);
        Int32(ref w, r.ServerPort);
        Int64(ref w, usage.InputTokenCount);
        Int64(ref w, usage.OutputTokenCount);
        Int64(ref w, usage.TotalTokenCount);
        Int64(ref w, usage.CachedInputTokenCount);
        Int64(ref w, usage.CacheWriteInputTokenCount);
        Int64(ref w, usage.ReasoningTokenCount);
        Json(ref w, json, usage.InputTokenDetails, escapeNul, StoreValues.WriteCounts);

        Json(ref w, json, usage.OutputTokenDetails, escapeNul, StoreValues.WriteCounts);

        w.Text(StoreValues.SourceName(r.Source));
        Text(ref w, r.EstimationMethod, escapeNul);
        Text(ref w, r.UserId, escapeNul);
        Text(ref w, r.Consumer, escapeNul);
        Text(ref w, r.SessionId, escapeNul);
        Json(ref w, json, r.Tags, escapeNul, StoreValues.WriteTags);

        Text(ref w, r.ClientName, escapeNul);
        w.Text(StoreValues.LayerName(r.Layer));
        if (r.OperationId is { } operationId)
        {
            w.Text(operationId.ToString("D"));
        }
        else
        {
            w.Null();
        }

        Int32(ref w, r.RoundIndex);
        if (r.Cost is { } cost)
        {
            w.Cost(cost);
        }
        else
        {
            w.Null();
        }

        Text(ref w, r.Currency, escapeNul);
        Text(ref w, r.PricedModel, escapeNul);
        Text(ref w, r.Feature, escapeNul);
        Json(ref w, json, r.Content, escapeNul, StoreValues.WriteContent);
    }

    private static void Json<TWriter, T>(ref TWriter w, JsonScratch json, T? value, bool escapeNul, Action<Utf8JsonWriter, T, bool> write)
        where TWriter : struct, IUsageRowWriter
        where T : class
    {
        if (value is null)
        {
            w.Null();
        }
        else
        {
            w.Json(json.Write(value, escapeNul, write));
        }
    }

    private static void Text<TWriter>(ref TWriter w, string? value, bool escapeNul)
        where TWriter : struct, IUsageRowWriter
    {
        if (value is null)
        {
            w.Null();
        }
        else
        {
            w.Text(StoreValues.Encode(value, escapeNul)!);
        }
    }

    private static void Int64<TWriter>(ref TWriter w, long? value)
        where TWriter : struct, IUsageRowWriter
    {
        if (value is { } v)
        {
            w.Int64(v);
        }
        else
        {
            w.Null();
        }
    }

    private static void Int32<TWriter>(ref TWriter w, int? value)
        where TWriter : struct, IUsageRowWriter
    {
        if (value is { } v)
        {
            w.Int32(v);
        }
        else
        {
            w.Null();
        }
    }

    // One buffer and one JSON writer per thread, reset for every value: the JSON columns cost no allocation.
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Thread-static for the thread's lifetime; the JSON writer holds only managed memory.")]
    private sealed class JsonScratch
    {
        // A captured conversation can be megabytes: a buffer grown past this is not kept for the thread's lifetime.
        private const int KeptCapacity = 64 * 1024;
        private ArrayBufferWriter<byte> _buffer = new(256);
        private readonly Utf8JsonWriter _writer;

        public JsonScratch() => _writer = new Utf8JsonWriter(_buffer);

        public ReadOnlySpan<byte> Write<T>(T value, bool escapeNul, Action<Utf8JsonWriter, T, bool> write)
        {
            if (_buffer.Capacity > KeptCapacity)
            {
                _buffer = new ArrayBufferWriter<byte>(256);
            }

            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            write(_writer, value, escapeNul);
            _writer.Flush();
            return _buffer.WrittenSpan;
        }
    }
}
