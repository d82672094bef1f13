using System.Globalization;
using System.Text;
using System.Text.Json;

namespace TokenMetrics.Testing.Internal;

/// <summary>Cohere's v2 API: <c>POST /v2/chat</c> (one JSON object, or with <c>"stream": true</c> SSE events
/// <c>message-start</c>, <c>content-start</c>, <c>content-delta</c>…, <c>content-end</c>, <c>message-end</c>) and
/// <c>POST /v2/embed</c>.</summary>
/// <remarks>
/// <para>Usage is Cohere's: <c>usage.billed_units.{input,output}_tokens</c> (what is billed: the scenario's prompt and completion
/// tokens), <c>usage.tokens.{input,output}_tokens</c> (what the model processed: the billed input plus
/// <see cref="TemplateTokens"/> of chat template, the same output) and <c>usage.cached_tokens</c> (the scenario's cached tokens).
/// Streams carry usage once, in <c>message-end</c>'s <c>delta</c>, with <c>finish_reason: "COMPLETE"</c>. Embeddings report
/// <c>meta.billed_units.input_tokens</c>.</para>
/// <para>Scenarios: errors in Cohere's shape <c>{"id","message"}</c>; <c>CutAfterChunks</c> ends the stream after n
/// <c>content-delta</c> events without <c>content-end</c> and <c>message-end</c> (<c>CutSendsDone</c> still sends a
/// <c>message-end</c>, without usage; <c>CutAbortsConnection</c> aborts); a non-streamed body is cut at half its bytes;
/// <c>StreamErrorAfterChunks</c> ends with <c>message-end</c> carrying <c>delta.error</c> and <c>finish_reason: "ERROR"</c>;
/// gzip, split writes, chunk and response delays as everywhere. Not supported: tool calls, endless streams.</para>
/// </remarks>
internal sealed class CohereMockProtocol : IMockProtocol
{
    /// <summary>The chat-template tokens the mock adds to the billed input in <c>usage.tokens.input_tokens</c>.</summary>
    public const int TemplateTokens = 64;

    private const int EmbeddingDimensions = 8;

    public CohereMockProtocol()
    {
        Routes =
        [
            new MockRoute("POST", static p => p == "/v2/chat", ChatAsync),
            new MockRoute("POST", static p => p == "/v2/embed", EmbedAsync),
        ];
    }

    public IReadOnlyList<MockRoute> Routes { get; }

    public bool OwnsPath(string path) => path.StartsWith("/v2/", StringComparison.Ordinal);

    /// <summary>Cohere's error shape: <c>{"id": "...", "message": "..."}</c>.</summary>
    public byte[] ErrorBody(int statusCode, string? message) => JsonBytes.Write((statusCode, message), static (w, s) =>
    {
        w.WriteStartObject();
        w.WriteString("id", Uuid(Deterministic.Hash("cohere-error|" + s.statusCode.ToString(CultureInfo.InvariantCulture))));
        w.WriteText("message", s.message ?? s.statusCode switch
        {
            401 => "invalid api token",
            429 => "You are past the rate limit of this API key.",
            _ => "The mock server was asked to fail this request.",
        });
        w.WriteEndObject();
    });

    /// <summary>A UUID-shaped id (Cohere's ids are UUIDs) from the first 16 bytes of a hash.</summary>
    private static string Uuid(ReadOnlySpan<byte> hash) => new Guid(hash[..16]).ToString("D");

    private static JsonElement RequireBody(MockRequestContext context)
    {
        if (context.Json is not { ValueKind: JsonValueKind.Object } body)
        {
            throw new MockRequestException("invalid request: the body must be a JSON object.");
        }

        if (!body.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String || model.GetString()!.Length == 0)
        {
            throw new MockRequestException("invalid request: model must be a non-empty string.");
        }

        return body;
    }

    private static async Task ChatAsync(MockRequestContext context)
    {
        var body = RequireBody(context);
        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            throw new MockRequestException("invalid request: messages must be an array.");
        }

