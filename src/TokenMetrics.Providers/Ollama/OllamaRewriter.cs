using System.Collections.Generic;
using System.Net.Http;
using System.Text.Json;
using System.Text.Json.Nodes;
using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Providers.Ollama;

/// <summary>Rewrites OpenAI Chat Completions requests to Ollama's native <c>/api/chat</c>
/// (<see cref="TokenMetricsHandlerOptions.RewriteTo"/> = <c>ollama</c>) and its NDJSON or JSON answers back to OpenAI's format.</summary>
/// <remarks>
/// <para>Request: messages (text parts joined, <c>data:</c> images → <c>images</c> base64, assistant <c>tool_calls</c> with
/// arguments as objects, tool results as <c>role: tool</c>), <c>tools</c> as they are, <c>stream</c> (always sent: Ollama streams
/// by default), <c>options {temperature, top_p, num_predict, stop, seed, presence_penalty, frequency_penalty}</c>,
/// <c>response_format</c> → <c>format</c> (<c>"json"</c> or the schema). A key, when there is one, goes to <c>Authorization: Bearer</c>.</para>
/// <para>Ollama sends whole tool calls without ids: ids are generated. Other fields fail with <see cref="NotSupportedException"/>.</para>
/// </remarks>
internal sealed class OllamaRewriter(OllamaProtocolOptions options) : OpenAIChatRewriter(TimeProvider.System)
{
    private static readonly HashSet<string> Supported = RewriteChecks.SupportedFields("tools", "response_format", "seed", "presence_penalty", "frequency_penalty");

    public override string Name => OllamaProtocol.ProviderName;

    protected override ISet<string> SupportedFields => Supported;

    protected override byte[] BuildBody(OpenAIChatRequest request, TokenMetricsRewriteOptions rewrite)
    {
        var messages = new JsonArray();
        for (var i = 0; i < request.Messages.Count; i++)
        {
            messages.Add((JsonNode)ConvertMessage(request.Messages[i] as JsonObject ?? throw new NotSupportedException($"Rewriting to ollama: messages[{i}] is not an object."), i));
        }

        var native = new JsonObject
        {
            ["model"] = request.RoutedModel,
            ["messages"] = messages,
            ["stream"] = request.Stream,
        };
        if (request.Body["tools"] is JsonArray tools)
        {
            native["tools"] = tools.DeepClone();
        }

        var opts = new JsonObject();
        foreach (var (from, to) in new[] { ("temperature", "temperature"), ("top_p", "top_p"), ("seed", "seed"), ("presence_penalty", "presence_penalty"), ("frequency_penalty", "frequency_penalty") })
        {
            if (request.Body[from] is { } value)
            {
                opts[to] = value.DeepClone();
            }
        }

        if (request.MaxTokens() is { } max)
        {
            opts["num_predict"] = max;
        }

        if (request.StopSequences() is { } stop)
        {
            opts["stop"] = stop;
        }

        if (opts.Count > 0)
        {
            native["options"] = opts;
        }

        if (request.Body["response_format"] is JsonObject format)
        {
            switch ((string?)format["type"])
            {
                case "text":
                    break;
                case "json_object":
                    native["format"] = "json";
                    break;
                case "json_schema" when format["json_schema"] is JsonObject { } jsonSchema && jsonSchema["schema"] is JsonObject schema:
                    native["format"] = schema.DeepClone();
                    break;
                default:
                    throw new NotSupportedException($"Rewriting to ollama: the request field 'response_format' type '{(string?)format["type"]}' is not supported.");
            }
        }

        return JsonNodes.ToUtf8(native);
    }

    protected override void Route(HttpRequestMessage request, OpenAIChatRequest chat, TokenMetricsRewriteOptions rewrite, byte[] body)
    {
        var key = ApiKeys.Take(request, rewrite);
        request.RequestUri = new Uri(rewrite.Endpoint ?? options.DefaultEndpoint, "api/chat");
        if (key is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }
    }

    protected override TokenUsageResponseReader CreateAnswerReader(TokenUsageProtocolContext context, HttpResponseMessage response, RewriteState state)
    {
        var max = state.Stream ? context.Options.MaxSseEventBytes : context.Options.MaxInspectedResponseBytes;
        return new OllamaRewriteReader(max, state, (int)response.StatusCode);
    }

