using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace TokenMetrics.Testing.Internal;

/// <summary><c>POST /v1/chat/completions</c>: <c>chat.completion</c> bodies and <c>chat.completion.chunk</c> streams.</summary>
/// <remarks>
/// Streams follow the real API byte for byte in shape: the first delta carries the role, then content deltas, then a chunk with
/// <c>finish_reason</c>. Only when the request has <c>stream_options.include_usage: true</c> does every chunk end with
/// <c>,"usage":null</c> and one more chunk with <c>"choices":[]</c> and the usage come before <c>data: [DONE]</c>. Removing both
/// therefore gives exactly the stream without <c>include_usage</c>.
/// </remarks>
internal static class OpenAIChatCompletions
{
    private static readonly string[] PromptMembers = ["messages", "tools"];

    public static async Task HandleAsync(MockRequestContext context)
    {
        var request = OpenAIRequestInfo.Read(context, PromptMembers, CountPromptTokens);
        var reply = new ChatReply(request, context.Scenario);
        var writer = context.CreateWriter();
        await using var writerScope = writer.ConfigureAwait(false);
        if (request.Stream)
        {
            await StreamAsync(reply, writer, context.CancellationToken).ConfigureAwait(false);
        }
        else
        {
            var body = JsonBytes.Write(reply, static (w, r) => r.WriteCompletion(w));
            await writer.WriteBodyAsync(200, "application/json", body, honourCut: true).ConfigureAwait(false);
        }
    }

