using System.Text.Json;
using TokenMetrics.Internal;
using TokenMetrics.Providers.Json;

namespace TokenMetrics.Providers.Anthropic;

/// <summary>Captures conversation content from Anthropic Messages answers; used only when content capture is on.</summary>
/// <remarks><c>text</c> blocks are the answer, <c>thinking</c> blocks the reasoning, <c>tool_use</c> blocks the tool calls, keyed
/// by their content-block index (a stream's <c>input_json_delta</c> fragments are appended to the block they name).</remarks>
internal static class AnthropicContent
{
    /// <summary>Observes one stream event.</summary>
    public static void ObserveEvent(ReadOnlySpan<byte> type, ReadOnlySpan<byte> json, ContentCapture capture)
    {
        try
        {
            if (type.SequenceEqual("content_block_delta"u8))
            {
                if (!JsonText.TryGetTopLevelValue(json, "delta"u8, out var delta) || delta.IsEmpty || delta[0] != (byte)'{')
                {
                    return;
                }

                var deltaType = JsonText.TryGetTopLevelValue(delta, "type"u8, out var t) ? t : default;
                if (deltaType.SequenceEqual("\"text_delta\""u8))
                {
                    Append(delta, "text"u8, capture.Answer);
                }
                else if (deltaType.SequenceEqual("\"thinking_delta\""u8))
                {
                    Append(delta, "thinking"u8, capture.Reasoning);
                }
                else if (deltaType.SequenceEqual("\"input_json_delta\""u8) && capture.ToolCalls is { } calls
                    && Index(json) is { } index && calls.Contains(index))
                {
                    Append(delta, "partial_json"u8, calls.Arguments(index));
                }
            }
            else if (type.SequenceEqual("content_block_start"u8) && capture.ToolCalls is { } calls
                && Index(json) is { } index && JsonText.TryGetTopLevelValue(json, "content_block"u8, out var block) && IsToolUse(block))
            {
                calls.Set(index, String(block, "id"u8), "function", String(block, "name"u8));
            }
        }
        catch (JsonException)
        {
            // A malformed event adds nothing; usage metering is not affected.
        }
    }

    /// <summary>Observes a whole non-streamed message: its <c>content</c> blocks.</summary>
    public static void ObserveBody(ReadOnlySpan<byte> json, ContentCapture capture)
    {
        try
        {
            if (!JsonText.TryGetTopLevelValue(json, "content"u8, out var content) || content.IsEmpty || content[0] != (byte)'[')
            {
                return;
            }

            var reader = new Utf8JsonReader(content, JsonScan.Options);
            reader.Read();
            var index = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                var block = content[start..(int)reader.BytesConsumed];
                var blockIndex = index++;
                if (!JsonText.TryGetTopLevelValue(block, "type"u8, out var type))
                {
                    continue;
                }

                if (type.SequenceEqual("\"text\""u8))
                {
                    Append(block, "text"u8, capture.Answer);
                }
                else if (type.SequenceEqual("\"thinking\""u8))
                {
                    Append(block, "thinking"u8, capture.Reasoning);
                }
                else if (IsToolUse(block) && capture.ToolCalls is { } calls)
                {
                    calls.Set(blockIndex, String(block, "id"u8), "function", String(block, "name"u8));
                    if (JsonText.TryGetTopLevelValue(block, "input"u8, out var input))
                    {
                        // The input is a JSON object: kept as its JSON text, as a stream's fragments join to.
                        calls.Arguments(blockIndex)?.AppendUtf8(input);
                    }
                }
            }
        }
        catch (JsonException)
        {
        }
    }

    private static bool IsToolUse(ReadOnlySpan<byte> block) =>
        !block.IsEmpty && block[0] == (byte)'{' && JsonText.TryGetTopLevelValue(block, "type"u8, out var type) && type.SequenceEqual("\"tool_use\""u8);

    private static int? Index(ReadOnlySpan<byte> json) =>
        JsonText.TryGetTopLevelValue(json, "index"u8, out var raw) && int.TryParse(raw, out var index) ? index : null;

    private static void Append(ReadOnlySpan<byte> json, ReadOnlySpan<byte> name, ContentText? target)
    {
        if (target is not null && JsonText.TryGetTopLevelValue(json, name, out var raw) && raw.Length >= 2 && raw[0] == (byte)'"')
        {
            target.AppendJsonEscaped(raw[1..^1]);
        }
    }

    private static string? String(ReadOnlySpan<byte> json, ReadOnlySpan<byte> name) =>
        JsonText.TryGetTopLevelValue(json, name, out var raw) ? JsonText.GetString(raw) : null;
}
