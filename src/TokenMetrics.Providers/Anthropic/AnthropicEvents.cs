using System.Text.Json;

namespace TokenMetrics.Providers.Anthropic;

/// <summary>Reads Anthropic Messages stream events (SSE on api.anthropic.com and Vertex AI; base64 chunks on Bedrock) and keeps
/// what a call reports: cumulative usage merged per field, model, id, stop reason, errors and the answer text for estimates.</summary>
internal abstract class AnthropicEventReader : TokenUsageResponseReader
{
    private AnthropicUsage _usage;

    /// <summary>Gets the last stop reason seen (<c>end_turn</c>, <c>tool_use</c>, <c>max_tokens</c>...).</summary>
    public string? StopReason { get; private set; }

    /// <summary>Gets the raw usage merged so far.</summary>
    internal AnthropicUsage RawUsage => _usage;

    /// <summary>Observes one event's JSON; <paramref name="eventType"/> is the SSE <c>event:</c> field, or empty to read <c>"type"</c>.</summary>
    protected void ObserveEvent(ReadOnlySpan<byte> eventType, ReadOnlySpan<byte> json)
    {
        var type = eventType.IsEmpty ? TypeOf(json) : eventType;
        if (Capture is { } capture)
        {
            AnthropicContent.ObserveEvent(type, json, capture);
        }

        if (type.SequenceEqual("content_block_delta"u8))
        {
            CollectDeltaText(json);
        }
        else if (type.SequenceEqual("message_start"u8))
        {
            ReadMessageStart(json);
        }
        else if (type.SequenceEqual("message_delta"u8))
        {
            ReadMessageDelta(json);
        }
        else if (type.SequenceEqual("message_stop"u8))
        {
            Completed = true;
        }
        else if (type.SequenceEqual("error"u8))
        {
            ErrorType = ReadErrorType(json) ?? "error";
        }

        // ping, content_block_start/stop and unknown events carry nothing to meter.
    }

    /// <summary>Reads the top-level <c>"type"</c> of an event; Anthropic writes it first, so that is tried before a full scan.</summary>
    internal static ReadOnlySpan<byte> TypeOf(ReadOnlySpan<byte> json)
    {
        var trimmed = json.TrimStart(" \t\r\n"u8);
        ReadOnlySpan<byte> prefix = "{\"type\":\""u8;
        if (trimmed.StartsWith(prefix))
        {
            var end = trimmed[prefix.Length..].IndexOf((byte)'"');
            if (end >= 0)
            {
                return trimmed.Slice(prefix.Length, end);
            }
        }

        return JsonText.TryGetTopLevelValue(json, "type"u8, out var raw) && raw.Length >= 2 && raw[0] == (byte)'"' ? raw[1..^1] : default;
    }

    /// <summary>Reads the error type of an <c>error</c> event or error body: <c>{"type":"error","error":{"type":"overloaded_error",...}}</c>.</summary>
    internal static string? ReadErrorType(ReadOnlySpan<byte> json)
    {
        if (!JsonText.TryGetTopLevelValue(json, "error"u8, out var error) || error.IsEmpty || error[0] != (byte)'{')
        {
            return null;
        }

        return JsonText.TryGetTopLevelValue(error, "type"u8, out var type) ? JsonText.GetString(type) : null;
    }

    protected void SetUsage(AnthropicUsage usage)
    {
        _usage = usage;
        Usage = usage.ToTokenUsage();
    }

