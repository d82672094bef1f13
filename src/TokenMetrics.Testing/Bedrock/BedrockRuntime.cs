using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace TokenMetrics.Testing.Internal;

/// <summary>The Bedrock runtime: <c>POST /model/{modelId}/converse</c>, <c>/converse-stream</c> (binary event stream with real
/// framing and CRCs), <c>/invoke</c> and <c>/invoke-with-response-stream</c> (Anthropic Messages bodies, streamed as base64
/// <c>chunk</c> frames). Every answer carries <c>x-amzn-RequestId</c>.</summary>
internal static class BedrockRuntime
{
    public const string EventStreamType = "application/vnd.amazon.eventstream";

    /// <summary>The URL-decoded model id of <c>/model/{id}/{action}</c> (Kestrel has already decoded the path).</summary>
    public static string? Model(JsonElement? json, HttpContext http)
    {
        var path = http.Request.Path.Value ?? string.Empty;
        var end = path.LastIndexOf('/');
        return path.StartsWith("/model/", StringComparison.Ordinal) && end > 7 ? Uri.UnescapeDataString(path[7..end]) : null;
    }

    public static Task ConverseAsync(MockRequestContext context) => ConverseCoreAsync(context, stream: false);

    public static Task ConverseStreamAsync(MockRequestContext context) => ConverseCoreAsync(context, stream: true);

    public static Task InvokeAsync(MockRequestContext context) => InvokeCoreAsync(context, stream: false);

    public static Task InvokeStreamAsync(MockRequestContext context) => InvokeCoreAsync(context, stream: true);

    private static async Task ConverseCoreAsync(MockRequestContext context, bool stream)
    {
        if (context.Json is not { ValueKind: JsonValueKind.Object } body)
        {
            throw new MockRequestException("The request body must be a JSON object.");
        }

        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            throw new MockRequestException("1 validation error detected: Value at 'messages' failed to satisfy constraint: Member must not be null");
        }

        var texts = new List<string>();
        if (body.TryGetProperty("system", out var system))
        {
            texts.Add(ClaudeReply.ContentText(system));
        }