    private static int CountPromptTokens(JsonElement body)
    {
        var texts = new List<string>();
        if (body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                texts.Add(message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content)
                    ? OpenAIRequestInfo.ContentText(content)
                    : string.Empty);
            }
        }

        return OpenAIRequestInfo.MessageTokens(texts);
    }

    private static async Task StreamAsync(ChatReply reply, MockResponseWriter writer, CancellationToken cancellationToken)
    {
        var scenario = reply.Scenario;
        await writer.StartEventStreamAsync().ConfigureAwait(false);
        if (scenario.AzureContentFilter)
        {
            await writer.WriteDataAsync(JsonBytes.Write(0, static (w, _) => ChatReply.WritePromptFilterChunk(w))).ConfigureAwait(false);
        }

        var sent = 0;
        var first = true;
        var stopwatch = Stopwatch.StartNew();
        foreach (var piece in reply.Sequence())
        {
            if (scenario.Endless && (stopwatch.Elapsed >= scenario.MaxStreamDuration || cancellationToken.IsCancellationRequested))
            {
                break;
            }

            if (piece.CountsAsChunk)
            {
                if (sent == scenario.CutAfterChunks)
                {
                    await CutAsync(writer, scenario).ConfigureAwait(false);
                    return;
                }

                if (sent == scenario.StreamErrorAfterChunks)
                {
                    await WriteStreamErrorAsync(writer).ConfigureAwait(false);
                    return;
                }

                await writer.DelayChunkAsync().ConfigureAwait(false);
                sent++;
            }

            var chunk = JsonBytes.Write((reply, piece, first), static (w, s) => s.reply.WriteChunk(w, s.piece, s.first));
            await writer.WriteDataAsync(chunk).ConfigureAwait(false);
            first = false;
        }

        if (sent <= scenario.CutAfterChunks)
        {
            await CutAsync(writer, scenario).ConfigureAwait(false);
            return;
        }

        if (sent <= scenario.StreamErrorAfterChunks)
        {
            await WriteStreamErrorAsync(writer).ConfigureAwait(false);
            return;
        }

        await writer.WriteDataAsync(JsonBytes.Write(reply, static (w, r) => r.WriteFinishChunk(w))).ConfigureAwait(false);
        if (scenario.AzureContentFilter)
        {
            await writer.WriteDataAsync(JsonBytes.Write(reply, static (w, r) => r.WriteContentFilterChunk(w))).ConfigureAwait(false);
        }

        if (reply.Request.IncludeUsage)
        {
            await writer.WriteDataAsync(JsonBytes.Write((reply, sent), static (w, s) => s.reply.WriteUsageChunk(w, s.sent))).ConfigureAwait(false);
        }

        await writer.WriteDoneAsync().ConfigureAwait(false);
        await writer.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>Ends a cut stream: optionally <c>[DONE]</c>, then a clean end or an abort.</summary>
    internal static async Task CutAsync(MockResponseWriter writer, ResolvedScenario scenario)
    {
        if (scenario.CutSendsDone)
        {
            await writer.WriteDoneAsync().ConfigureAwait(false);
        }

        await writer.EndCutAsync().ConfigureAwait(false);
    }

    /// <summary>Writes the real API's in-stream error event (<c>data: {"error":{...}}</c>) and ends the stream without <c>[DONE]</c>.</summary>
    internal static async Task WriteStreamErrorAsync(MockResponseWriter writer)
    {
        await writer.WriteDataAsync(OpenAIProtocol.ErrorBody(500, OpenAIProtocol.ServerErrorMessage, code: null)).ConfigureAwait(false);
        await writer.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>One streamed delta.</summary>
    private sealed record Piece(PieceKind Kind, string Text, int ToolIndex = 0, string? ToolId = null, string? ToolName = null)
    {
        public bool CountsAsChunk => Kind is PieceKind.Text or PieceKind.ToolArguments;
    }

    private enum PieceKind
    {
        Role,
        Text,
        ToolStart,
        ToolArguments,
    }

    private sealed record ToolCall(string Id, string Name, string Arguments, IReadOnlyList<string> Fragments);

    private sealed class ChatReply
    {
        public ChatReply(OpenAIRequestInfo request, ResolvedScenario scenario)
        {
            Request = request;
            Scenario = scenario;
            Id = request.Id("chatcmpl-");
            ToolCalls = scenario.ToolCalls ? ReadToolCalls(request, scenario) : [];
            var pieces = new List<Piece>();
            if (ToolCalls.Count == 0)
            {
                pieces.Add(new Piece(PieceKind.Role, string.Empty));
                pieces.AddRange(scenario.Chunks.Select(static c => new Piece(PieceKind.Text, c)));
            }
            else
            {
                for (var i = 0; i < ToolCalls.Count; i++)
                {
                    var call = ToolCalls[i];
                    pieces.Add(new Piece(PieceKind.ToolStart, string.Empty, i, call.Id, call.Name));
                    pieces.AddRange(call.Fragments.Select(f => new Piece(PieceKind.ToolArguments, f, i)));
                }
            }

            Pieces = pieces;
        }

        public OpenAIRequestInfo Request { get; }

        public ResolvedScenario Scenario { get; }

        public string Id { get; }

        public List<ToolCall> ToolCalls { get; }

        public IReadOnlyList<Piece> Pieces { get; }

        /// <summary>The pieces to stream; an endless stream then repeats the text pieces.</summary>
        public IEnumerable<Piece> Sequence()
        {
            foreach (var piece in Pieces)
            {
                yield return piece;
            }

            var texts = Pieces.Where(static p => p.Kind == PieceKind.Text).ToList();
            while (Scenario.Endless && texts.Count > 0)
            {
                foreach (var piece in texts)
                {
                    yield return piece;
                }
            }
        }

        private string FinishReason => ToolCalls.Count > 0 ? "tool_calls" : "stop";

        private int AnswerChunkCount => Pieces.Count(static p => p.CountsAsChunk);

        public void WriteCompletion(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            w.WriteString("id", Id);
            w.WriteString("object", "chat.completion");
            w.WriteNumber("created", Request.Created);
            w.WriteText("model", Request.ResponseModel);
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            if (ToolCalls.Count > 0)
            {
                w.WriteNull("content");
                w.WriteStartArray("tool_calls");
                foreach (var call in ToolCalls)
                {
                    w.WriteStartObject();
                    w.WriteString("id", call.Id);
                    w.WriteString("type", "function");
                    w.WriteStartObject("function");
                    w.WriteText("name", call.Name);
                    w.WriteText("arguments", call.Arguments);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }
            else
            {
                w.WriteText("content", Scenario.AnswerText);
            }

            w.WriteNull("refusal");
            w.WriteStartArray("annotations");
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteNull("logprobs");
            w.WriteString("finish_reason", FinishReason);
            if (Scenario.AzureContentFilter)
            {
                WriteFilterResults(w, "content_filter_results", jailbreak: false);
            }

            w.WriteEndObject();
            w.WriteEndArray();
            Request.WriteUsage(w, Scenario.CompletionTokensFor(AnswerChunkCount));
            if (Scenario.AzureContentFilter)
            {
                w.WriteStartArray("prompt_filter_results");
                w.WriteStartObject();
                w.WriteNumber("prompt_index", 0);
                WriteFilterResults(w, "content_filter_results", jailbreak: true);
                w.WriteEndObject();
                w.WriteEndArray();
            }

            w.WriteString("service_tier", "default");
            w.WriteString("system_fingerprint", "fp_mock");
            w.WriteEndObject();
        }

        public void WriteChunk(Utf8JsonWriter w, Piece piece, bool first)
        {
            WriteChunkStart(w);
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("delta");
            if (first)
            {
                w.WriteString("role", "assistant");
            }

            switch (piece.Kind)
            {
                case PieceKind.Role:
                    w.WriteString("content", string.Empty);
                    w.WriteNull("refusal");
                    break;
                case PieceKind.Text:
                    w.WriteText("content", piece.Text);
                    break;
                case PieceKind.ToolStart:
                    if (first)
                    {
                        w.WriteNull("content");
                    }

                    w.WriteStartArray("tool_calls");
                    w.WriteStartObject();
                    w.WriteNumber("index", piece.ToolIndex);
                    w.WriteString("id", piece.ToolId);
                    w.WriteString("type", "function");
                    w.WriteStartObject("function");
                    w.WriteText("name", piece.ToolName);
                    w.WriteString("arguments", string.Empty);
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndArray();
                    if (first)
                    {
                        w.WriteNull("refusal");
                    }

                    break;
                case PieceKind.ToolArguments:
                    w.WriteStartArray("tool_calls");
                    w.WriteStartObject();
                    w.WriteNumber("index", piece.ToolIndex);
                    w.WriteStartObject("function");
                    w.WriteText("arguments", piece.Text);
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndArray();
                    break;
            }

            w.WriteEndObject();
            w.WriteNull("logprobs");
            w.WriteNull("finish_reason");
            w.WriteEndObject();
            WriteChunkEnd(w);
        }

        public void WriteFinishChunk(Utf8JsonWriter w)
        {
            WriteChunkStart(w);
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("delta");
            w.WriteEndObject();
            w.WriteNull("logprobs");
            w.WriteString("finish_reason", FinishReason);
            w.WriteEndObject();
            WriteChunkEnd(w);
        }

        public void WriteUsageChunk(Utf8JsonWriter w, int sent)
        {
            WriteChunkStart(w);
            w.WriteEndArray();
            Request.WriteUsage(w, Scenario.CompletionTokensFor(sent));
            w.WriteEndObject();
        }

        /// <summary>Azure's leading chunk: empty choices, empty id/model/object, created 0, and the prompt filter results.</summary>
        public static void WritePromptFilterChunk(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            w.WriteStartArray("choices");
            w.WriteEndArray();
            w.WriteNumber("created", 0);
            w.WriteString("id", string.Empty);
            w.WriteString("model", string.Empty);
            w.WriteString("object", string.Empty);
            w.WriteStartArray("prompt_filter_results");
            w.WriteStartObject();
            w.WriteNumber("prompt_index", 0);
            WriteFilterResults(w, "content_filter_results", jailbreak: true);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }

        /// <summary>Azure's trailing asynchronous-filter chunk: content filter results and offsets, no delta.</summary>
        public void WriteContentFilterChunk(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteStartObject("content_filter_offsets");
            w.WriteNumber("check_offset", 0);
            w.WriteNumber("start_offset", 0);
            w.WriteNumber("end_offset", Scenario.AnswerText.Length);
            w.WriteEndObject();
            WriteFilterResults(w, "content_filter_results", jailbreak: false);
            w.WriteNull("finish_reason");
            w.WriteNumber("index", 0);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteNumber("created", 0);
            w.WriteString("id", string.Empty);
            w.WriteString("model", string.Empty);
            w.WriteString("object", string.Empty);
            w.WriteEndObject();
        }

        private static void WriteFilterResults(Utf8JsonWriter w, string name, bool jailbreak)
        {
            w.WriteStartObject(name);
            foreach (var category in (ReadOnlySpan<string>)["hate", "self_harm", "sexual", "violence"])
            {
                w.WriteStartObject(category);
                w.WriteBoolean("filtered", false);
                w.WriteString("severity", "safe");
                w.WriteEndObject();
            }

            if (jailbreak)
            {
                w.WriteStartObject("jailbreak");
                w.WriteBoolean("filtered", false);
                w.WriteBoolean("detected", false);
                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        /// <summary>Writes the chunk's head up to the open <c>choices</c> array.</summary>
        private void WriteChunkStart(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            w.WriteString("id", Id);
            w.WriteString("object", "chat.completion.chunk");
            w.WriteNumber("created", Request.Created);
            w.WriteText("model", Request.ResponseModel);
            w.WriteString("service_tier", "default");
            w.WriteString("system_fingerprint", "fp_mock");
            w.WriteStartArray("choices");
        }

        /// <summary>Closes <c>choices</c>; <c>"usage":null</c> is the last member, and only with include_usage.</summary>
        private void WriteChunkEnd(Utf8JsonWriter w)
        {
            w.WriteEndArray();
            if (Request.IncludeUsage)
            {
                w.WriteNull("usage");
            }

            w.WriteEndObject();
        }

        private static List<ToolCall> ReadToolCalls(OpenAIRequestInfo request, ResolvedScenario scenario)
        {
            var calls = new List<ToolCall>();
            if (!request.Body.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array)
            {
                return calls;
            }

            foreach (var tool in tools.EnumerateArray())
            {
                if (tool.ValueKind != JsonValueKind.Object
                    || !tool.TryGetProperty("function", out var function)
                    || function.ValueKind != JsonValueKind.Object
                    || !function.TryGetProperty("name", out var name)
                    || name.ValueKind != JsonValueKind.String)
                {
                    continue;
                }

                var arguments = BuildArguments(function.TryGetProperty("parameters", out var parameters) ? parameters : default);
                var fragments = TextChunks.SplitEven(arguments, scenario.Source.ChunkCount ?? 4);
                calls.Add(new ToolCall(request.SubId("call_", calls.Count), name.GetString()!, arguments, fragments));
            }

            return calls;
        }

        /// <summary>Deterministic arguments from a JSON schema: each property gets a value of its type.</summary>
        private static string BuildArguments(JsonElement schema)
        {
            var builder = new StringBuilder("{");
            if (schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
            {
                var first = true;
                foreach (var property in properties.EnumerateObject())
                {
                    if (!first)
                    {
                        builder.Append(',');
                    }

                    first = false;
                    var type = property.Value.ValueKind == JsonValueKind.Object && property.Value.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String
                        ? t.GetString()
                        : "string";
                    builder.Append(Encoding.UTF8.GetString(JsonBytes.Quote(property.Name))).Append(':');
                    builder.Append(type switch
                    {
                        "integer" => "1",
                        "number" => "1.5",
                        "boolean" => "true",
                        "array" => "[]",
                        "object" => "{}",
                        _ => Encoding.UTF8.GetString(JsonBytes.Quote("mock-" + property.Name.ToLower(CultureInfo.InvariantCulture))),
                    });
                }
            }

            return builder.Append('}').ToString();
        }
    }
}