    private void ReadMessageStart(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!reader.ValueTextEquals("message"u8))
                {
                    reader.Read();
                    reader.Skip();
                    continue;
                }

                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                var usage = _usage;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("usage"u8))
                    {
                        reader.Read();
                        AnthropicUsage.Merge(ref reader, ref usage);
                    }
                    else if (reader.ValueTextEquals("model"u8))
                    {
                        reader.Read();
                        ResponseModel = reader.TokenType == JsonTokenType.String ? reader.GetString() : ResponseModel;
                    }
                    else if (reader.ValueTextEquals("id"u8))
                    {
                        reader.Read();
                        ResponseId = reader.TokenType == JsonTokenType.String ? reader.GetString() : ResponseId;
                    }
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }

                SetUsage(usage);
            }
        }
        catch (JsonException)
        {
            // A malformed event is skipped; the rest of the stream is still read.
        }
    }

    private void ReadMessageDelta(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }

            var usage = _usage;
            var sawUsage = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    AnthropicUsage.Merge(ref reader, ref usage);
                    sawUsage = true;
                }
                else if (reader.ValueTextEquals("delta"u8))
                {
                    reader.Read();
                    ReadStopReason(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (sawUsage)
            {
                SetUsage(usage);
            }
        }
        catch (JsonException)
        {
        }
    }

    private void ReadStopReason(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("stop_reason"u8))
            {
                reader.Read();
                StopReason = reader.TokenType == JsonTokenType.String ? reader.GetString() : StopReason;
            }
            else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                reader.Skip();
            }
        }
    }

    /// <summary>Gets or sets a value indicating whether the usual text delta is read by <see cref="TryTextDelta"/>; off only in
    /// tests, which compare it with the general path.</summary>
    internal bool TextDeltaFastPath { get; init; } = true;

    /// <summary>Gets the number of events <see cref="TryTextDelta"/> read (tests check that it ran).</summary>
    internal int TextDeltaFastEvents { get; private set; }

    private static ReadOnlySpan<byte> TextDeltaHead => "{\"type\":\"content_block_delta\",\"index\":"u8;

    private static ReadOnlySpan<byte> TextDeltaMiddle => ",\"delta\":{\"type\":\"text_delta\",\"text\":\""u8;

    /// <summary>The usual delta, <c>{"type":"content_block_delta","index":N,"delta":{"type":"text_delta","text":"…"}}</c> byte for
    /// byte (as Anthropic writes it), recognised with fixed-place comparisons and one short backwards search for the text's
    /// opening quote; the text is appended. Anything else gives <see langword="false"/> with nothing done.</summary>
    /// <remarks>The same as the general path: the text before the delta member has no <c>"delta"</c> (its first match is this
    /// member), the first <c>"text"</c> in it is the name matched here (<c>"text_delta"</c> is not one), and every quote inside the
    /// text is escaped (checked from its end), so the string the general path reads ends at the same quote.</remarks>
    private bool TryTextDelta(ReadOnlySpan<byte> json)
    {
        var close = json.Length - 3;
        if (close < TextDeltaHead.Length + 1 + TextDeltaMiddle.Length || !json.EndsWith("\"}}"u8) || !json.StartsWith(TextDeltaHead))
        {
            return false;
        }

        var open = JsonText.OpeningQuote(json, close);
        var middle = open + 1 - TextDeltaMiddle.Length;
        if (open < 0 || middle <= TextDeltaHead.Length || !json[middle..(open + 1)].SequenceEqual(TextDeltaMiddle))
        {
            return false;
        }

        foreach (var b in json[TextDeltaHead.Length..middle])
        {
            if ((uint)(b - '0') > 9)
            {
                return false;
            }
        }

        if (close > open + 1)
        {
            OutputText.AppendJsonEscaped(json[(open + 1)..close]);
        }

        TextDeltaFastEvents++;
        return true;
    }

    private void CollectDeltaText(ReadOnlySpan<byte> json)
    {
        if (TextDeltaFastPath && TryTextDelta(json))
        {
            return;
        }

        var at = json.IndexOf("\"delta\""u8);
        if (at < 0)
        {
            return;
        }

        var delta = json[at..];
        if (Take(delta, "\"text\""u8) || Take(delta, "\"partial_json\""u8))
        {
            return;
        }

        _ = Take(delta, "\"thinking\""u8);
    }

    private bool Take(ReadOnlySpan<byte> data, ReadOnlySpan<byte> quotedName)
    {
        var (start, end) = FindStringValue(data, quotedName);
        if (start < 0)
        {
            return false;
        }

        if (end > start)
        {
            OutputText.AppendJsonEscaped(data[start..end]);
        }

        return true;
    }

    /// <summary>Finds <c>"name" : "value"</c> (any whitespace around the colon); returns the value's content bounds, or -1.</summary>
    internal static (int Start, int End) FindStringValue(ReadOnlySpan<byte> data, ReadOnlySpan<byte> quotedName)
    {
        var from = 0;
        while (from < data.Length)
        {
            var at = data[from..].IndexOf(quotedName);
            if (at < 0)
            {
                return (-1, -1);
            }

            var i = from + at + quotedName.Length;
            while (i < data.Length && data[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                i++;
            }

            if (i < data.Length && data[i] == (byte)':')
            {
                i++;
                while (i < data.Length && data[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
                {
                    i++;
                }

                if (i < data.Length && data[i] == (byte)'"')
                {
                    var end = JsonText.FindStringEnd(data, i + 1);
                    return end < 0 ? (-1, -1) : (i + 1, end);
                }
            }

            from = from + at + quotedName.Length;
        }

        return (-1, -1);
    }
}
