using System.Text;
using System.Text.Json;

namespace TokenMetrics.Testing.Internal;

/// <summary>DashScope's native generation API: <c>POST /api/v1/services/aigc/text-generation/generation</c>. JSON, or SSE when the
/// request has <c>X-DashScope-SSE: enable</c> (<c>id:</c>, <c>event:result</c>, <c>:HTTP_STATUS/200</c>, <c>data:</c>, no space
/// after the colons, as DashScope writes them). <c>parameters.incremental_output</c> makes the content incremental; usage is
/// cumulative in every event either way; <c>finish_reason</c> is the string <c>"null"</c> until the last event. With
/// <c>result_format: message</c> the answer is <c>output.choices[0].message</c>, otherwise <c>output.text</c>.
/// Errors are <c>{"code","message","request_id"}</c>.</summary>
internal sealed class DashScopeMockProtocol : IMockProtocol
{
    public DashScopeMockProtocol()
    {
        Routes =
        [
            new MockRoute("POST", static p => p == "/api/v1/services/aigc/text-generation/generation", HandleAsync),
        ];
    }

    public IReadOnlyList<MockRoute> Routes { get; }

    public bool OwnsPath(string path) => path.StartsWith("/api/v1/", StringComparison.Ordinal);

    public byte[] ErrorBody(int statusCode, string? message) => JsonBytes.Write((statusCode, message), static (w, s) =>
    {
        w.WriteStartObject();
        w.WriteString("code", s.statusCode switch { 401 => "InvalidApiKey", 429 => "Throttling.RateQuota", 400 => "InvalidParameter", _ => "InternalError" });
        w.WriteText("message", s.message ?? "The mock server was asked to fail this request.");
        w.WriteString("request_id", "00000000-0000-0000-0000-000000000000");
        w.WriteEndObject();
    });

    private static async Task HandleAsync(MockRequestContext context)
    {
        var scenario = context.Scenario;
        var body = context.Json ?? default;
        var texts = new List<string>();
        var incremental = false;
        var messageFormat = false;
        var calls = new List<(string Name, string Args)>();
        if (body.ValueKind == JsonValueKind.Object)
        {
            if (body.TryGetProperty("input", out var input) && input.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
            {
                foreach (var message in messages.EnumerateArray())
                {
                    var text = new StringBuilder();
                    if (message.TryGetProperty("content", out var content))
                    {
                        VendorMock.CollectText(content, text);
                    }

                    texts.Add(text.ToString());
                }
            }

            if (body.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object)
            {
                incremental = parameters.TryGetProperty("incremental_output", out var inc) && inc.ValueKind == JsonValueKind.True;
                messageFormat = parameters.TryGetProperty("result_format", out var rf) && rf.ValueKind == JsonValueKind.String && rf.GetString() == "message";
                if (scenario.ToolCalls && parameters.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
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
        }

        var prompt = VendorMock.PromptTokens(scenario, texts);
        var model = context.Model ?? "qwen-plus";
        var requestId = Deterministic.Id(string.Empty, Deterministic.Hash(model + "|" + context.Request.BodyText));
        var chunks = calls.Count > 0 ? [] : scenario.Chunks;
        var stream = context.Request.GetHeader("X-DashScope-SSE") is { } sse && sse.Equals("enable", StringComparison.OrdinalIgnoreCase);
        if (!stream)
        {
            var completion = scenario.CompletionTokens ?? (chunks.Count + calls.Count + scenario.ReasoningTokens);
            var whole = Event(string.Concat(chunks), calls, "stop", prompt, completion, scenario.ReasoningTokens, scenario.CachedTokens, requestId, messageFormat, calls.Count > 0 ? "tool_calls" : "stop");
            var writer = context.CreateWriter();
            await using var scope = writer.ConfigureAwait(false);
            await writer.WriteBodyAsync(200, "application/json", whole, honourCut: true).ConfigureAwait(false);
            return;
        }

        var mock = new VendorMock(context);
        await mock.StartAsync("text/event-stream;charset=UTF-8").ConfigureAwait(false);
        var pieces = chunks.Select(c => (Text: c, Calls: new List<(string, string)>())).ToList();
        if (calls.Count > 0)
        {
            pieces.Add((string.Empty, calls));
        }

        var sofar = new StringBuilder();
        for (var i = 0; i < pieces.Count; i++)
        {
            if (i == scenario.CutAfterChunks)
            {
                await mock.CutAsync().ConfigureAwait(false);
                return;
            }

            var last = i == pieces.Count - 1;
            sofar.Append(pieces[i].Text);
            var completion = last && scenario.CompletionTokens is int fixedCount ? fixedCount : i + 1 + scenario.ReasoningTokens;
            var finish = last ? (calls.Count > 0 ? "tool_calls" : "stop") : "null";
            var json = Event(incremental ? pieces[i].Text : sofar.ToString(), pieces[i].Calls, finish, prompt, completion, scenario.ReasoningTokens, scenario.CachedTokens, requestId, messageFormat, finish);
            var frame = Encoding.UTF8.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"id:{i + 1}\nevent:result\n:HTTP_STATUS/200\ndata:"));
            await mock.WriteAsync([.. frame, .. json, (byte)'\n', (byte)'\n']).ConfigureAwait(false);
            await mock.DelayAsync().ConfigureAwait(false);
        }

        await context.Http.Response.CompleteAsync().ConfigureAwait(false);
    }

    private static byte[] Event(string text, List<(string Name, string Args)> calls, string finish, int prompt, int completion, int reasoning, int cached, string requestId, bool messageFormat, string finishReason) =>
        JsonBytes.Write((text, calls, prompt, completion, reasoning, cached, requestId, messageFormat, finishReason), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteStartObject("output");
            if (s.messageFormat)
            {
                w.WriteStartArray("choices");
                w.WriteStartObject();
                w.WriteStartObject("message");
                w.WriteString("role", "assistant");
                w.WriteText("content", s.text);
                if (s.calls.Count > 0)
                {
                    w.WriteStartArray("tool_calls");
                    for (var i = 0; i < s.calls.Count; i++)
                    {
                        w.WriteStartObject();
                        w.WriteNumber("index", i);
                        w.WriteString("id", "call_" + s.requestId[..8] + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                        w.WriteString("type", "function");
                        w.WriteStartObject("function");
                        w.WriteString("name", s.calls[i].Name);
                        w.WriteText("arguments", s.calls[i].Args);
                        w.WriteEndObject();
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                }

                w.WriteEndObject();
                w.WriteString("finish_reason", s.finishReason);
                w.WriteEndObject();
                w.WriteEndArray();
            }
            else
            {
                w.WriteText("text", s.text);
                w.WriteString("finish_reason", s.finishReason);
            }

            w.WriteEndObject();
            w.WriteStartObject("usage");
            w.WriteNumber("input_tokens", s.prompt);
            w.WriteNumber("output_tokens", s.completion);
            w.WriteNumber("total_tokens", s.prompt + s.completion);
            if (s.cached > 0)
            {
                w.WriteStartObject("prompt_tokens_details");
                w.WriteNumber("cached_tokens", s.cached);
                w.WriteEndObject();
            }

            if (s.reasoning > 0)
            {
                w.WriteStartObject("output_tokens_details");
                w.WriteNumber("reasoning_tokens", s.reasoning);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteString("request_id", s.requestId);
            w.WriteEndObject();
        });
}
