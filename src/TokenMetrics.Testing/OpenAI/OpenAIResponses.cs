using System.Diagnostics;
using System.Text.Json;

namespace TokenMetrics.Testing.Internal;

/// <summary><c>POST /v1/responses</c>: the Responses API, as a <c>response</c> object or a stream of named events.</summary>
/// <remarks>
/// Stream: <c>response.created</c>, <c>response.in_progress</c>, <c>response.output_item.added</c>, <c>response.content_part.added</c>,
/// one <c>response.output_text.delta</c> per chunk, <c>response.output_text.done</c>, <c>response.content_part.done</c>,
/// <c>response.output_item.done</c> and <c>response.completed</c> (the full response, with usage). An in-stream error ends with
/// <c>response.failed</c>; a cut that "sends done" ends with <c>response.incomplete</c>. Every event has a <c>sequence_number</c>.
/// </remarks>
internal static class OpenAIResponses
{
    private static readonly string[] PromptMembers = ["instructions", "input", "tools"];

    public static async Task HandleAsync(MockRequestContext context)
    {
        var request = OpenAIRequestInfo.Read(context, PromptMembers, CountPromptTokens);
        var reply = new Reply(request, context.Scenario);
        var writer = context.CreateWriter();
        await using var writerScope = writer.ConfigureAwait(false);
        if (!request.Stream)
        {
            var body = JsonBytes.Write(reply, static (w, r) => r.WriteResponse(w, "completed", r.Scenario.AnswerText, r.Scenario.Chunks.Count));
            await writer.WriteBodyAsync(200, "application/json", body, honourCut: true).ConfigureAwait(false);
            return;
        }

        await StreamAsync(reply, writer, context.CancellationToken).ConfigureAwait(false);
    }

    private static int CountPromptTokens(JsonElement body)
    {
        var texts = new List<string>();
        if (body.TryGetProperty("instructions", out var instructions) && instructions.ValueKind == JsonValueKind.String)
        {
            texts.Add(instructions.GetString() ?? string.Empty);
        }

        if (body.TryGetProperty("input", out var input))
        {
            if (input.ValueKind == JsonValueKind.String)
            {
                texts.Add(input.GetString() ?? string.Empty);
            }
            else if (input.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in input.EnumerateArray())
                {
                    texts.Add(item.ValueKind == JsonValueKind.Object && item.TryGetProperty("content", out var content)
                        ? OpenAIRequestInfo.ContentText(content)
                        : string.Empty);
                }
            }
        }

