using System.Text;
using System.Text.Json;

namespace TokenMetrics.Testing.Internal;

/// <summary>The Gemini API (<c>/v1beta/models/{model}:generateContent</c>, <c>:streamGenerateContent</c> with <c>?alt=sse</c> or as
/// a JSON array) and Vertex AI (<c>/v1/projects/{p}/locations/{l}/publishers/google/models/{model}:...</c>).</summary>
/// <remarks>
/// <para>Every streamed chunk carries a cumulative <c>usageMetadata</c> (<c>promptTokenCount</c>, <c>candidatesTokenCount</c> so far,
/// <c>thoughtsTokenCount</c> = the scenario's reasoning tokens, <c>cachedContentTokenCount</c> when cached tokens are set,
/// <c>totalTokenCount</c> = prompt + candidates + thoughts), as the real API does; the last chunk has <c>finishReason: STOP</c>.
/// With reasoning tokens a first part <c>{"text": "...", "thought": true}</c> is sent. <c>ToolCalls</c> answers with one
/// <c>functionCall</c> per declared function. Errors use Google's <c>{"error":{code,message,status}}</c>.</para>
/// </remarks>
internal sealed class GeminiMockProtocol : IMockProtocol
{
    public GeminiMockProtocol()
    {
        Routes =
        [
            new MockRoute("POST", static p => IsAction(p, ":generateContent"), HandleAsync, SelectModel: static (_, http) => ModelOf(http.Request.Path.Value)),
            new MockRoute("POST", static p => IsAction(p, ":streamGenerateContent"), HandleAsync, SelectModel: static (_, http) => ModelOf(http.Request.Path.Value)),
        ];
    }

    public IReadOnlyList<MockRoute> Routes { get; }

    public bool OwnsPath(string path) => path.Contains("/models/", StringComparison.Ordinal) && path.Contains(':', StringComparison.Ordinal);

