using System.Collections.Generic;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TokenMetrics.Providers.Rewriting;

/// <summary>Checks and conversions shared by the Anthropic-family rewriters.</summary>
internal static class RewriteChecks
{
    /// <summary>The request fields every rewriter can express (model, messages, streaming, sampling, length, stop), plus <paramref name="more"/>.</summary>
    public static HashSet<string> SupportedFields(params string[] more) =>
        new(["model", "messages", "stream", "stream_options", "temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", .. more], StringComparer.Ordinal);

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

    /// <summary>Checks the request fields, <c>n</c> and <c>response_format</c> for a vendor that can express neither several choices nor a structured answer.</summary>
    public static void EnsureExpressible(OpenAIChatRequest chat, ISet<string> supported, string vendor)
    {
        chat.EnsureOnly(supported, vendor);
        EnsureSingleChoice(chat, vendor);
        EnsureTextResponseFormat(chat, vendor);
    }

    /// <summary>A function tool's <c>name</c> and <c>description</c> as a new object, and a copy of its <c>parameters</c> schema
    /// (an empty object schema when it has none).</summary>
    public static (JsonObject Spec, JsonNode Schema) FunctionSpec(JsonNode? tool, int index, string vendor)
    {
        var function = Function(tool, index, vendor);
        var spec = new JsonObject { ["name"] = (string?)function["name"] };
        if ((string?)function["description"] is { } description)
        {
            spec["description"] = description;
        }

        return (spec, function["parameters"]?.DeepClone() ?? new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() });
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
