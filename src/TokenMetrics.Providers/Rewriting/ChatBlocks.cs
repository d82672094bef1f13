using System.Collections.Generic;
using System.Text.Json.Nodes;

namespace TokenMetrics.Providers.Rewriting;

/// <summary>The message mapping the block-based vendors (Anthropic Messages, Bedrock Converse) share: system and developer
/// messages become system text blocks, user parts text and image blocks, assistant <c>tool_calls</c> tool-use blocks, <c>tool</c>
/// messages tool-result blocks, and consecutive messages of one role merge (both require alternating roles). Each vendor writes
/// only its block shapes.</summary>
/// <param name="vendor">The vendor, as named in <see cref="NotSupportedException"/> messages.</param>
internal abstract class ChatBlocks(string vendor)
{
    /// <summary>Gets the vendor, as named in error messages.</summary>
    protected string Vendor => vendor;

    /// <summary>Maps <paramref name="chat"/>'s messages; throws <see cref="NotSupportedException"/> naming what cannot be expressed.</summary>
    public (JsonArray System, JsonArray Messages) Map(OpenAIChatRequest chat)
    {
        var system = new JsonArray();
        var messages = new JsonArray();
        var index = 0;
        foreach (var node in chat.Messages)
        {
            if (node is not JsonObject message)
            {
                throw new NotSupportedException($"Rewriting to {vendor}: messages[{index}] is not an object.");
            }

            var role = (string?)message["role"];
            switch (role)
            {
                case "system" or "developer":
                    var text = RewriteChecks.TextOf(message["content"], $"messages[{index}].content", vendor);
                    if (text.Length > 0)
                    {
                        system.Add(TextBlock(text));
                    }

                    break;
                case "user":
                    RewriteChecks.AppendBlocks(messages, "user", UserBlocks(message["content"], index));
                    break;
                case "assistant":
                    RewriteChecks.AppendBlocks(messages, "assistant", AssistantBlocks(message, index));
                    break;
                case "tool":
                    var toolUseId = (string?)message["tool_call_id"] ?? throw new NotSupportedException($"Rewriting to {vendor}: messages[{index}].tool_call_id is missing.");
                    RewriteChecks.AppendBlocks(messages, "user", [ToolResultBlock(toolUseId, RewriteChecks.TextOf(message["content"], $"messages[{index}].content", vendor))]);
                    break;
                default:
                    throw new NotSupportedException($"Rewriting to {vendor}: the message role '{role}' (messages[{index}].role) is not supported.");
            }

            index++;
        }

        return (system, messages);
    }

    /// <summary>A text block.</summary>
    protected abstract JsonNode TextBlock(string text);

    /// <summary>An image block for <paramref name="url"/>; <paramref name="field"/> names the part in error messages.</summary>
    protected abstract JsonNode ImageBlock(string url, string field);

    /// <summary>A block for one of the assistant's tool calls.</summary>
    protected abstract JsonNode ToolUseBlock(string id, string name, JsonNode input);

    /// <summary>A block for a tool's result.</summary>
    protected abstract JsonNode ToolResultBlock(string toolUseId, string text);

    private List<JsonNode> UserBlocks(JsonNode? content, int index)
    {
        var blocks = new List<JsonNode>();
        if (content is not JsonArray parts)
        {
            var text = RewriteChecks.TextOf(content, $"messages[{index}].content", vendor);
            if (text.Length > 0)
            {
                blocks.Add(TextBlock(text));
            }

            return blocks;
        }

        var p = 0;
        foreach (var part in parts)
        {
            var type = (string?)part?["type"];
            if (type == "text")
            {
                blocks.Add(TextBlock((string?)part!["text"] ?? string.Empty));
            }
            else if (type == "image_url")
            {
                var field = $"messages[{index}].content[{p}].image_url.url";
                var url = (string?)part!["image_url"]?["url"] ?? throw new NotSupportedException($"Rewriting to {vendor}: {field} is missing.");
                blocks.Add(ImageBlock(url, field));
            }
            else
            {
                throw new NotSupportedException($"Rewriting to {vendor}: the content part type '{type}' (messages[{index}].content[{p}].type) is not supported.");
            }

            p++;
        }

        return blocks;
    }

    private List<JsonNode> AssistantBlocks(JsonObject message, int index)
    {
        var blocks = new List<JsonNode>();
        var text = RewriteChecks.TextOf(message["content"], $"messages[{index}].content", vendor);
        if (text.Length > 0)
        {
            blocks.Add(TextBlock(text));
        }

        if (message["tool_calls"] is JsonArray calls)
        {
            var c = 0;
            foreach (var call in calls)
            {
                var function = call?["function"];
                var id = (string?)call?["id"] ?? throw new NotSupportedException($"Rewriting to {vendor}: messages[{index}].tool_calls[{c}].id is missing.");
                var name = (string?)function?["name"] ?? throw new NotSupportedException($"Rewriting to {vendor}: messages[{index}].tool_calls[{c}].function.name is missing.");
                var input = RewriteChecks.ParseArguments((string?)function?["arguments"], $"messages[{index}].tool_calls[{c}].function.arguments", vendor);
                blocks.Add(ToolUseBlock(id, name, input));
                c++;
            }
        }

        return blocks;
    }
}