        return OpenAIRequestInfo.MessageTokens(texts);
    }

    private static async Task StreamAsync(Reply reply, MockResponseWriter writer, CancellationToken cancellationToken)
    {
        var scenario = reply.Scenario;
        await writer.StartEventStreamAsync().ConfigureAwait(false);
        await reply.EventAsync(writer, "response.created", static (w, r) => r.WriteResponseMember(w, "in_progress", null, 0)).ConfigureAwait(false);
        await reply.EventAsync(writer, "response.in_progress", static (w, r) => r.WriteResponseMember(w, "in_progress", null, 0)).ConfigureAwait(false);
        await reply.EventAsync(writer, "response.output_item.added", static (w, r) =>
        {
            w.WriteNumber("output_index", 0);
            w.WritePropertyName("item");
            r.WriteMessageItem(w, "in_progress", null);
        }).ConfigureAwait(false);
        await reply.EventAsync(writer, "response.content_part.added", static (w, r) =>
        {
            r.WritePartAddress(w, withOutputIndex: true);
            w.WritePropertyName("part");
            WriteTextPart(w, string.Empty);
        }).ConfigureAwait(false);

        var sent = 0;
        var text = new System.Text.StringBuilder();
        var stopwatch = Stopwatch.StartNew();
        var chunks = scenario.Chunks;
        for (var i = 0; scenario.Endless || i < chunks.Count; i++)
        {
            if (scenario.Endless && (stopwatch.Elapsed >= scenario.MaxStreamDuration || cancellationToken.IsCancellationRequested))
            {
                break;
            }

            if (await TryEndEarlyAsync(reply, writer, sent, text.ToString()).ConfigureAwait(false))
            {
                return;
            }

            await writer.DelayChunkAsync().ConfigureAwait(false);
            var delta = chunks[i % chunks.Count];
            text.Append(delta);
            sent++;
            await reply.EventAsync(writer, "response.output_text.delta", (w, r) =>
            {
                r.WritePartAddress(w, withOutputIndex: true);
                w.WriteText("delta", delta);
                w.WriteStartArray("logprobs");
                w.WriteEndArray();
            }).ConfigureAwait(false);
        }

        var full = text.ToString();
        if (await TryEndEarlyAsync(reply, writer, sent, full).ConfigureAwait(false))
        {
            return;
        }

        await reply.EventAsync(writer, "response.output_text.done", (w, r) =>
        {
            r.WritePartAddress(w, withOutputIndex: true);
            w.WriteText("text", full);
            w.WriteStartArray("logprobs");
            w.WriteEndArray();
        }).ConfigureAwait(false);
        await reply.EventAsync(writer, "response.content_part.done", (w, r) =>
        {
            r.WritePartAddress(w, withOutputIndex: true);
            w.WritePropertyName("part");
            WriteTextPart(w, full);
        }).ConfigureAwait(false);
        await reply.EventAsync(writer, "response.output_item.done", (w, r) =>
        {
            w.WriteNumber("output_index", 0);
            w.WritePropertyName("item");
            r.WriteMessageItem(w, "completed", full);
        }).ConfigureAwait(false);
        await reply.EventAsync(writer, "response.completed", (w, r) => r.WriteResponseMember(w, "completed", full, sent)).ConfigureAwait(false);
        await writer.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>Cuts or fails the stream when the scenario says so at this point; returns whether it ended.</summary>
    private static async Task<bool> TryEndEarlyAsync(Reply reply, MockResponseWriter writer, int sent, string textSoFar)
    {
        var scenario = reply.Scenario;
        if (sent == scenario.CutAfterChunks || (sent < scenario.CutAfterChunks && sent == scenario.Chunks.Count && !scenario.Endless))
        {
            if (scenario.CutSendsDone)
            {
                await reply.EventAsync(writer, "response.incomplete", (w, r) => r.WriteResponseMember(w, "incomplete", textSoFar, sent)).ConfigureAwait(false);
            }

            await writer.EndCutAsync().ConfigureAwait(false);
            return true;
        }

        if (sent == scenario.StreamErrorAfterChunks || (sent < scenario.StreamErrorAfterChunks && sent == scenario.Chunks.Count && !scenario.Endless))
        {
            await reply.EventAsync(writer, "response.failed", (w, r) => r.WriteResponseMember(w, "failed", textSoFar, sent)).ConfigureAwait(false);
            await writer.CompleteAsync().ConfigureAwait(false);
            return true;
        }

        return false;
    }

    private static void WriteTextPart(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("type", "output_text");
        w.WriteStartArray("annotations");
        w.WriteEndArray();
        w.WriteStartArray("logprobs");
        w.WriteEndArray();
        w.WriteText("text", text);
        w.WriteEndObject();
    }

    private sealed class Reply
    {
        private int _sequence;

        public Reply(OpenAIRequestInfo request, ResolvedScenario scenario)
        {
            Request = request;
            Scenario = scenario;
            Id = request.Id("resp_");
            MessageId = request.SubId("msg_", 0);
        }

        public OpenAIRequestInfo Request { get; }

        public ResolvedScenario Scenario { get; }

        public string Id { get; }

        public string MessageId { get; }

        /// <summary>Writes <c>event: {type}</c> with <c>{"type":...,"sequence_number":n, ...members}</c>.</summary>
        public Task EventAsync(MockResponseWriter writer, string type, Action<Utf8JsonWriter, Reply> members)
        {
            var json = JsonBytes.Write((this, type, members), static (w, s) =>
            {
                w.WriteStartObject();
                w.WriteString("type", s.type);
                w.WriteNumber("sequence_number", s.Item1._sequence);
                s.members(w, s.Item1);
                w.WriteEndObject();
            });
            _sequence++;
            return writer.WriteEventAsync(type, json);
        }

        public void WritePartAddress(Utf8JsonWriter w, bool withOutputIndex)
        {
            w.WriteString("item_id", MessageId);
            if (withOutputIndex)
            {
                w.WriteNumber("output_index", 0);
            }

            w.WriteNumber("content_index", 0);
        }

        public void WriteResponseMember(Utf8JsonWriter w, string status, string? text, int outputChunks)
        {
            w.WritePropertyName("response");
            WriteResponse(w, status, text, outputChunks);
        }

        /// <summary>The <c>response</c> object; usage only once it is finished (completed, incomplete).</summary>
        public void WriteResponse(Utf8JsonWriter w, string status, string? text, int outputChunks)
        {
            w.WriteStartObject();
            w.WriteString("id", Id);
            w.WriteString("object", "response");
            w.WriteNumber("created_at", Request.Created);
            w.WriteString("status", status);
            w.WriteBoolean("background", false);
            if (status == "failed")
            {
                w.WriteStartObject("error");
                w.WriteString("code", "server_error");
                w.WriteText("message", OpenAIProtocol.ServerErrorMessage);
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("error");
            }

            if (status == "incomplete")
            {
                w.WriteStartObject("incomplete_details");
                w.WriteString("reason", "max_output_tokens");
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("incomplete_details");
            }

            if (Request.Body.TryGetProperty("instructions", out var instructions) && instructions.ValueKind == JsonValueKind.String)
            {
                w.WriteText("instructions", instructions.GetString());
            }
            else
            {
                w.WriteNull("instructions");
            }

            w.WriteNull("max_output_tokens");
            w.WriteText("model", Request.ResponseModel);
            w.WriteStartArray("output");
            if (text is not null && status != "in_progress")
            {
                WriteMessageItem(w, status == "completed" ? "completed" : "incomplete", text);
            }

            w.WriteEndArray();
            w.WriteBoolean("parallel_tool_calls", true);
            w.WriteNull("previous_response_id");
            w.WriteStartObject("reasoning");
            w.WriteNull("effort");
            w.WriteNull("summary");
            w.WriteEndObject();
            w.WriteString("service_tier", "default");
            w.WriteBoolean("store", true);
            w.WriteNumber("temperature", 1.0);
            w.WriteStartObject("text");
            w.WriteStartObject("format");
            w.WriteString("type", "text");
            w.WriteEndObject();
            w.WriteString("verbosity", "medium");
            w.WriteEndObject();
            w.WriteString("tool_choice", "auto");
            w.WriteStartArray("tools");
            w.WriteEndArray();
            w.WriteNumber("top_p", 1.0);
            w.WriteString("truncation", "disabled");
            if (status is "completed" or "incomplete")
            {
                var output = Scenario.CompletionTokensFor(outputChunks);
                w.WriteStartObject("usage");
                w.WriteNumber("input_tokens", Request.PromptTokens);
                w.WriteStartObject("input_tokens_details");
                w.WriteNumber("cached_tokens", Scenario.CachedTokens);
                w.WriteEndObject();
                w.WriteNumber("output_tokens", output);
                w.WriteStartObject("output_tokens_details");
                w.WriteNumber("reasoning_tokens", Scenario.ReasoningTokens);
                w.WriteEndObject();
                w.WriteNumber("total_tokens", (long)Request.PromptTokens + output);
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("usage");
            }

            w.WriteNull("user");
            w.WriteStartObject("metadata");
            w.WriteEndObject();
            w.WriteEndObject();
        }

        public void WriteMessageItem(Utf8JsonWriter w, string status, string? text)
        {
            w.WriteStartObject();
            w.WriteString("id", MessageId);
            w.WriteString("type", "message");
            w.WriteString("status", status);
            w.WriteStartArray("content");
            if (text is not null)
            {
                WriteTextPart(w, text);
            }

            w.WriteEndArray();
            w.WriteString("role", "assistant");
            w.WriteEndObject();
        }
    }
}
