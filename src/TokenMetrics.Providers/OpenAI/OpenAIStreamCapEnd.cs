using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TokenMetrics.Providers.OpenAI;

/// <summary>Writes the end of an OpenAI Chat Completions stream that TokenMetrics stopped at the output cap: what OpenAI itself
/// sends when <c>max_completion_tokens</c> is reached.</summary>
internal static class OpenAIStreamCapEnd
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A chunk with <c>finish_reason: "length"</c> (the stream's id, model and created), a usage chunk when the app
    /// asked for usage, then <c>data: [DONE]</c>.</summary>
    /// <param name="output">Where the app's bytes go.</param>
    /// <param name="id">The stream's id.</param>
    /// <param name="created">The stream's <c>created</c>.</param>
    /// <param name="model">The stream's model.</param>
    /// <param name="usage">The usage to report (input, output), or <see langword="null"/> when the app did not ask for it.</param>
    public static void Write(IBufferWriter<byte> output, string? id, long created, string? model, (long Input, long Output)? usage)
    {
        WriteChunk(output, id, created, model, usage, finish: true);
        if (usage is not null)
        {
            WriteChunk(output, id, created, model, usage, finish: false);
        }

        output.Write("data: [DONE]\n\n"u8);
    }

    /// <summary><c>response.incomplete</c> with <c>incomplete_details.reason: "max_output_tokens"</c>: the stream's own
    /// <c>response</c> object (from <c>response.created</c>) with that status and the usage.</summary>
    /// <param name="output">Where the app's bytes go.</param>
    /// <param name="response">The <c>response</c> object seen at the start, or <see langword="null"/>.</param>
    /// <param name="sequenceNumber">The event's <c>sequence_number</c>.</param>
    /// <param name="inputTokens">The input tokens.</param>
    /// <param name="outputTokens">The output tokens the app read.</param>
    public static void WriteResponsesIncomplete(IBufferWriter<byte> output, byte[]? response, long sequenceNumber, long inputTokens, long outputTokens)
    {
        var node = (response is null ? null : JsonNode.Parse(response) as JsonObject) ?? new JsonObject { ["object"] = "response", ["output"] = new JsonArray() };
        node["status"] = "incomplete";
        node["incomplete_details"] = new JsonObject { ["reason"] = "max_output_tokens" };
        node["usage"] = new JsonObject
        {
            ["input_tokens"] = inputTokens,
            ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = 0 },
            ["output_tokens"] = outputTokens,
            ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 },
            ["total_tokens"] = inputTokens + outputTokens,
        };
        output.Write("event: response.incomplete\ndata: "u8);
        using (var w = new Utf8JsonWriter(output, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("type", "response.incomplete");
            w.WriteNumber("sequence_number", sequenceNumber);
            w.WritePropertyName("response");
            node.WriteTo(w);
            w.WriteEndObject();
        }

        output.Write("\n\n"u8);
    }

    private static void WriteChunk(IBufferWriter<byte> output, string? id, long created, string? model, (long Input, long Output)? usage, bool finish)
    {
        output.Write("data: "u8);
        using (var w = new Utf8JsonWriter(output, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("id", id ?? string.Empty);
            w.WriteString("object", "chat.completion.chunk");
            w.WriteNumber("created", created);
            w.WriteString("model", model ?? string.Empty);
            w.WriteStartArray("choices");
            if (finish)
            {
                w.WriteStartObject();
                w.WriteNumber("index", 0);
                w.WriteStartObject("delta");
                w.WriteEndObject();
                w.WriteNull("logprobs");
                w.WriteString("finish_reason", "length");
                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (usage is { } u)
            {
                if (finish)
                {
                    // With include_usage every chunk but the last carries "usage":null.
                    w.WriteNull("usage");
                }
                else
                {
                    w.WriteStartObject("usage");
                    w.WriteNumber("prompt_tokens", u.Input);
                    w.WriteNumber("completion_tokens", u.Output);
                    w.WriteNumber("total_tokens", u.Input + u.Output);
                    w.WriteEndObject();
                }
            }

            w.WriteEndObject();
        }

        output.Write("\n\n"u8);
    }
}
