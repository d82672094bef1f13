using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace TokenMetrics.Testing.Internal;

/// <summary><c>POST /v1/messages</c> (and Vertex AI <c>:rawPredict</c> / <c>:streamRawPredict</c>): Anthropic Messages JSON and
/// event streams with the real event sequence: <c>message_start</c>, <c>content_block_start</c>, <c>ping</c>,
/// <c>content_block_delta</c>…, <c>content_block_stop</c>, (tool_use blocks with <c>input_json_delta</c> fragments),
/// <c>message_delta</c> (cumulative usage, repeating input and cache fields as the API does), <c>message_stop</c>.</summary>
internal static class AnthropicMessages
{
    public static Task HandleAsync(MockRequestContext context) => HandleAsync(context, vertex: false);

    public static Task HandleVertexAsync(MockRequestContext context) => HandleAsync(context, vertex: true);

    public static async Task HandleAsync(MockRequestContext context, bool vertex)
    {
        if (context.Json is not { ValueKind: JsonValueKind.Object } body)
        {
            throw new MockRequestException("The request body must be a JSON object.");
        }

        if (vertex)
        {
            if (!body.TryGetProperty("anthropic_version", out _))
            {
                throw new MockRequestException("anthropic_version: Field required");
            }
        }
        else if (string.IsNullOrEmpty(context.Http.Request.Headers["anthropic-version"]))
        {
            throw new MockRequestException("anthropic-version: header is required");
        }

        if (!body.TryGetProperty("max_tokens", out var maxTokens) || maxTokens.ValueKind != JsonValueKind.Number)
        {
            throw new MockRequestException("max_tokens: Field required");
        }

        var reply = Read(context, body);
        var stream = (body.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True)
            || (vertex && context.Http.Request.Path.Value!.EndsWith(":streamRawPredict", StringComparison.Ordinal));
        var writer = context.CreateWriter();
        await using var writerScope = writer.ConfigureAwait(false);
        if (stream)
        {
            await StreamAsync(reply, writer).ConfigureAwait(false);
        }
        else
        {
            await writer.WriteBodyAsync(200, "application/json", JsonBytes.Write(reply, static (w, r) => WriteMessage(w, r)), honourCut: true).ConfigureAwait(false);
        }
    }

    /// <summary>The model of <c>.../publishers/anthropic/models/{m}:action</c>.</summary>
    public static string? VertexModel(JsonElement? json, HttpContext http)
    {
        var path = http.Request.Path.Value ?? string.Empty;
        const string Marker = "/publishers/anthropic/models/";
        var at = path.IndexOf(Marker, StringComparison.Ordinal);
        var colon = path.LastIndexOf(':');
        return at >= 0 && colon > at + Marker.Length ? path[(at + Marker.Length)..colon] : null;
    }

    public static bool IsVertexPath(string path) =>
        path.StartsWith("/v1/projects/", StringComparison.Ordinal) && path.Contains("/publishers/anthropic/models/", StringComparison.Ordinal)
        && (path.EndsWith(":rawPredict", StringComparison.Ordinal) || path.EndsWith(":streamRawPredict", StringComparison.Ordinal));

