using System.Buffers;
using System.Collections.Generic;
using System.Text.Json;

namespace TokenMetrics.Providers.Rewriting;

/// <summary>Writes answers in OpenAI Chat Completions format for rewriters: the non-streamed <c>chat.completion</c> object, and
/// <c>chat.completion.chunk</c> server-sent events, ending with the usage chunk (only when the app asked for it) and <c>[DONE]</c>.</summary>
internal sealed class OpenAIAnswerWriter(string id, long created, string model, bool includeUsage)
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Gets or sets the model reported to the app (the vendor's, once known).</summary>
    public string Model { get; set; } = model;

    /// <summary>Maps a vendor stop reason to OpenAI's <c>finish_reason</c>.</summary>
    public static string FinishReason(string? vendorReason) => vendorReason switch
    {
        null => "stop",
        "end_turn" or "stop_sequence" or "STOP" or "stop" or "COMPLETE" => "stop",
        "max_tokens" or "MAX_TOKENS" or "length" => "length",
        "tool_use" or "tool_calls" => "tool_calls",
        "SAFETY" or "RECITATION" or "content_filtered" or "guardrail_intervened" or "PROHIBITED_CONTENT" or "BLOCKLIST" or "SPII" => "content_filter",
        _ => "stop",
    };

    /// <summary>Writes the streamed chunk that opens the assistant message.</summary>
    public void WriteRoleChunk(IBufferWriter<byte> output) => WriteChunk(output, w =>
    {
        w.WriteString("role", "assistant");
        w.WriteString("content", string.Empty);
    }, finishReason: null);

    /// <summary>Writes a text delta.</summary>
    public void WriteContentChunk(IBufferWriter<byte> output, string text) => WriteChunk(output, w => w.WriteString("content", text), finishReason: null);

    /// <summary>Writes a reasoning delta (DeepSeek-style <c>reasoning_content</c>).</summary>
    public void WriteReasoningChunk(IBufferWriter<byte> output, string text) => WriteChunk(output, w => w.WriteString("reasoning_content", text), finishReason: null);

    /// <summary>Writes a tool-call delta: the first one for an index carries id and name, later ones argument fragments.</summary>
    public void WriteToolCallChunk(IBufferWriter<byte> output, int index, string? callId, string? name, string? argumentsFragment) => WriteChunk(output, w =>
    {
        w.WriteStartArray("tool_calls");
        w.WriteStartObject();
        w.WriteNumber("index", index);
        if (callId is not null)
        {
            w.WriteString("id", callId);
            w.WriteString("type", "function");
        }

        w.WriteStartObject("function");
        if (name is not null)
        {
            w.WriteString("name", name);
        }

        w.WriteString("arguments", argumentsFragment ?? string.Empty);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
    }, finishReason: null);

    /// <summary>Writes the finish chunk, the usage chunk when the app asked for usage, and <c>[DONE]</c>.</summary>
    public void WriteEnd(IBufferWriter<byte> output, string finishReason, TokenUsage? usage)
    {
        WriteChunk(output, _ => { }, finishReason);
        if (includeUsage && usage is not null)
        {
            WriteEvent(output, w =>
            {
                WriteEnvelope(w, "chat.completion.chunk");
                w.WriteStartArray("choices");
                w.WriteEndArray();
                WriteUsage(w, usage);
                w.WriteEndObject();
            });
        }

        output.Write("data: [DONE]\n\n"u8);
    }

    /// <summary>Writes a server-sent error event (OpenAI's error shape) for an error in the middle of a stream.</summary>
    public static void WriteStreamError(IBufferWriter<byte> output, string message, string type) =>
        WriteEvent(output, w =>
        {
            w.WriteStartObject();
            WriteErrorBody(w, message, type);
            w.WriteEndObject();
        });

    /// <summary>Writes an OpenAI error body: <c>{"error":{"message","type","param","code"}}</c>.</summary>
    public static void WriteError(IBufferWriter<byte> output, string message, string type)
    {
        using var w = new Utf8JsonWriter(output, WriterOptions);
        w.WriteStartObject();
        WriteErrorBody(w, message, type);
        w.WriteEndObject();
    }

    /// <summary>Writes a complete non-streamed <c>chat.completion</c>.</summary>
    public void WriteCompletion(IBufferWriter<byte> output, string? text, string? reasoning, IReadOnlyList<(string Id, string Name, string Arguments)> toolCalls, string finishReason, TokenUsage? usage)
    {
        ArgumentNullException.ThrowIfNull(toolCalls);
        using var w = new Utf8JsonWriter(output, WriterOptions);
        WriteEnvelope(w, "chat.completion");
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("message");
        w.WriteString("role", "assistant");
        if (text is null && toolCalls.Count > 0)
        {
            w.WriteNull("content");
        }
        else
        {
            w.WriteString("content", text ?? string.Empty);
        }

        if (reasoning is not null)
        {
            w.WriteString("reasoning_content", reasoning);
        }

        if (toolCalls.Count > 0)
        {
            w.WriteStartArray("tool_calls");
            foreach (var (callId, name, arguments) in toolCalls)
            {
                w.WriteStartObject();
                w.WriteString("id", callId);
                w.WriteString("type", "function");
                w.WriteStartObject("function");
                w.WriteString("name", name);
                w.WriteString("arguments", arguments);
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
        w.WriteNull("logprobs");
        w.WriteString("finish_reason", finishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        if (usage is not null)
        {
            WriteUsage(w, usage);
        }

        w.WriteEndObject();
    }

    private void WriteChunk(IBufferWriter<byte> output, Action<Utf8JsonWriter> delta, string? finishReason) =>
        WriteEvent(output, w =>
        {
            WriteEnvelope(w, "chat.completion.chunk");
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("delta");
            delta(w);
            w.WriteEndObject();
            w.WriteNull("logprobs");
            if (finishReason is null)
            {
                w.WriteNull("finish_reason");
            }
            else
            {
                w.WriteString("finish_reason", finishReason);
            }

            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        });

    private void WriteEnvelope(Utf8JsonWriter w, string objectType)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", objectType);
        w.WriteNumber("created", created);
        w.WriteString("model", Model);
    }

    private static void WriteEvent(IBufferWriter<byte> output, Action<Utf8JsonWriter> body)
    {
        output.Write("data: "u8);
        using (var w = new Utf8JsonWriter(output, WriterOptions))
        {
            body(w);
        }

        output.Write("\n\n"u8);
    }

    private static void WriteErrorBody(Utf8JsonWriter w, string message, string type)
    {
        w.WriteStartObject("error");
        w.WriteString("message", message);
        w.WriteString("type", type);
        w.WriteNull("param");
        w.WriteNull("code");
        w.WriteEndObject();
    }

    /// <summary>OpenAI usage: cached inside prompt, reasoning inside completion (the normalised model already is).</summary>
    private static void WriteUsage(Utf8JsonWriter w, TokenUsage usage)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", usage.InputTokenCount ?? 0);
        w.WriteNumber("completion_tokens", usage.OutputTokenCount ?? 0);
        w.WriteNumber("total_tokens", usage.GetTotalOrSum() ?? 0);
        w.WriteStartObject("prompt_tokens_details");
        w.WriteNumber("cached_tokens", usage.CachedInputTokenCount ?? 0);
        w.WriteEndObject();
        w.WriteStartObject("completion_tokens_details");
        w.WriteNumber("reasoning_tokens", usage.ReasoningTokenCount ?? 0);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
