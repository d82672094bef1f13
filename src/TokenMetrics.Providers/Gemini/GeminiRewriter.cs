using System.Collections.Generic;
using System.Net.Http;
using System.Text.Json;
using System.Text.Json.Nodes;
using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Providers.Gemini;

/// <summary>Rewrites OpenAI Chat Completions requests to Gemini <c>generateContent</c> / <c>streamGenerateContent?alt=sse</c>
/// (<see cref="TokenMetricsHandlerOptions.RewriteTo"/> = <c>gcp.gemini</c>) and Gemini's answers back to OpenAI's format.</summary>
/// <remarks>
/// <para>Mapping: system/developer messages → <c>systemInstruction</c>; user text and <c>data:</c> image/audio URLs →
/// <c>parts[].text</c>/<c>inlineData</c>; assistant <c>tool_calls</c> → <c>functionCall</c> parts (role <c>model</c>); tool messages →
/// <c>functionResponse</c> parts (the function name is found from the assistant call with the same id); <c>tools</c> →
/// <c>functionDeclarations</c>; <c>tool_choice</c> → <c>toolConfig.functionCallingConfig</c>; <c>temperature</c>, <c>top_p</c>,
/// <c>max_(completion_)tokens</c>, <c>stop</c>, <c>seed</c>, penalties → <c>generationConfig</c>; <c>response_format</c> →
/// <c>responseMimeType</c>/<c>responseSchema</c> (JSON-Schema keywords Gemini's schema subset rejects, <c>additionalProperties</c> and
/// <c>$schema</c>, are removed). The key goes to <c>x-goog-api-key</c>, never to the URL.</para>
/// <para>Anything else (for example <c>n</c>, <c>logprobs</c>, <c>audio</c>, <c>user</c>, http image URLs) fails the call with <see cref="NotSupportedException"/>
/// naming the field.</para>
/// </remarks>
internal sealed class GeminiRewriter(GeminiProtocolOptions options) : OpenAIChatRewriter(TimeProvider.System)
{
    private static readonly HashSet<string> Supported = RewriteChecks.SupportedFields("tools", "tool_choice", "response_format", "seed", "presence_penalty", "frequency_penalty");

    public override string Name => GeminiProtocol.GeminiName;

    protected override ISet<string> SupportedFields => Supported;

    protected override byte[] BuildBody(OpenAIChatRequest chat, TokenMetricsRewriteOptions rewrite) => JsonNodes.ToUtf8(Convert(chat));

    protected override void Route(HttpRequestMessage request, OpenAIChatRequest chat, TokenMetricsRewriteOptions rewrite, byte[] body)
    {
        var key = ApiKeys.Take(request, rewrite);
        var baseUri = rewrite.Endpoint ?? options.DefaultEndpoint;
        var action = chat.Stream ? "streamGenerateContent?alt=sse" : "generateContent";
        request.RequestUri = new Uri(baseUri, $"{options.ApiVersion.Trim('/')}/models/{Uri.EscapeDataString(chat.RoutedModel)}:{action}");
        if (key is not null)
        {
            request.Headers.Remove("x-goog-api-key");
            request.Headers.TryAddWithoutValidation("x-goog-api-key", key);
        }
    }

    protected override TokenUsageResponseReader CreateAnswerReader(TokenUsageProtocolContext context, HttpResponseMessage response, RewriteState state)
    {
        var sse = TokenUsageProtocolContext.IsMediaType(response.Content.Headers, "text/event-stream");
        var max = state.Stream ? context.Options.MaxSseEventBytes : context.Options.MaxInspectedResponseBytes;
        return new GeminiRewriteReader(sse ? DocumentFraming.Sse : DocumentFraming.Objects, max, state, (int)response.StatusCode);
    }

