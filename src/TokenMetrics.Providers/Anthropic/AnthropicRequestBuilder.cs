using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Providers.Anthropic;

/// <summary>Turns an OpenAI Chat Completions request into an Anthropic Messages request.</summary>
/// <remarks>
/// <para>System and developer messages become the top-level <c>system</c>; user content parts become text and image blocks
/// (<c>data:</c> URLs as base64 sources, http(s) URLs as url sources); assistant <c>tool_calls</c> become <c>tool_use</c> blocks and
/// <c>tool</c> messages <c>tool_result</c> blocks; consecutive messages of one role are merged (Anthropic requires alternation).
/// <c>max_tokens</c> is required by Anthropic: the app's, else <c>Settings["DefaultMaxTokens"]</c>, else 4096.</para>
/// <para>Anything else fails with <see cref="NotSupportedException"/> naming the field: never a silently different request.</para>
/// </remarks>
internal static class AnthropicRequestBuilder
{
    private const string Vendor = "anthropic";

    private static readonly HashSet<string> Supported = new(StringComparer.Ordinal)
    {
        "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "stream", "stream_options",
        "tools", "tool_choice", "parallel_tool_calls", "user", "n", "response_format",
    };

    public static byte[] Build(OpenAIChatRequest chat, TokenMetricsRewriteOptions options)
    {
        chat.EnsureOnly(Supported, Vendor);
        RewriteChecks.EnsureSingleChoice(chat, Vendor);
        RewriteChecks.EnsureTextResponseFormat(chat, Vendor);
        var body = new JsonObject
        {
            ["model"] = chat.RoutedModel,
            ["max_tokens"] = chat.MaxTokens() ?? DefaultMaxTokens(options),
        };

        var system = new JsonArray();
        var messages = new JsonArray();
        var index = 0;
        foreach (var node in chat.Messages)
        {
            if (node is not JsonObject message)
            {
                throw new NotSupportedException($"Rewriting to {Vendor}: messages[{index}] is not an object.");
            }

            var role = (string?)message["role"];
            switch (role)
            {
                case "system" or "developer":
                    var text = RewriteChecks.TextOf(message["content"], $"messages[{index}].content", Vendor);
                    if (text.Length > 0)
                    {
                        system.Add((JsonNode)new JsonObject { ["type"] = "text", ["text"] = text });
                    }

                    break;
                case "user":
                    RewriteChecks.AppendBlocks(messages, "user", UserBlocks(message["content"], index));
                    break;
                case "assistant":
                    RewriteChecks.AppendBlocks(messages, "assistant", AssistantBlocks(message, index));
                    break;
                case "tool":
                    RewriteChecks.AppendBlocks(messages, "user", [new JsonObject
                    {
                        ["type"] = "tool_result",
                        ["tool_use_id"] = (string?)message["tool_call_id"] ?? throw new NotSupportedException($"Rewriting to {Vendor}: messages[{index}].tool_call_id is missing."),
                        ["content"] = RewriteChecks.TextOf(message["content"], $"messages[{index}].content", Vendor),
                    }]);
                    break;
                default:
                    throw new NotSupportedException($"Rewriting to {Vendor}: the message role '{role}' (messages[{index}].role) is not supported.");
            }

            index++;
        }

        if (system.Count > 0)
        {
            body["system"] = system;
        }

        body["messages"] = messages;
        if (chat.Number("temperature") is { } temperature)
        {
            body["temperature"] = temperature;
        }

        if (chat.Number("top_p") is { } topP)
        {
            body["top_p"] = topP;
        }

        var stop = chat.Stop();
        if (stop.Count > 0)
        {
            var sequences = new JsonArray();
            foreach (var s in stop)
            {
                sequences.Add((JsonNode?)JsonValue.Create(s));
            }

            body["stop_sequences"] = sequences;
        }

        if (chat.Stream)
        {
            body["stream"] = true;
        }

        AddTools(chat, body);
        if ((string?)chat.Body["user"] is { Length: > 0 } user)
        {
            body["metadata"] = new JsonObject { ["user_id"] = user };
        }

        return JsonNodes.ToUtf8(body);
    }

