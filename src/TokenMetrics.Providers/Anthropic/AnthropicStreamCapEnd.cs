using System.Buffers;
using System.Text.Json;

namespace TokenMetrics.Providers.Anthropic;

/// <summary>Writes the end of an Anthropic Messages stream that TokenMetrics stopped at the output cap: what Anthropic itself
/// sends when <c>max_tokens</c> is reached.</summary>
internal static class AnthropicStreamCapEnd
{
    /// <summary><c>content_block_stop</c> for the open block, <c>message_delta</c> with <c>stop_reason: "max_tokens"</c> and the
    /// cumulative usage (input as reported in <c>message_start</c>, output as counted), then <c>message_stop</c>.</summary>
    /// <param name="output">Where the app's bytes go.</param>
    /// <param name="openBlock">The index of the content block still open, or -1.</param>
    /// <param name="usage">The usage reported so far.</param>
    /// <param name="outputTokens">The output tokens the app read.</param>
    public static void Write(IBufferWriter<byte> output, int openBlock, AnthropicUsage usage, long outputTokens)
    {
        if (openBlock >= 0)
        {
            output.Write("event: content_block_stop\ndata: "u8);
            using (var w = new Utf8JsonWriter(output))
            {
                w.WriteStartObject();
                w.WriteString("type", "content_block_stop");
                w.WriteNumber("index", openBlock);
                w.WriteEndObject();
            }

            output.Write("\n\n"u8);
        }

        output.Write("event: message_delta\ndata: "u8);
        using (var w = new Utf8JsonWriter(output))
        {
            w.WriteStartObject();
            w.WriteString("type", "message_delta");
            w.WriteStartObject("delta");
            w.WriteString("stop_reason", "max_tokens");
            w.WriteNull("stop_sequence");
            w.WriteEndObject();
            w.WriteStartObject("usage");
            w.WriteNumber("input_tokens", usage.Input ?? 0);
            w.WriteNumber("cache_creation_input_tokens", usage.CacheCreation ?? 0);
            w.WriteNumber("cache_read_input_tokens", usage.CacheRead ?? 0);
            w.WriteNumber("output_tokens", outputTokens);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        output.Write("\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"u8);
    }
}