    private static JsonObject ConvertMessage(JsonObject message, int index)
    {
        var role = (string?)message["role"];
        var result = new JsonObject { ["role"] = role == "developer" ? "system" : role };
        var text = new System.Text.StringBuilder();
        JsonArray? images = null;
        switch (message["content"])
        {
            case null:
                break;
            case JsonValue v when v.TryGetValue<string>(out var s):
                text.Append(s);
                break;
            case JsonArray parts:
                for (var j = 0; j < parts.Count; j++)
                {
                    var part = parts[j];
                    switch ((string?)part?["type"])
                    {
                        case "text":
                            text.Append((string?)part!["text"]);
                            break;
                        case "image_url" when MediaUrls.TryParseDataUrl((string?)part!["image_url"]?["url"], out _, out var data):
                            (images ??= []).Add((JsonNode?)JsonValue.Create(data));
                            break;
                        default:
                            throw new NotSupportedException($"Rewriting to ollama: messages[{index}].content[{j}] of type '{(string?)part?["type"]}' is not supported (text and data: images only).");
                    }
                }

                break;
        }

        result["content"] = text.ToString();
        if (images is not null)
        {
            result["images"] = images;
        }

        if (message["tool_calls"] is JsonArray calls)
        {
            var converted = new JsonArray();
            foreach (var call in calls)
            {
                var arguments = (string?)call?["function"]?["arguments"];
                JsonNode? parsed;
                try
                {
                    parsed = string.IsNullOrWhiteSpace(arguments) ? new JsonObject() : JsonNode.Parse(arguments);
                }
                catch (JsonException ex)
                {
                    throw new NotSupportedException($"Rewriting to ollama: messages[{index}].tool_calls[].function.arguments is not valid JSON.", ex);
                }

                converted.Add((JsonNode)new JsonObject
                {
                    ["function"] = new JsonObject { ["name"] = (string?)call?["function"]?["name"], ["arguments"] = parsed },
                });
            }

            result["tool_calls"] = converted;
        }

        if (role == "tool" && (string?)message["name"] is { } toolName)
        {
            result["tool_name"] = toolName;
        }

        return result;
    }
}

/// <summary>Meters a rewritten Ollama answer and writes the app's OpenAI answer; <c>{"error": "..."}</c> becomes an OpenAI error.</summary>
internal sealed class OllamaRewriteReader : OllamaResponseReader
{
    private readonly RewrittenAnswer _rewritten;
    private readonly OpenAIAnswerBuilder _answer;

    public OllamaRewriteReader(int maxDocumentBytes, RewriteState state, int status)
        : base(maxDocumentBytes)
    {
        Answer = _rewritten = new RewrittenAnswer(state, status, "Ollama");
        _answer = _rewritten.Builder;
    }

    protected override void OnDocument(ReadOnlySpan<byte> json, ReadOnlySpan<byte> eventType)
    {
        base.OnDocument(json, eventType);
        using var document = JsonDocument.Parse(json.ToArray());
        var root = document.RootElement;
        if (root.TryGetProperty("error", out var error))
        {
            _rewritten.VendorError(Output, error.ValueKind == JsonValueKind.String ? error.GetString() : error.ToString(), "server_error");
            return;
        }

        if (!_rewritten.Success)
        {
            return;
        }

        _answer.Start(Output, null, ResponseModel);
        if (root.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object)
        {
            if (message.TryGetProperty("thinking", out var thinking) && thinking.ValueKind == JsonValueKind.String)
            {
                _answer.Reasoning(Output, thinking.GetString()!);
            }

            if (message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
            {
                _answer.Text(Output, content.GetString()!);
            }

            if (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in calls.EnumerateArray())
                {
                    var function = call.TryGetProperty("function", out var f) ? f : default;
                    var name = function.ValueKind == JsonValueKind.Object && function.TryGetProperty("name", out var n) ? n.GetString() : null;
                    var arguments = function.ValueKind == JsonValueKind.Object && function.TryGetProperty("arguments", out var a) ? JsonNodes.ArgumentsText(a) : "{}";
                    _answer.ToolCall(Output, null, null, name, arguments);
                }
            }
        }

        if (DoneReason is not null)
        {
            _answer.VendorFinishReason = DoneReason;
        }
    }

    protected override void OnEnd()
    {
        base.OnEnd();
        _rewritten.End(Output, Completed, ErrorType, Usage);
    }
}