    internal static ClaudeReply Read(MockRequestContext context, JsonElement body)
    {
        var texts = new List<string>();
        if (body.TryGetProperty("system", out var system))
        {
            texts.Add(ClaudeReply.ContentText(system));
        }

        if (body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                texts.Add(message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content) ? ClaudeReply.ContentText(content) : string.Empty);
            }
        }

        var tools = new List<(string, JsonElement)>();
        if (body.TryGetProperty("tools", out var toolList) && toolList.ValueKind == JsonValueKind.Array)
        {
            foreach (var tool in toolList.EnumerateArray())
            {
                if (tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
                {
                    tools.Add((name.GetString()!, tool.TryGetProperty("input_schema", out var schema) ? schema : default));
                }
            }
        }

        var key = (body.TryGetProperty("system", out var sys) ? sys.GetRawText() : string.Empty) + "\n" + (body.TryGetProperty("messages", out var m) ? m.GetRawText() : string.Empty) + "\n" + (body.TryGetProperty("tools", out var t) ? t.GetRawText() : string.Empty);
        return new ClaudeReply(context, context.Model ?? "claude-mock", texts, tools, key);
    }

    internal static void WriteMessage(Utf8JsonWriter w, ClaudeReply r)
    {
        w.WriteStartObject();
        w.WriteString("id", r.Id("msg_"));
        w.WriteString("type", "message");
        w.WriteString("role", "assistant");
        w.WriteText("model", r.ResponseModel);
        w.WriteStartArray("content");
        if (r.ToolCalls.Count == 0)
        {
            w.WriteStartObject();
            w.WriteString("type", "text");
            w.WriteText("text", r.Text);
            w.WriteEndObject();
        }

        foreach (var call in r.ToolCalls)
        {
            w.WriteStartObject();
            w.WriteString("type", "tool_use");
            w.WriteString("id", call.Id);
            w.WriteText("name", call.Name);
            w.WritePropertyName("input");
            w.WriteRawValue(call.Arguments);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteString("stop_reason", r.StopReason);
        w.WriteNull("stop_sequence");
        WriteUsage(w, r, r.OutputTokens, start: true);
        w.WriteEndObject();
    }

    internal static void WriteUsage(Utf8JsonWriter w, ClaudeReply r, int outputTokens, bool start)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("input_tokens", r.InputTokens);
        w.WriteNumber("cache_creation_input_tokens", r.CacheWriteTokens);
        w.WriteNumber("cache_read_input_tokens", r.CacheReadTokens);
        if (start)
        {
            w.WriteStartObject("cache_creation");
            w.WriteNumber("ephemeral_5m_input_tokens", r.CacheWriteTokens);
            w.WriteNumber("ephemeral_1h_input_tokens", 0);
            w.WriteEndObject();
        }

        w.WriteNumber("output_tokens", outputTokens);
        if (start)
        {
            w.WriteString("service_tier", "standard");
        }

        w.WriteEndObject();
    }

    /// <summary>The stream's events, in order, as (event name, JSON, counts-as-chunk); used by the SSE and Bedrock writers.</summary>
    internal static IEnumerable<(string Name, byte[] Json, bool Chunk)> Events(ClaudeReply r)
    {
        yield return ("message_start", JsonBytes.Write(r, static (w, r) =>
        {
            w.WriteStartObject();
            w.WriteString("type", "message_start");
            w.WriteStartObject("message");
            w.WriteString("id", r.Id("msg_"));
            w.WriteString("type", "message");
            w.WriteString("role", "assistant");
            w.WriteText("model", r.ResponseModel);
            w.WriteStartArray("content");
            w.WriteEndArray();
            w.WriteNull("stop_reason");
            w.WriteNull("stop_sequence");
            WriteUsage(w, r, 1, start: true);
            w.WriteEndObject();
            w.WriteEndObject();
        }), false);

        var index = 0;
        if (r.ToolCalls.Count == 0)
        {
            yield return ("content_block_start", Block(0, "{\"type\":\"text\",\"text\":\"\"}"), false);
            yield return ("ping", "{\"type\": \"ping\"}"u8.ToArray(), false);
            foreach (var chunk in r.TextChunks)
            {
                yield return ("content_block_delta", JsonBytes.Write(chunk, static (w, c) =>
                {
                    w.WriteStartObject();
                    w.WriteString("type", "content_block_delta");
                    w.WriteNumber("index", 0);
                    w.WriteStartObject("delta");
                    w.WriteString("type", "text_delta");
                    w.WriteText("text", c);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }), true);
            }

            yield return ("content_block_stop", Stop(0), false);
            index = 1;
        }

        foreach (var call in r.ToolCalls)
        {
            var blockIndex = index++;
            yield return ("content_block_start", JsonBytes.Write((blockIndex, call), static (w, s) =>
            {
                w.WriteStartObject();
                w.WriteString("type", "content_block_start");
                w.WriteNumber("index", s.blockIndex);
                w.WriteStartObject("content_block");
                w.WriteString("type", "tool_use");
                w.WriteString("id", s.call.Id);
                w.WriteText("name", s.call.Name);
                w.WriteStartObject("input");
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndObject();
            }), false);
            foreach (var fragment in call.Fragments)
            {
                yield return ("content_block_delta", JsonBytes.Write((blockIndex, fragment), static (w, s) =>
                {
                    w.WriteStartObject();
                    w.WriteString("type", "content_block_delta");
                    w.WriteNumber("index", s.blockIndex);
                    w.WriteStartObject("delta");
                    w.WriteString("type", "input_json_delta");
                    w.WriteText("partial_json", s.fragment);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }), true);
            }

            yield return ("content_block_stop", Stop(blockIndex), false);
        }

        yield return ("message_delta", JsonBytes.Write(r, static (w, r) =>
        {
            w.WriteStartObject();
            w.WriteString("type", "message_delta");
            w.WriteStartObject("delta");
            w.WriteString("stop_reason", r.StopReason);
            w.WriteNull("stop_sequence");
            w.WriteEndObject();
            WriteUsage(w, r, r.OutputTokens, start: false);
            w.WriteEndObject();
        }), false);
        yield return ("message_stop", "{\"type\":\"message_stop\"}"u8.ToArray(), false);

        static byte[] Block(int index, string block) => System.Text.Encoding.UTF8.GetBytes($"{{\"type\":\"content_block_start\",\"index\":{index},\"content_block\":{block}}}");

        static byte[] Stop(int index) => System.Text.Encoding.UTF8.GetBytes($"{{\"type\":\"content_block_stop\",\"index\":{index}}}");
    }

    /// <summary>The in-stream error event (<c>overloaded_error</c>).</summary>
    internal static readonly byte[] OverloadedEvent = "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}"u8.ToArray();

    private static async Task StreamAsync(ClaudeReply reply, MockResponseWriter writer)
    {
        var scenario = reply.Scenario;
        await writer.StartEventStreamAsync().ConfigureAwait(false);
        var sent = 0;
        foreach (var (name, json, chunk) in Events(reply))
        {
            if (chunk)
            {
                if (sent == scenario.CutAfterChunks)
                {
                    if (scenario.CutSendsDone)
                    {
                        await writer.WriteEventAsync("message_stop", "{\"type\":\"message_stop\"}"u8.ToArray()).ConfigureAwait(false);
                    }

                    await writer.EndCutAsync().ConfigureAwait(false);
                    return;
                }

                if (sent == scenario.StreamErrorAfterChunks)
                {
                    await writer.WriteEventAsync("error", OverloadedEvent).ConfigureAwait(false);
                    await writer.CompleteAsync().ConfigureAwait(false);
                    return;
                }

                sent++;
                await writer.DelayChunkAsync().ConfigureAwait(false);
            }

            await writer.WriteEventAsync(name, json).ConfigureAwait(false);
        }

        await writer.CompleteAsync().ConfigureAwait(false);
    }
}
