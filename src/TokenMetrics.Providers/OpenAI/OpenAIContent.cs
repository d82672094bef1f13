using System.Text.Json;
using TokenMetrics.Internal;
using TokenMetrics.Providers.Json;

namespace TokenMetrics.Providers.OpenAI;

/// <summary>Captures conversation content from OpenAI answers (Chat Completions chunks and bodies, Responses events and bodies);
/// used only when content capture is on.</summary>
/// <remarks>Chat Completions: only <c>choices[0]</c> (the choice with index 0); answer from <c>content</c>, reasoning from
/// <c>reasoning_content</c> (DeepSeek, Qwen) or <c>reasoning</c>, tool calls assembled by their <c>index</c>.</remarks>
internal static class OpenAIContent
{
    /// <summary>Observes one Chat Completions stream chunk (<c>choices[0].delta</c>).</summary>
    public static void ObserveChatChunk(ReadOnlySpan<byte> json, ContentCapture capture)
    {
        try
        {
            _ = ReadChoices(json, capture);
        }
        catch (JsonException)
        {
            // A malformed chunk adds nothing; usage metering is not affected.
        }
    }

    /// <summary>Observes a whole non-streamed body: <c>choices[0].message</c> (Chat Completions) or <c>output</c> (Responses).</summary>
    public static void ObserveBody(ReadOnlySpan<byte> json, ContentCapture capture)
    {
        try
        {
            if (!ReadChoices(json, capture) && JsonText.TryGetTopLevelValue(json, "output"u8, out var output))
            {
                ReadResponsesOutput(output, capture);
            }
        }
        catch (JsonException)
        {
        }
    }

    /// <summary>Observes one Responses API stream event.</summary>
    public static void ObserveResponsesEvent(ReadOnlySpan<byte> type, ReadOnlySpan<byte> json, ContentCapture capture)
    {
        if (type.SequenceEqual("response.output_text.delta"u8))
        {
            AppendTopLevelString(json, "delta"u8, capture.Answer);
        }
        else if (type.SequenceEqual("response.reasoning_summary_text.delta"u8) || type.SequenceEqual("response.reasoning_text.delta"u8))
        {
            AppendTopLevelString(json, "delta"u8, capture.Reasoning);
        }
        else if (type.SequenceEqual("response.function_call_arguments.delta"u8))
        {
            if (capture.ToolCalls is { } calls && OutputIndex(json) is { } index)
            {
                AppendTopLevelString(json, "delta"u8, calls.Arguments(index));
            }
        }
        else if (type.SequenceEqual("response.output_item.added"u8) && capture.ToolCalls is { } calls
            && OutputIndex(json) is { } index && JsonText.TryGetTopLevelValue(json, "item"u8, out var item))
        {
            ReadFunctionCallItem(item, index, calls, withArguments: false);
        }
    }

    /// <summary>Reads <c>choices[0]</c>; returns whether the body has a <c>choices</c> array.</summary>
    private static bool ReadChoices(ReadOnlySpan<byte> json, ContentCapture capture)
    {
        if (!JsonText.TryGetTopLevelValue(json, "choices"u8, out var choices) || choices.IsEmpty || choices[0] != (byte)'[')
        {
            return false;
        }

        var reader = new Utf8JsonReader(choices, JsonScan.Options);
        reader.Read();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            var choice = choices[start..(int)reader.BytesConsumed];

            // choices[0]: the choice whose index is 0 (with n > 1, a chunk may carry another choice first).
            if (JsonText.TryGetTopLevelValue(choice, "index"u8, out var index) && !index.SequenceEqual("0"u8))
            {
                continue;
            }

            if ((JsonText.TryGetTopLevelValue(choice, "delta"u8, out var delta) || JsonText.TryGetTopLevelValue(choice, "message"u8, out delta))
                && !delta.IsEmpty && delta[0] == (byte)'{')
            {
                ReadMessage(delta, capture);
            }

            break;
        }