    public byte[] ErrorBody(int statusCode, string? message) => JsonBytes.Write((statusCode, message), static (w, s) =>
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteNumber("code", s.statusCode);
        w.WriteText("message", s.message ?? (s.statusCode == 429 ? "Resource has been exhausted (e.g. check quota)." : "The mock server was asked to fail this request."));
        w.WriteString("status", s.statusCode switch
        {
            400 => "INVALID_ARGUMENT",
            401 => "UNAUTHENTICATED",
            403 => "PERMISSION_DENIED",
            404 => "NOT_FOUND",
            429 => "RESOURCE_EXHAUSTED",
            503 => "UNAVAILABLE",
            _ => "INTERNAL",
        });
        w.WriteEndObject();
        w.WriteEndObject();
    });

    private static bool IsAction(string path, string action) =>
        path.EndsWith(action, StringComparison.Ordinal) && path.Contains("/models/", StringComparison.Ordinal)
        && !path.Contains("/publishers/anthropic/", StringComparison.Ordinal);

    private static string? ModelOf(string? path)
    {
        if (path is null)
        {
            return null;
        }

        var colon = path.LastIndexOf(':');
        var slash = path.LastIndexOf('/', colon < 0 ? path.Length - 1 : colon);
        return colon > slash && slash >= 0 ? Uri.UnescapeDataString(path[(slash + 1)..colon]) : null;
    }

    private static async Task HandleAsync(MockRequestContext context)
    {
        var scenario = context.Scenario;
        var body = context.Json ?? default;
        var texts = new List<string>();
        if (body.ValueKind == JsonValueKind.Object)
        {
            foreach (var name in new[] { "systemInstruction", "contents" })
            {
                if (body.TryGetProperty(name, out var member))
                {
                    foreach (var item in member.ValueKind == JsonValueKind.Array ? member.EnumerateArray().ToList() : [member])
                    {
                        var text = new StringBuilder();
                        VendorMock.CollectText(item, text);
                        texts.Add(text.ToString());
                    }
                }
            }
        }

        var prompt = VendorMock.PromptTokens(scenario, texts);
        var model = context.Model ?? "gemini-mock";
        var id = Deterministic.Id(string.Empty, Deterministic.Hash(model + "|" + context.Request.BodyText))[..22];
        var calls = scenario.ToolCalls ? ToolCalls(body) : [];
        var chunks = calls.Count > 0 ? [] : scenario.Chunks;
        var thoughts = scenario.ReasoningTokens;
        var stream = context.Request.Path.EndsWith(":streamGenerateContent", StringComparison.Ordinal);
        var sse = context.Request.QueryString.Contains("alt=sse", StringComparison.Ordinal);

        // The pieces of the answer: an optional thought, the text chunks, or the function calls.
        var pieces = new List<(string? Text, bool Thought, (string Name, string Args)? Call)>();
        if (thoughts > 0)
        {
            pieces.Add(("Thinking about the answer.", true, null));
        }

        pieces.AddRange(chunks.Select(c => ((string?)c, false, ((string, string)?)null)));
        pieces.AddRange(calls.Select(c => ((string?)null, false, ((string, string)?)c)));
        if (pieces.Count == 0)
        {
            pieces.Add((string.Empty, false, null));
        }

        var mock = new VendorMock(context);
        if (!stream)
        {
            var completion = scenario.CompletionTokens ?? (chunks.Count + calls.Count);
            var whole = Chunk(model, id, pieces, prompt, completion, thoughts, scenario.CachedTokens, finish: true);
            var writer = context.CreateWriter();
            await using var scope = writer.ConfigureAwait(false);
            await writer.WriteBodyAsync(200, "application/json", whole, honourCut: true).ConfigureAwait(false);
            return;
        }

        await mock.StartAsync(sse ? "text/event-stream" : "application/json; charset=UTF-8").ConfigureAwait(false);
        var produced = 0;
        for (var i = 0; i < pieces.Count; i++)
        {
            if (i == scenario.CutAfterChunks)
            {
                await mock.CutAsync().ConfigureAwait(false);
                return;
            }

            if (pieces[i].Text is not null && !pieces[i].Thought || pieces[i].Call is not null)
            {
                produced++;
            }

            var last = i == pieces.Count - 1;
            var completion = last && scenario.CompletionTokens is int fixedCount ? fixedCount : produced;
            var json = Chunk(model, id, [pieces[i]], prompt, completion, thoughts, scenario.CachedTokens, finish: last);
            var prefix = sse ? "data: " : i == 0 ? "[" : ",\r\n";
            var suffix = sse ? "\r\n\r\n" : last ? "]" : string.Empty;
            await mock.WriteAsync([.. Encoding.UTF8.GetBytes(prefix), .. json, .. Encoding.UTF8.GetBytes(suffix)]).ConfigureAwait(false);
            await mock.DelayAsync().ConfigureAwait(false);
        }

        await context.Http.Response.CompleteAsync().ConfigureAwait(false);
    }

    private static List<(string Name, string Args)> ToolCalls(JsonElement body)
    {
        var calls = new List<(string, string)>();
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array)
        {
            return calls;
        }

        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("functionDeclarations", out var declarations) && declarations.ValueKind == JsonValueKind.Array)
            {
                foreach (var declaration in declarations.EnumerateArray())
                {
                    if (declaration.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
                    {
                        calls.Add((name.GetString()!, VendorMock.BuildArguments(declaration.TryGetProperty("parameters", out var p) ? p : default)));
                    }
                }
            }
        }

        return calls;
    }

    private static byte[] Chunk(string model, string id, List<(string? Text, bool Thought, (string Name, string Args)? Call)> pieces, int prompt, int candidates, int thoughts, int cached, bool finish) =>
        JsonBytes.Write((model, id, pieces, prompt, candidates, thoughts, cached, finish), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteStartArray("candidates");
            w.WriteStartObject();
            w.WriteStartObject("content");
            w.WriteStartArray("parts");
            foreach (var piece in s.pieces)
            {
                w.WriteStartObject();
                if (piece.Call is { } call)
                {
                    w.WriteStartObject("functionCall");
                    w.WriteString("name", call.Name);
                    w.WritePropertyName("args");
                    w.WriteRawValue(call.Args);
                    w.WriteEndObject();
                }
                else
                {
                    w.WriteText("text", piece.Text);
                    if (piece.Thought)
                    {
                        w.WriteBoolean("thought", true);
                    }
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteString("role", "model");
            w.WriteEndObject();
            if (s.finish)
            {
                w.WriteString("finishReason", "STOP");
            }

            w.WriteNumber("index", 0);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartObject("usageMetadata");
            w.WriteNumber("promptTokenCount", s.prompt);
            if (s.candidates > 0)
            {
                w.WriteNumber("candidatesTokenCount", s.candidates);
            }

            w.WriteNumber("totalTokenCount", s.prompt + s.candidates + s.thoughts);
            if (s.cached > 0)
            {
                w.WriteNumber("cachedContentTokenCount", s.cached);
            }

            w.WriteStartArray("promptTokensDetails");
            w.WriteStartObject();
            w.WriteString("modality", "TEXT");
            w.WriteNumber("tokenCount", s.prompt);
            w.WriteEndObject();
            w.WriteEndArray();
            if (s.thoughts > 0)
            {
                w.WriteNumber("thoughtsTokenCount", s.thoughts);
            }

            w.WriteEndObject();
            w.WriteString("modelVersion", s.model);
            w.WriteString("responseId", s.id);
            w.WriteEndObject();
        });
}
