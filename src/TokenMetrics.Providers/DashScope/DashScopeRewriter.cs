using System.Collections.Generic;
using System.Net.Http;
using System.Text.Json;
using System.Text.Json.Nodes;
using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Providers.DashScope;

/// <summary>Rewrites OpenAI Chat Completions requests to DashScope's native generation API
/// (<see cref="TokenMetricsHandlerOptions.RewriteTo"/> = <c>dashscope</c>) and its answers back to OpenAI's format.</summary>
/// <remarks>
/// <para>Request: <c>{model, input: {messages}, parameters: {result_format: "message", incremental_output: true (streams),
/// temperature, top_p, max_tokens, stop, seed, presence_penalty, tools, tool_choice, response_format}}</c>; messages keep
/// OpenAI's shape (text parts joined); the key goes to <c>Authorization: Bearer</c>; streams add <c>X-DashScope-SSE: enable</c>.</para>
/// <para>Images and other non-text parts, and any other field, fail with <see cref="NotSupportedException"/> naming the field
/// (use the compatible mode for them: it is plain OpenAI).</para>
/// </remarks>
internal sealed class DashScopeRewriter(DashScopeProtocolOptions options) : OpenAIChatRewriter(TimeProvider.System)
{
    private static readonly HashSet<string> Supported = RewriteChecks.SupportedFields("tools", "tool_choice", "response_format", "seed", "presence_penalty");

    public override string Name => DashScopeProtocol.ProviderName;

    protected override ISet<string> SupportedFields => Supported;

    protected override byte[] BuildBody(OpenAIChatRequest request, TokenMetricsRewriteOptions rewrite)
    {
        var messages = new JsonArray();
        for (var i = 0; i < request.Messages.Count; i++)
        {
            if (request.Messages[i] is not JsonObject message)
            {
                throw new NotSupportedException($"Rewriting to dashscope: messages[{i}] is not an object.");
            }

            var copy = (JsonObject)message.DeepClone();
            if (copy["content"] is JsonArray parts)
            {
                for (var j = 0; j < parts.Count; j++)
                {
                    if ((string?)parts[j]?["type"] != "text")
                    {
                        throw new NotSupportedException($"Rewriting to dashscope: messages[{i}].content[{j}] of type '{(string?)parts[j]?["type"]}' is not supported (only text).");
                    }
                }

                copy["content"] = ContextCleanup.TextOf(message);
            }

            if ((string?)copy["role"] == "developer")
            {
                copy["role"] = "system";
            }

            messages.Add((JsonNode)copy);
        }

        var parameters = new JsonObject { ["result_format"] = "message" };
        if (request.Stream)
        {
            parameters["incremental_output"] = true;
        }

        Copy(request, parameters, "temperature", "temperature");
        Copy(request, parameters, "top_p", "top_p");
        Copy(request, parameters, "seed", "seed");
        Copy(request, parameters, "presence_penalty", "presence_penalty");
        if (request.MaxTokens() is { } max)
        {
            parameters["max_tokens"] = max;
        }

        if (request.StopSequences() is { } stop)
        {
            parameters["stop"] = stop;
        }

        foreach (var name in new[] { "tools", "tool_choice", "response_format" })
        {
            if (request.Body[name] is { } value)
            {
                parameters[name] = value.DeepClone();
            }
        }

        var native = new JsonObject
        {
            ["model"] = request.RoutedModel,
            ["input"] = new JsonObject { ["messages"] = messages },
            ["parameters"] = parameters,
        };

        return JsonNodes.ToUtf8(native);
    }