        return true;
    }

    private static void ReadMessage(ReadOnlySpan<byte> message, ContentCapture capture)
    {
        var reader = new Utf8JsonReader(message, JsonScan.Options);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8))
            {
                reader.Read();
                capture.Answer?.AppendString(ref reader);
                reader.Skip();
            }
            else if (reader.ValueTextEquals("reasoning_content"u8) || reader.ValueTextEquals("reasoning"u8))
            {
                reader.Read();
                capture.Reasoning?.AppendString(ref reader);
                reader.Skip();
            }
            else if (reader.ValueTextEquals("tool_calls"u8) && capture.ToolCalls is { } calls)
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartArray)
                {
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    ReadToolCalls(message[start..(int)reader.BytesConsumed], calls);
                }
                else
                {
                    reader.Skip();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    /// <summary>Each element: <c>index</c> (its position when absent), <c>id</c>, <c>type</c>, <c>function.name</c>,
    /// <c>function.arguments</c> (appended).</summary>
    private static void ReadToolCalls(ReadOnlySpan<byte> array, ToolCallAssembler calls)
    {
        var reader = new Utf8JsonReader(array, JsonScan.Options);
        reader.Read();
        var position = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                position++;
                continue;
            }

            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            var call = array[start..(int)reader.BytesConsumed];
            var index = JsonText.TryGetTopLevelValue(call, "index"u8, out var raw) && int.TryParse(raw, out var i) ? i : position;
            position++;
            string? name = null;
            var hasFunction = JsonText.TryGetTopLevelValue(call, "function"u8, out var function) && !function.IsEmpty && function[0] == (byte)'{';
            if (hasFunction)
            {
                name = TopLevelString(function, "name"u8);
            }

            calls.Set(index, TopLevelString(call, "id"u8), TopLevelString(call, "type"u8), name);
            if (hasFunction)
            {
                AppendTopLevelString(function, "arguments"u8, calls.Arguments(index));
            }
        }
    }

    private static void ReadResponsesOutput(ReadOnlySpan<byte> output, ContentCapture capture)
    {
        if (output.IsEmpty || output[0] != (byte)'[')
        {
            return;
        }

        var reader = new Utf8JsonReader(output, JsonScan.Options);
        reader.Read();
        var position = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var start = (int)reader.TokenStartIndex;
            var isObject = reader.TokenType == JsonTokenType.StartObject;
            reader.Skip();
            var item = output[start..(int)reader.BytesConsumed];
            var index = position++;
            if (!isObject)
            {
                continue;
            }

            var type = JsonText.TryGetTopLevelValue(item, "type"u8, out var t) ? t : default;
            if (type.SequenceEqual("\"message\""u8))
            {
                AppendTexts(item, "content"u8, capture.Answer);
            }
            else if (type.SequenceEqual("\"reasoning\""u8))
            {
                AppendTexts(item, "summary"u8, capture.Reasoning);
            }
            else if (type.SequenceEqual("\"function_call\""u8) && capture.ToolCalls is { } calls)
            {
                ReadFunctionCallItem(item, index, calls, withArguments: true);
            }
        }
    }

    private static void ReadFunctionCallItem(ReadOnlySpan<byte> item, int index, ToolCallAssembler calls, bool withArguments)
    {
        if (!JsonText.TryGetTopLevelValue(item, "type"u8, out var type) || !type.SequenceEqual("\"function_call\""u8))
        {
            return;
        }

        calls.Set(index, TopLevelString(item, "call_id"u8) ?? TopLevelString(item, "id"u8), "function", TopLevelString(item, "name"u8));
        if (withArguments)
        {
            AppendTopLevelString(item, "arguments"u8, calls.Arguments(index));
        }
    }

    /// <summary>Appends the <c>text</c> of every part in the array <paramref name="name"/> (output_text, summary_text).</summary>
    private static void AppendTexts(ReadOnlySpan<byte> item, ReadOnlySpan<byte> name, ContentText? target)
    {
        if (target is null || !JsonText.TryGetTopLevelValue(item, name, out var parts) || parts.IsEmpty || parts[0] != (byte)'[')
        {
            return;
        }

        var reader = new Utf8JsonReader(parts, JsonScan.Options);
        reader.Read();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            AppendTopLevelString(parts[start..(int)reader.BytesConsumed], "text"u8, target);
        }
    }

    private static int? OutputIndex(ReadOnlySpan<byte> json) =>
        JsonText.TryGetTopLevelValue(json, "output_index"u8, out var raw) && int.TryParse(raw, out var index) ? index : null;

    private static void AppendTopLevelString(ReadOnlySpan<byte> json, ReadOnlySpan<byte> name, ContentText? target)
    {
        if (target is not null && JsonText.TryGetTopLevelValue(json, name, out var raw) && raw.Length >= 2 && raw[0] == (byte)'"')
        {
            target.AppendJsonEscaped(raw[1..^1]);
        }
    }

    private static string? TopLevelString(ReadOnlySpan<byte> json, ReadOnlySpan<byte> name) =>
        JsonText.TryGetTopLevelValue(json, name, out var raw) ? JsonText.GetString(raw) : null;
}