        var texts = new List<string>();
        foreach (var message in messages.EnumerateArray())
        {
            var text = new StringBuilder();
            if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content))
            {
                VendorMock.CollectText(content, text);
            }

            texts.Add(text.ToString());
        }

        var scenario = context.Scenario;
        var reply = new Reply(
            scenario.ResponseId ?? Uuid(Deterministic.Hash(context.Model + "|" + messages.GetRawText())),
            scenario.Chunks,
            VendorMock.PromptTokens(scenario, texts),
            scenario.CachedTokens);
        var stream = body.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var writer = context.CreateWriter();
        await using var scope = writer.ConfigureAwait(false);
        if (!stream)
        {
            var output = scenario.CompletionTokensFor(reply.Chunks.Count);
            var whole = JsonBytes.Write((reply, output), static (w, s) =>
            {
                w.WriteStartObject();
                w.WriteString("id", s.reply.Id);
                w.WriteStartObject("message");
                w.WriteString("role", "assistant");
                w.WriteStartArray("content");
                w.WriteStartObject();
                w.WriteString("type", "text");
                w.WriteText("text", string.Concat(s.reply.Chunks));
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteString("finish_reason", "COMPLETE");
                WriteUsage(w, s.reply, s.output);
                w.WriteEndObject();
            });
            await writer.WriteBodyAsync(200, "application/json", whole, honourCut: true).ConfigureAwait(false);
            return;
        }

        await writer.StartEventStreamAsync().ConfigureAwait(false);
        await writer.WriteEventAsync("message-start", JsonBytes.Write(reply.Id, static (w, id) =>
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteString("type", "message-start");
            w.WriteStartObject("delta");
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            w.WriteStartArray("content");
            w.WriteEndArray();
            w.WriteString("tool_plan", string.Empty);
            w.WriteStartArray("tool_calls");
            w.WriteEndArray();
            w.WriteStartArray("citations");
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        })).ConfigureAwait(false);
        await writer.WriteEventAsync("content-start", "{\"type\":\"content-start\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"type\":\"text\",\"text\":\"\"}}}}"u8.ToArray()).ConfigureAwait(false);
        var sent = 0;
        foreach (var chunk in reply.Chunks)
        {
            if (sent == scenario.CutAfterChunks)
            {
                if (scenario.CutSendsDone)
                {
                    await writer.WriteEventAsync("message-end", "{\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"COMPLETE\"}}"u8.ToArray()).ConfigureAwait(false);
                }

                await writer.EndCutAsync().ConfigureAwait(false);
                return;
            }

            if (sent == scenario.StreamErrorAfterChunks)
            {
                await writer.WriteEventAsync("message-end", "{\"type\":\"message-end\",\"delta\":{\"error\":\"internal server error, this has been reported to our developers\",\"finish_reason\":\"ERROR\"}}"u8.ToArray()).ConfigureAwait(false);
                await writer.CompleteAsync().ConfigureAwait(false);
                return;
            }

            sent++;
            await writer.DelayChunkAsync().ConfigureAwait(false);
            await writer.WriteEventAsync("content-delta", JsonBytes.Write(chunk, static (w, c) =>
            {
                w.WriteStartObject();
                w.WriteString("type", "content-delta");
                w.WriteNumber("index", 0);
                w.WriteStartObject("delta");
                w.WriteStartObject("message");
                w.WriteStartObject("content");
                w.WriteText("text", c);
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndObject();
            })).ConfigureAwait(false);
        }

        await writer.WriteEventAsync("content-end", "{\"type\":\"content-end\",\"index\":0}"u8.ToArray()).ConfigureAwait(false);
        var completion = scenario.CompletionTokensFor(sent);
        await writer.WriteEventAsync("message-end", JsonBytes.Write((reply, completion), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("type", "message-end");
            w.WriteStartObject("delta");
            w.WriteString("finish_reason", "COMPLETE");
            WriteUsage(w, s.reply, s.completion);
            w.WriteEndObject();
            w.WriteEndObject();
        })).ConfigureAwait(false);
        await writer.CompleteAsync().ConfigureAwait(false);
    }

    private static void WriteUsage(Utf8JsonWriter w, Reply reply, int output)
    {
        w.WriteStartObject("usage");
        w.WriteStartObject("billed_units");
        w.WriteNumber("input_tokens", reply.PromptTokens);
        w.WriteNumber("output_tokens", output);
        w.WriteEndObject();
        w.WriteStartObject("tokens");
        w.WriteNumber("input_tokens", reply.PromptTokens + TemplateTokens);
        w.WriteNumber("output_tokens", output);
        w.WriteEndObject();
        w.WriteNumber("cached_tokens", reply.CachedTokens);
        w.WriteEndObject();
    }

    private static async Task EmbedAsync(MockRequestContext context)
    {
        var body = RequireBody(context);
        var texts = new List<string>();
        if (body.TryGetProperty("texts", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var text in list.EnumerateArray())
            {
                texts.Add(text.ValueKind == JsonValueKind.String ? text.GetString()! : string.Empty);
            }
        }
        else
        {
            throw new MockRequestException("invalid request: texts must be an array of strings.");
        }

        var scenario = context.Scenario;
        var billed = scenario.PromptTokens ?? texts.Sum(OpenAIRequestInfo.TextTokens);
        var id = scenario.ResponseId ?? Uuid(Deterministic.Hash(context.Model + "|" + list.GetRawText()));
        var json = JsonBytes.Write((id, texts, billed), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("id", s.id);
            w.WriteStartObject("embeddings");
            w.WriteStartArray("float");
            foreach (var text in s.texts)
            {
                var hash = Deterministic.Hash(text);
                w.WriteStartArray();
                for (var i = 0; i < EmbeddingDimensions; i++)
                {
                    w.WriteNumberValue(Math.Round((hash[i] - 128) / 128.0, 4));
                }

                w.WriteEndArray();
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartArray("texts");
            foreach (var text in s.texts)
            {
                w.WriteTextValue(text);
            }

            w.WriteEndArray();
            w.WriteStartObject("meta");
            w.WriteStartObject("api_version");
            w.WriteString("version", "2");
            w.WriteEndObject();
            w.WriteStartObject("billed_units");
            w.WriteNumber("input_tokens", s.billed);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteString("response_type", "embeddings_by_type");
            w.WriteEndObject();
        });
        var writer = context.CreateWriter();
        await using var scope = writer.ConfigureAwait(false);
        await writer.WriteBodyAsync(200, "application/json", json, honourCut: true).ConfigureAwait(false);
    }

    private sealed record Reply(string Id, IReadOnlyList<string> Chunks, int PromptTokens, int CachedTokens);
}