    protected override void Route(HttpRequestMessage request, OpenAIChatRequest chat, TokenMetricsRewriteOptions rewrite, byte[] body)
    {
        var key = ApiKeys.Take(request, rewrite);
        var baseUri = rewrite.Endpoint ?? options.DefaultEndpoint;
        request.RequestUri = new Uri(baseUri, "api/v1/services/aigc/text-generation/generation");
        if (key is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        request.Headers.Remove("X-DashScope-SSE");
        if (chat.Stream)
        {
            request.Headers.TryAddWithoutValidation("X-DashScope-SSE", "enable");
        }
    }

    protected override TokenUsageResponseReader CreateAnswerReader(TokenUsageProtocolContext context, HttpResponseMessage response, RewriteState state)
    {
        var sse = TokenUsageProtocolContext.IsMediaType(response.Content.Headers, "text/event-stream");
        var max = state.Stream ? context.Options.MaxSseEventBytes : context.Options.MaxInspectedResponseBytes;
        return new DashScopeRewriteReader(sse ? DocumentFraming.Sse : DocumentFraming.Objects, max, state, (int)response.StatusCode);
    }

    private static void Copy(OpenAIChatRequest request, JsonObject target, string from, string to)
    {
        if (request.Body[from] is { } value)
        {
            target[to] = value.DeepClone();
        }
    }
}

/// <summary>Meters a rewritten DashScope answer and writes the app's OpenAI answer (content, <c>reasoning_content</c>,
/// tool calls, usage); DashScope errors (<c>{code, message}</c>) become OpenAI errors.</summary>
internal sealed class DashScopeRewriteReader : DashScopeResponseReader
{
    private readonly RewriteState _state;
    private readonly RewrittenAnswer _rewritten;
    private readonly OpenAIAnswerBuilder _answer;

    public DashScopeRewriteReader(DocumentFraming framing, int maxDocumentBytes, RewriteState state, int status)
        : base(framing, maxDocumentBytes, state.Stream)
    {
        _state = state;
        Answer = _rewritten = new RewrittenAnswer(state, status, "DashScope");
        _answer = _rewritten.Builder;
    }

    protected override void OnDocument(ReadOnlySpan<byte> json, ReadOnlySpan<byte> eventType)
    {
        base.OnDocument(json, eventType);
        using var document = JsonDocument.Parse(json.ToArray());
        var root = document.RootElement;
        if (ErrorType is not null)
        {
            _rewritten.VendorError(Output, root.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : ErrorType, ErrorType);
            return;
        }

        if (!_rewritten.Success)
        {
            return;
        }

        _answer.Start(Output, ResponseId, null);
        if (!root.TryGetProperty("output", out var output) || output.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (output.TryGetProperty("text", out var plain) && plain.ValueKind == JsonValueKind.String)
        {
            _answer.Text(Output, plain.GetString()!);
        }

        if (!output.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
        {
            return;
        }

        var message = choices[0].TryGetProperty("message", out var msg) ? msg : default;
        if (message.ValueKind == JsonValueKind.Object)
        {
            if (message.TryGetProperty("reasoning_content", out var reasoning) && reasoning.ValueKind == JsonValueKind.String)
            {
                _answer.Reasoning(Output, reasoning.GetString()!);
            }

            if (message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
            {
                _answer.Text(Output, content.GetString()!);
            }

            if (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
            {
                var position = 0;
                foreach (var call in calls.EnumerateArray())
                {
                    int? index = call.TryGetProperty("index", out var ix) && ix.TryGetInt32(out var k) ? k : _state.Stream ? position : null;
                    var id = call.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String && i.GetString() is { Length: > 0 } s ? s : null;
                    string? name = null;
                    string? arguments = null;
                    if (call.TryGetProperty("function", out var function))
                    {
                        name = function.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String && n.GetString() is { Length: > 0 } nm ? nm : null;
                        arguments = function.TryGetProperty("arguments", out var a) ? JsonNodes.ArgumentsText(a) : null;
                    }

                    _answer.ToolCall(Output, index, id, name, arguments);
                    position++;
                }
            }
        }

        if (FinishReason is not null)
        {
            _answer.VendorFinishReason = FinishReason;
        }
    }

    protected override void OnEnd()
    {
        base.OnEnd();
        _rewritten.End(Output, Completed, ErrorType, Usage);
    }
}