        foreach (var message in messages.EnumerateArray())
        {
            texts.Add(message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content) ? ClaudeReply.ContentText(content) : string.Empty);
        }

        var tools = new List<(string, JsonElement)>();
        if (body.TryGetProperty("toolConfig", out var config) && config.TryGetProperty("tools", out var toolList) && toolList.ValueKind == JsonValueKind.Array)
        {
            foreach (var tool in toolList.EnumerateArray())
            {
                if (tool.TryGetProperty("toolSpec", out var spec) && spec.TryGetProperty("name", out var name))
                {
                    tools.Add((name.GetString()!, spec.TryGetProperty("inputSchema", out var schema) && schema.TryGetProperty("json", out var json) ? json : default));
                }
            }
        }

        var key = messages.GetRawText() + "\n" + (body.TryGetProperty("system", out var s) ? s.GetRawText() : string.Empty) + "\n" + (body.TryGetProperty("toolConfig", out var t) ? t.GetRawText() : string.Empty);
        var reply = new ClaudeReply(context, context.Model ?? "anthropic.claude-mock", texts, tools, key);
        context.Http.Response.Headers["x-amzn-RequestId"] = RequestId(reply);
        var writer = context.CreateWriter();
        await using var writerScope = writer.ConfigureAwait(false);
        if (!stream)
        {
            await writer.WriteBodyAsync(200, "application/json", JsonBytes.Write(reply, static (w, r) => WriteConverse(w, r)), honourCut: true).ConfigureAwait(false);
            return;
        }

        var frames = new FrameWriter(context, writer);
        await frames.StartAsync().ConfigureAwait(false);
        foreach (var (frame, chunk) in ConverseFrames(reply))
        {
            if (!await frames.WriteAsync(frame, chunk).ConfigureAwait(false))
            {
                return;
            }
        }

        await writer.CompleteAsync().ConfigureAwait(false);
    }

    private static async Task InvokeCoreAsync(MockRequestContext context, bool stream)
    {
        if (context.Json is not { ValueKind: JsonValueKind.Object } body)
        {
            throw new MockRequestException("The request body must be a JSON object.");
        }

        if (!body.TryGetProperty("anthropic_version", out _))
        {
            throw new MockRequestException("Malformed input request: #: required key [anthropic_version] not found, please reformat your input and try again.");
        }

        var reply = AnthropicMessages.Read(context, body);
        context.Http.Response.Headers["x-amzn-RequestId"] = RequestId(reply);
        var writer = context.CreateWriter();
        await using var writerScope = writer.ConfigureAwait(false);
        if (!stream)
        {
            var headers = context.Http.Response.Headers;
            headers["X-Amzn-Bedrock-Input-Token-Count"] = reply.InputTokens.ToString(CultureInfo.InvariantCulture);
            headers["X-Amzn-Bedrock-Output-Token-Count"] = reply.OutputTokens.ToString(CultureInfo.InvariantCulture);
            await writer.WriteBodyAsync(200, "application/json", JsonBytes.Write(reply, static (w, r) => AnthropicMessages.WriteMessage(w, r)), honourCut: true).ConfigureAwait(false);
            return;
        }

        var frames = new FrameWriter(context, writer);
        await frames.StartAsync().ConfigureAwait(false);
        foreach (var (name, json, chunk) in AnthropicMessages.Events(reply))
        {
            var eventJson = name == "message_stop"
                ? Encoding.UTF8.GetBytes($"{{\"type\":\"message_stop\",\"amazon-bedrock-invocationMetrics\":{{\"inputTokenCount\":{reply.InputTokens},\"outputTokenCount\":{reply.OutputTokens},\"invocationLatency\":100,\"firstByteLatency\":10}}}}")
                : json;
            var payload = Encoding.UTF8.GetBytes("{\"bytes\":\"" + Convert.ToBase64String(eventJson) + "\"}");
            if (!await frames.WriteAsync(EventStreamFrames.Event("chunk", payload), chunk).ConfigureAwait(false))
            {
                return;
            }
        }

        await writer.CompleteAsync().ConfigureAwait(false);
    }

    private static string RequestId(ClaudeReply reply)
    {
        var id = reply.Id(string.Empty);
        return $"{id[..8]}-{id[8..12]}-{id[12..16]}-{id[16..20]}-{id[20..24]}000000000000"[..36];
    }

    private static void WriteConverse(Utf8JsonWriter w, ClaudeReply r)
    {
        w.WriteStartObject();
        w.WriteStartObject("metrics");
        w.WriteNumber("latencyMs", 100);
        w.WriteEndObject();
        w.WriteStartObject("output");
        w.WriteStartObject("message");
        w.WriteStartArray("content");
        if (r.ToolCalls.Count == 0)
        {
            w.WriteStartObject();
            w.WriteText("text", r.Text);
            w.WriteEndObject();
        }

        foreach (var call in r.ToolCalls)
        {
            w.WriteStartObject();
            w.WriteStartObject("toolUse");
            w.WritePropertyName("input");
            w.WriteRawValue(call.Arguments);
            w.WriteText("name", call.Name);
            w.WriteString("toolUseId", "tooluse_" + call.Id[6..]);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteString("role", "assistant");
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteString("stopReason", r.StopReason);
        WriteUsage(w, r);
        w.WriteEndObject();
    }

    private static void WriteUsage(Utf8JsonWriter w, ClaudeReply r)
    {
        w.WriteStartObject("usage");
        if (r.CacheReadTokens > 0 || r.CacheWriteTokens > 0)
        {
            w.WriteNumber("cacheReadInputTokens", r.CacheReadTokens);
            w.WriteNumber("cacheWriteInputTokens", r.CacheWriteTokens);
        }

        w.WriteNumber("inputTokens", r.InputTokens);
        w.WriteNumber("outputTokens", r.OutputTokens);
        w.WriteNumber("totalTokens", r.InputTokens + r.OutputTokens);
        w.WriteEndObject();
    }

    private static IEnumerable<(byte[] Frame, bool Chunk)> ConverseFrames(ClaudeReply r)
    {
        yield return (EventStreamFrames.Event("messageStart", "{\"p\":\"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW\",\"role\":\"assistant\"}"u8.ToArray()), false);
        var index = 0;
        if (r.ToolCalls.Count == 0)
        {
            foreach (var chunk in r.TextChunks)
            {
                yield return (EventStreamFrames.Event("contentBlockDelta", JsonBytes.Write(chunk, static (w, c) =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("contentBlockIndex", 0);
                    w.WriteStartObject("delta");
                    w.WriteText("text", c);
                    w.WriteEndObject();
                    w.WriteString("p", "abcdefghijkl");
                    w.WriteEndObject();
                })), true);
            }

            yield return (EventStreamFrames.Event("contentBlockStop", "{\"contentBlockIndex\":0,\"p\":\"abcdefghijklmnopqrstuvw\"}"u8.ToArray()), false);
            index = 1;
        }

        foreach (var call in r.ToolCalls)
        {
            var blockIndex = index++;
            yield return (EventStreamFrames.Event("contentBlockStart", JsonBytes.Write((blockIndex, call), static (w, s) =>
            {
                w.WriteStartObject();
                w.WriteNumber("contentBlockIndex", s.blockIndex);
                w.WriteStartObject("start");
                w.WriteStartObject("toolUse");
                w.WriteText("name", s.call.Name);
                w.WriteString("toolUseId", "tooluse_" + s.call.Id[6..]);
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteString("p", "abcd");
                w.WriteEndObject();
            })), false);
            foreach (var fragment in call.Fragments)
            {
                yield return (EventStreamFrames.Event("contentBlockDelta", JsonBytes.Write((blockIndex, fragment), static (w, s) =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("contentBlockIndex", s.blockIndex);
                    w.WriteStartObject("delta");
                    w.WriteStartObject("toolUse");
                    w.WriteText("input", s.fragment);
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteString("p", "abcdefgh");
                    w.WriteEndObject();
                })), true);
            }

            yield return (EventStreamFrames.Event("contentBlockStop", Encoding.UTF8.GetBytes($"{{\"contentBlockIndex\":{blockIndex},\"p\":\"abc\"}}")), false);
        }

        yield return (EventStreamFrames.Event("messageStop", Encoding.UTF8.GetBytes($"{{\"p\":\"abcdefghij\",\"stopReason\":\"{r.StopReason}\"}}")), false);
        yield return (EventStreamFrames.Event("metadata", JsonBytes.Write(r, static (w, r) =>
        {
            w.WriteStartObject();
            w.WriteStartObject("metrics");
            w.WriteNumber("latencyMs", 100);
            w.WriteEndObject();
            w.WriteString("p", "abcdefghijklmnopqrstuvwxyzABCDEF");
            WriteUsage(w, r);
            w.WriteEndObject();
        })), false);
    }

    /// <summary>Writes binary frames with the scenario's split writes, per-chunk delays, cuts and in-stream errors.</summary>
    private sealed class FrameWriter(MockRequestContext context, MockResponseWriter writer)
    {
        private int _sent;

        private HttpResponse Response => context.Http.Response;

        public async Task StartAsync()
        {
            Response.StatusCode = StatusCodes.Status200OK;
            Response.ContentType = EventStreamType;
            await Response.StartAsync(context.CancellationToken).ConfigureAwait(false);
        }

        /// <summary>Writes a frame; returns <see langword="false"/> when the scenario ended the stream here.</summary>
        public async Task<bool> WriteAsync(byte[] frame, bool chunk)
        {
            var scenario = context.Scenario;
            if (chunk)
            {
                if (_sent == scenario.CutAfterChunks)
                {
                    await writer.EndCutAsync().ConfigureAwait(false);
                    return false;
                }

                if (_sent == scenario.StreamErrorAfterChunks)
                {
                    await WriteRawAsync(EventStreamFrames.Exception("modelStreamErrorException", "{\"message\":\"The model stream failed.\",\"originalStatusCode\":500}"u8.ToArray())).ConfigureAwait(false);
                    await writer.CompleteAsync().ConfigureAwait(false);
                    return false;
                }

                _sent++;
                await writer.DelayChunkAsync().ConfigureAwait(false);
            }

            await WriteRawAsync(frame).ConfigureAwait(false);
            return true;
        }

        private async Task WriteRawAsync(byte[] bytes)
        {
            var split = context.Scenario.SplitWritesBytes ?? bytes.Length;
            for (var offset = 0; offset < bytes.Length; offset += split)
            {
                await Response.Body.WriteAsync(bytes.AsMemory(offset, Math.Min(split, bytes.Length - offset)), context.CancellationToken).ConfigureAwait(false);
                await Response.Body.FlushAsync(context.CancellationToken).ConfigureAwait(false);
            }
        }
    }
}