    internal static int DefaultMaxTokens(TokenMetricsRewriteOptions options) =>
        options.Settings.TryGetValue("DefaultMaxTokens", out var text) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 4096;

    private static List<JsonNode> UserBlocks(JsonNode? content, int index)
    {
        var blocks = new List<JsonNode>();
        switch (content)
        {
            case JsonValue v when v.TryGetValue<string>(out var text):
                if (text.Length > 0)
                {
                    blocks.Add((JsonNode)new JsonObject { ["type"] = "text", ["text"] = text });
                }

                break;
            case JsonArray parts:
                var p = 0;
                foreach (var part in parts)
                {
                    var type = (string?)part?["type"];
                    if (type == "text")
                    {
                        blocks.Add((JsonNode)new JsonObject { ["type"] = "text", ["text"] = (string?)part!["text"] ?? string.Empty });
                    }
                    else if (type == "image_url")
                    {
                        var url = (string?)part!["image_url"]?["url"] ?? throw new NotSupportedException($"Rewriting to {Vendor}: messages[{index}].content[{p}].image_url.url is missing.");
                        blocks.Add((JsonNode)new JsonObject { ["type"] = "image", ["source"] = ImageSource(url, $"messages[{index}].content[{p}].image_url.url") });
                    }
                    else
                    {
                        throw new NotSupportedException($"Rewriting to {Vendor}: the content part type '{type}' (messages[{index}].content[{p}].type) is not supported.");
                    }

                    p++;
                }

                break;
            case null:
                break;
            default:
                throw new NotSupportedException($"Rewriting to {Vendor}: messages[{index}].content has an unsupported shape.");
        }

        return blocks;
    }

    private static JsonObject ImageSource(string url, string field)
    {
        if (MediaUrls.TryParseDataUrl(url, out var mediaType, out var data))
        {
            return new JsonObject { ["type"] = "base64", ["media_type"] = mediaType, ["data"] = data };
        }

        if (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            return new JsonObject { ["type"] = "url", ["url"] = url };
        }

        throw new NotSupportedException($"Rewriting to {Vendor}: {field} must be a data: URL with base64 data or an http(s) URL.");
    }

    private static List<JsonNode> AssistantBlocks(JsonObject message, int index)
    {
        var blocks = new List<JsonNode>();
        var text = message["content"] is null ? string.Empty : RewriteChecks.TextOf(message["content"], $"messages[{index}].content", Vendor);
        if (text.Length > 0)
        {
            blocks.Add((JsonNode)new JsonObject { ["type"] = "text", ["text"] = text });
        }

        if (message["tool_calls"] is JsonArray calls)
        {
            var c = 0;
            foreach (var call in calls)
            {
                var function = call?["function"];
                blocks.Add((JsonNode)new JsonObject
                {
                    ["type"] = "tool_use",
                    ["id"] = (string?)call?["id"] ?? throw new NotSupportedException($"Rewriting to {Vendor}: messages[{index}].tool_calls[{c}].id is missing."),
                    ["name"] = (string?)function?["name"] ?? throw new NotSupportedException($"Rewriting to {Vendor}: messages[{index}].tool_calls[{c}].function.name is missing."),
                    ["input"] = RewriteChecks.ParseArguments((string?)function?["arguments"], $"messages[{index}].tool_calls[{c}].function.arguments", Vendor),
                });
                c++;
            }
        }

        return blocks;
    }

