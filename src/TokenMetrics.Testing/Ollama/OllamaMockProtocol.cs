using System.Text;
using System.Text.Json;

namespace TokenMetrics.Testing.Internal;

/// <summary>Ollama's native API: <c>POST /api/chat</c> and <c>/api/generate</c>, NDJSON (<c>application/x-ndjson</c>) by default
/// or one JSON object with <c>"stream": false</c>. The last line has <c>"done": true</c>, <c>done_reason</c>,
/// <c>prompt_eval_count</c> and <c>eval_count</c> (once, not cumulative). <c>ToolCalls</c> answers with whole
/// <c>message.tool_calls</c> (no ids, arguments as objects), as Ollama does. Errors are <c>{"error": "..."}</c>.</summary>
internal sealed class OllamaMockProtocol : IMockProtocol
{
    private const string CreatedAt = "2024-01-01T00:00:00.000000Z";

    public OllamaMockProtocol()
    {
        Routes =
        [
            new MockRoute("POST", static p => p == "/api/chat", static c => HandleAsync(c, chat: true)),
            new MockRoute("POST", static p => p == "/api/generate", static c => HandleAsync(c, chat: false)),
        ];
    }

    public IReadOnlyList<MockRoute> Routes { get; }

    public bool OwnsPath(string path) => path.StartsWith("/api/", StringComparison.Ordinal) && !path.StartsWith("/api/v1/", StringComparison.Ordinal);

    public byte[] ErrorBody(int statusCode, string? message) => JsonBytes.Write(message, static (w, m) =>
    {
        w.WriteStartObject();
        w.WriteText("error", m ?? "the mock server was asked to fail this request");
        w.WriteEndObject();
    });

    private static async Task HandleAsync(MockRequestContext context, bool chat)
    {
        var scenario = context.Scenario;
        var body = context.Json ?? default;
        var texts = new List<string>();
        var stream = true;
        var calls = new List<(string Name, string Args)>();
        if (body.ValueKind == JsonValueKind.Object)
        {
            if (body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
            {
                foreach (var message in messages.EnumerateArray())
                {
                    var text = new StringBuilder();
                    if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content))
                    {
                        VendorMock.CollectText(content, text);
                    }

                    texts.Add(text.ToString());
                }
            }

            if (body.TryGetProperty("prompt", out var prompt) && prompt.ValueKind == JsonValueKind.String)
            {
                texts.Add(prompt.GetString()!);
            }

            if (body.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.False)
            {
                stream = false;
            }

            if (scenario.ToolCalls && body.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
            {
                foreach (var tool in tools.EnumerateArray())
                {
                    if (tool.TryGetProperty("function", out var f) && f.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String)
                    {
                        calls.Add((n.GetString()!, VendorMock.BuildArguments(f.TryGetProperty("parameters", out var p) ? p : default)));
                    }
                }
            }
        }

        var promptTokens = VendorMock.PromptTokens(scenario, texts);
        var model = context.Model ?? "llama3.2";
        var chunks = calls.Count > 0 ? [] : scenario.Chunks;
        var completion = scenario.CompletionTokens ?? (chunks.Count + calls.Count + scenario.ReasoningTokens);
        if (!stream)
        {
            var whole = Line(model, chat, string.Concat(chunks), calls, done: true, promptTokens, completion);
            var writer = context.CreateWriter();
            await using var scope = writer.ConfigureAwait(false);
            await writer.WriteBodyAsync(200, "application/json; charset=utf-8", whole, honourCut: true).ConfigureAwait(false);
            return;
        }

        var mock = new VendorMock(context);
        await mock.StartAsync("application/x-ndjson").ConfigureAwait(false);
        var lines = chunks.Select(c => Line(model, chat, c, [], done: false, 0, 0)).ToList();
        if (calls.Count > 0)
        {
            lines.Add(Line(model, chat, string.Empty, calls, done: false, 0, 0));
        }

        for (var i = 0; i < lines.Count; i++)
        {
            if (i == scenario.CutAfterChunks)
            {
                await mock.CutAsync().ConfigureAwait(false);
                return;
            }

            await mock.WriteAsync([.. lines[i], (byte)'\n']).ConfigureAwait(false);
            await mock.DelayAsync().ConfigureAwait(false);
        }

        await mock.WriteAsync([.. Line(model, chat, string.Empty, [], done: true, promptTokens, completion), (byte)'\n']).ConfigureAwait(false);
        await context.Http.Response.CompleteAsync().ConfigureAwait(false);
    }

    private static byte[] Line(string model, bool chat, string text, List<(string Name, string Args)> calls, bool done, int prompt, int completion) =>
        JsonBytes.Write((model, chat, text, calls, done, prompt, completion), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("model", s.model);
            w.WriteString("created_at", CreatedAt);
            if (s.chat)
            {
                w.WriteStartObject("message");
                w.WriteString("role", "assistant");
                w.WriteText("content", s.text);
                if (s.calls.Count > 0)
                {
                    w.WriteStartArray("tool_calls");
                    foreach (var (name, args) in s.calls)
                    {
                        w.WriteStartObject();
                        w.WriteStartObject("function");
                        w.WriteString("name", name);
                        w.WritePropertyName("arguments");
                        w.WriteRawValue(args);
                        w.WriteEndObject();
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                }

                w.WriteEndObject();
            }
            else
            {
                w.WriteText("response", s.text);
            }

            if (s.done)
            {
                w.WriteString("done_reason", "stop");
            }

            w.WriteBoolean("done", s.done);
            if (s.done)
            {
                w.WriteNumber("total_duration", 1_000_000);
                w.WriteNumber("load_duration", 100_000);
                w.WriteNumber("prompt_eval_count", s.prompt);
                w.WriteNumber("prompt_eval_duration", 200_000);
                w.WriteNumber("eval_count", s.completion);
                w.WriteNumber("eval_duration", 700_000);
            }

            w.WriteEndObject();
        });
}