    /// <summary>Builds the Gemini request body.</summary>
    internal static JsonObject Convert(OpenAIChatRequest request)
    {
        var contents = new JsonArray();
        var system = new JsonArray();
        var callNames = new Dictionary<string, string>(StringComparer.Ordinal);
        var messages = request.Messages;
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i] is not JsonObject message)
            {
                throw new NotSupportedException($"Rewriting to gcp.gemini: messages[{i}] is not an object.");
            }

            var role = (string?)message["role"];
            switch (role)
            {
                case "system" or "developer":
                    foreach (var part in Parts(message, i, allowMedia: false))
                    {
                        system.Add(part);
                    }

                    break;
                case "user":
                    Append(contents, "user", Parts(message, i, allowMedia: true));
                    break;
                case "assistant":
                    var modelParts = message["content"] is null ? [] : Parts(message, i, allowMedia: false);
                    if (message["tool_calls"] is JsonArray calls)
                    {
                        foreach (var call in calls)
                        {
                            var function = call?["function"];
                            var name = (string?)function?["name"] ?? throw new NotSupportedException($"Rewriting to gcp.gemini: messages[{i}].tool_calls has a call without a function name.");
                            if ((string?)call?["id"] is { } id)
                            {
                                callNames[id] = name;
                            }

                            modelParts.Add(new JsonObject
                            {
                                ["functionCall"] = new JsonObject { ["name"] = name, ["args"] = ParseArguments((string?)function?["arguments"]) },
                            });
                        }
                    }

                    Append(contents, "model", modelParts);
                    break;
                case "tool":
                    var callId = (string?)message["tool_call_id"] ?? string.Empty;
                    var functionName = callNames.TryGetValue(callId, out var n) ? n : (string?)message["name"]
                        ?? throw new NotSupportedException($"Rewriting to gcp.gemini: messages[{i}].tool_call_id does not match an earlier assistant tool call.");
                    var text = ContextCleanup.TextOf(message) ?? string.Empty;
                    Append(contents, "user",
                    [
                        new JsonObject
                        {
                            ["functionResponse"] = new JsonObject { ["name"] = functionName, ["response"] = ResponseObject(text) },
                        },
                    ]);
                    break;
                default:
                    throw new NotSupportedException($"Rewriting to gcp.gemini: messages[{i}].role '{role}' is not supported.");
            }
        }

        var result = new JsonObject { ["contents"] = contents };
        if (system.Count > 0)
        {
            result["systemInstruction"] = new JsonObject { ["parts"] = system };
        }

        if (request.Body["tools"] is JsonArray tools && tools.Count > 0)
        {
            var declarations = new JsonArray();
            foreach (var tool in tools)
            {
                if ((string?)tool?["type"] != "function" || tool["function"] is not JsonObject function)
                {
                    throw new NotSupportedException("Rewriting to gcp.gemini: the request field 'tools' has a tool whose type is not 'function'.");
                }

                var declaration = new JsonObject { ["name"] = (string?)function["name"] };
                if ((string?)function["description"] is { } description)
                {
                    declaration["description"] = description;
                }

                if (function["parameters"] is JsonObject parameters)
                {
                    declaration["parameters"] = CleanSchema(parameters);
                }

                declarations.Add((JsonNode)declaration);
            }

            result["tools"] = new JsonArray((JsonNode)new JsonObject { ["functionDeclarations"] = declarations });
        }

        if (request.Body["tool_choice"] is { } choice)
        {
            result["toolConfig"] = new JsonObject { ["functionCallingConfig"] = ToolChoice(choice) };
        }

        var config = new JsonObject();
        SetNumber(config, "temperature", request.Number("temperature"));
        SetNumber(config, "topP", request.Number("top_p"));
        SetNumber(config, "presencePenalty", request.Number("presence_penalty"));
        SetNumber(config, "frequencyPenalty", request.Number("frequency_penalty"));
        if (request.MaxTokens() is { } max)
        {
            config["maxOutputTokens"] = max;
        }

        if (request.Number("seed") is { } seed)
        {
            config["seed"] = (long)seed;
        }

        if (request.StopSequences() is { } stop)
        {
            config["stopSequences"] = stop;
        }

        if (request.Body["response_format"] is JsonObject format)
        {
            switch ((string?)format["type"])
            {
                case "text":
                    break;
                case "json_object":
                    config["responseMimeType"] = "application/json";
                    break;
                case "json_schema":
                    config["responseMimeType"] = "application/json";
                    if (format["json_schema"]?["schema"] is JsonObject schema)
                    {
                        config["responseSchema"] = CleanSchema(schema);
                    }

                    break;
                default:
                    throw new NotSupportedException($"Rewriting to gcp.gemini: the request field 'response_format' type '{(string?)format["type"]}' is not supported.");
            }
        }

        if (config.Count > 0)
        {
            result["generationConfig"] = config;
        }

        return result;
    }

    private static JsonObject ToolChoice(JsonNode choice)
    {
        if (choice is JsonValue v && v.TryGetValue<string>(out var mode))
        {
            return new JsonObject
            {
                ["mode"] = mode switch
                {
                    "auto" => "AUTO",
                    "none" => "NONE",
                    "required" => "ANY",
                    _ => throw new NotSupportedException($"Rewriting to gcp.gemini: the request field 'tool_choice' value '{mode}' is not supported."),
                },
            };
        }

        if ((string?)choice["function"]?["name"] is { } name)
        {
            return new JsonObject { ["mode"] = "ANY", ["allowedFunctionNames"] = new JsonArray(JsonValue.Create(name)) };
        }

        throw new NotSupportedException("Rewriting to gcp.gemini: the request field 'tool_choice' is not supported in this form.");
    }

    private static List<JsonNode> Parts(JsonObject message, int index, bool allowMedia)
    {
        var parts = new List<JsonNode>();
        switch (message["content"])
        {
            case null:
                break;
            case JsonValue v when v.TryGetValue<string>(out var text):
                parts.Add(new JsonObject { ["text"] = text });
                break;
            case JsonArray array:
                for (var j = 0; j < array.Count; j++)
                {
                    var part = array[j];
                    switch ((string?)part?["type"])
                    {
                        case "text":
                            parts.Add(new JsonObject { ["text"] = (string?)part!["text"] ?? string.Empty });
                            break;
                        case "image_url" when allowMedia:
                            var url = (string?)part!["image_url"]?["url"];
                            if (!MediaUrls.TryParseDataUrl(url, out var mime, out var data))
                            {
                                throw new NotSupportedException($"Rewriting to gcp.gemini: messages[{index}].content[{j}].image_url must be a data: URL (Gemini fetches no http URLs).");
                            }

                            parts.Add(new JsonObject { ["inlineData"] = new JsonObject { ["mimeType"] = mime, ["data"] = data } });
                            break;
                        case "input_audio" when allowMedia:
                            var format = (string?)part!["input_audio"]?["format"] ?? "wav";
                            parts.Add(new JsonObject
                            {
                                ["inlineData"] = new JsonObject { ["mimeType"] = "audio/" + format, ["data"] = (string?)part["input_audio"]?["data"] ?? string.Empty },
                            });
                            break;
                        default:
                            throw new NotSupportedException($"Rewriting to gcp.gemini: messages[{index}].content[{j}] of type '{(string?)part?["type"]}' is not supported here.");
                    }
                }

                break;
            default:
                throw new NotSupportedException($"Rewriting to gcp.gemini: messages[{index}].content is not supported.");
        }

        return parts;
    }

    /// <summary>Adds parts to the conversation, merging consecutive turns of the same role (Gemini wants them alternating,
    /// and all function responses of one turn together).</summary>
    private static void Append(JsonArray contents, string role, List<JsonNode> parts)
    {
        if (parts.Count == 0)
        {
            return;
        }

        JsonArray target;
        if (contents.Count > 0 && contents[^1] is JsonObject last && (string?)last["role"] == role && last["parts"] is JsonArray existing)
        {
            target = existing;
        }
        else
        {
            target = [];
            contents.Add((JsonNode)new JsonObject { ["role"] = role, ["parts"] = target });
        }

        foreach (var part in parts)
        {
            target.Add(part);
        }
    }

    private static JsonNode ParseArguments(string? arguments)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            return new JsonObject();
        }

        try
        {
            return JsonNode.Parse(arguments) as JsonObject ?? new JsonObject { ["value"] = JsonNode.Parse(arguments) };
        }
        catch (JsonException ex)
        {
            throw new NotSupportedException("Rewriting to gcp.gemini: tool_calls[].function.arguments is not valid JSON.", ex);
        }
    }

    /// <summary>A tool result as Gemini's <c>response</c> object: a JSON object result as it is, anything else under <c>content</c>.</summary>
    private static JsonObject ResponseObject(string text)
    {
        try
        {
            if (JsonNode.Parse(text) is JsonObject o)
            {
                return o;
            }
        }
        catch (JsonException)
        {
        }

        return new JsonObject { ["content"] = text };
    }

    /// <summary>Copies a JSON schema without the keywords Gemini's OpenAPI-subset schema rejects.</summary>
    internal static JsonNode CleanSchema(JsonNode schema)
    {
        var copy = schema.DeepClone();
        Clean(copy);
        return copy;

        static void Clean(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o:
                    o.Remove("additionalProperties");
                    o.Remove("$schema");
                    o.Remove("strict");
                    foreach (var (_, child) in o)
                    {
                        Clean(child);
                    }

                    break;
                case JsonArray a:
                    foreach (var child in a)
                    {
                        Clean(child);
                    }

                    break;
            }
        }
    }

    private static void SetNumber(JsonObject target, string name, double? value)
    {
        if (value is { } v)
        {
            target[name] = v;
        }
    }
}