    private static void AddTools(OpenAIChatRequest chat, JsonObject body)
    {
        if (chat.Body["tools"] is JsonArray tools && tools.Count > 0)
        {
            var list = new JsonArray();
            var i = 0;
            foreach (var tool in tools)
            {
                var function = RewriteChecks.Function(tool, i++, Vendor);
                var spec = new JsonObject { ["name"] = (string?)function["name"] };
                if ((string?)function["description"] is { } description)
                {
                    spec["description"] = description;
                }

                spec["input_schema"] = function["parameters"]?.DeepClone() ?? new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
                list.Add((JsonNode)spec);
            }

            body["tools"] = list;
        }

        JsonObject? choice = chat.Body["tool_choice"] switch
        {
            null => null,
            JsonValue v when (string?)v == "auto" => new JsonObject { ["type"] = "auto" },
            JsonValue v when (string?)v == "none" => new JsonObject { ["type"] = "none" },
            JsonValue v when (string?)v == "required" => new JsonObject { ["type"] = "any" },
            JsonObject o when (string?)o["function"]?["name"] is { } name => new JsonObject { ["type"] = "tool", ["name"] = name },
            _ => throw new NotSupportedException($"Rewriting to {Vendor}: this 'tool_choice' value is not supported."),
        };
        if (chat.Body["parallel_tool_calls"] is JsonValue p && p.TryGetValue<bool>(out var parallel) && !parallel)
        {
            choice ??= new JsonObject { ["type"] = "auto" };
            choice["disable_parallel_tool_use"] = true;
        }

        if (choice is not null)
        {
            body["tool_choice"] = choice;
        }
    }
}

/// <summary>Checks and conversions shared by the Anthropic-family rewriters.</summary>
internal static class RewriteChecks
{
    public static void EnsureSingleChoice(OpenAIChatRequest chat, string vendor)
    {
        if (chat.Number("n") is { } n && n != 1)
        {
            throw new NotSupportedException($"Rewriting to {vendor}: the request field 'n' must be 1.");
        }
    }

    public static void EnsureTextResponseFormat(OpenAIChatRequest chat, string vendor)
    {
        if (chat.Body["response_format"] is JsonObject format && (string?)format["type"] is { } type && type != "text")
        {
            throw new NotSupportedException($"Rewriting to {vendor}: the request field 'response_format' ({type}) is not supported; only 'text' can be expressed.");
        }
    }

    /// <summary>The text of a content value: a string, or the concatenated <c>text</c> parts of an array.</summary>
    public static string TextOf(JsonNode? content, string field, string vendor)
    {
        switch (content)
        {
            case null:
                return string.Empty;
            case JsonValue v when v.TryGetValue<string>(out var s):
                return s;
            case JsonArray parts:
                var sb = new StringBuilder();
                foreach (var part in parts)
                {
                    if ((string?)part?["type"] != "text")
                    {
                        throw new NotSupportedException($"Rewriting to {vendor}: only text parts are supported in {field}.");
                    }

                    sb.Append((string?)part!["text"]);
                }

                return sb.ToString();
            default:
                throw new NotSupportedException($"Rewriting to {vendor}: {field} has an unsupported shape.");
        }
    }

    public static JsonNode ParseArguments(string? arguments, string field, string vendor)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            return new JsonObject();
        }

        try
        {
            return JsonNode.Parse(arguments) as JsonObject ?? throw new NotSupportedException($"Rewriting to {vendor}: {field} must be a JSON object.");
        }
        catch (JsonException ex)
        {
            throw new NotSupportedException($"Rewriting to {vendor}: {field} is not valid JSON.", ex);
        }
    }

    public static JsonObject Function(JsonNode? tool, int index, string vendor)
    {
        if ((string?)tool?["type"] != "function" || tool!["function"] is not JsonObject function || (string?)function["name"] is null)
        {
            throw new NotSupportedException($"Rewriting to {vendor}: tools[{index}] must be a function tool with a name.");
        }

        return function;
    }

    /// <summary>Appends content blocks to the conversation, merging into the last message when it has the same role (both
    /// Anthropic and Converse require alternating roles).</summary>
    public static void AppendBlocks(JsonArray messages, string role, List<JsonNode> blocks)
    {
        if (blocks.Count == 0)
        {
            return;
        }

        if (messages.Count > 0 && messages[^1] is JsonObject last && (string?)last["role"] == role && last["content"] is JsonArray content)
        {
            foreach (var block in blocks)
            {
                content.Add(block);
            }

            return;
        }

        messages.Add((JsonNode)new JsonObject { ["role"] = role, ["content"] = new JsonArray([.. blocks]) });
    }
}
