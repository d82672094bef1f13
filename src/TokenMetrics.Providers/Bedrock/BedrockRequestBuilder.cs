using System.Collections.Generic;
using System.Text.Json.Nodes;
using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Providers.Bedrock;

/// <summary>Turns an OpenAI Chat Completions request into a Bedrock Converse / ConverseStream request body.</summary>
/// <remarks>
/// <para>System and developer messages become <c>system</c> text blocks; user parts become <c>text</c> and <c>image</c> blocks
/// (<c>data:</c> URLs only: Converse takes image bytes or S3 locations, not http URLs); assistant <c>tool_calls</c> become
/// <c>toolUse</c> blocks and <c>tool</c> messages <c>toolResult</c> blocks; consecutive messages of one role are merged.
/// <c>max_tokens</c>, <c>temperature</c>, <c>top_p</c> and <c>stop</c> go to <c>inferenceConfig</c>; tools to <c>toolConfig</c>.</para>
/// <para>Anything else fails with <see cref="NotSupportedException"/> naming the field.</para>
/// </remarks>
internal static class BedrockRequestBuilder
{
    private const string Vendor = "aws.bedrock";

    private static readonly BedrockBlocks Blocks = new();

    private static readonly HashSet<string> Supported = RewriteChecks.SupportedFields("tools", "tool_choice", "n", "response_format");

    public static byte[] Build(OpenAIChatRequest chat)
    {
        RewriteChecks.EnsureExpressible(chat, Supported, Vendor);
        var (system, messages) = Blocks.Map(chat);
        var body = new JsonObject { ["messages"] = messages };
        if (system.Count > 0)
        {
            body["system"] = system;
        }

        var inference = new JsonObject();
        if (chat.MaxTokens() is { } max)
        {
            inference["maxTokens"] = max;
        }

        if (chat.Number("temperature") is { } temperature)
        {
            inference["temperature"] = temperature;
        }

        if (chat.Number("top_p") is { } topP)
        {
            inference["topP"] = topP;
        }

        if (chat.StopSequences() is { } stop)
        {
            inference["stopSequences"] = stop;
        }

        if (inference.Count > 0)
        {
            body["inferenceConfig"] = inference;
        }

        AddTools(chat, body);
        return JsonNodes.ToUtf8(body);
    }

    private static void AddTools(OpenAIChatRequest chat, JsonObject body)
    {
        var choiceNode = chat.Body["tool_choice"];
        if (choiceNode is JsonValue none && (string?)none == "none")
        {
            throw new NotSupportedException($"Rewriting to {Vendor}: the request field 'tool_choice' (none) is not supported by Converse.");
        }

        if (chat.Body["tools"] is not JsonArray tools || tools.Count == 0)
        {
            return;
        }

        var list = new JsonArray();
        var i = 0;
        foreach (var tool in tools)
        {
            var (spec, schema) = RewriteChecks.FunctionSpec(tool, i++, Vendor);
            spec["inputSchema"] = new JsonObject { ["json"] = schema };
            list.Add((JsonNode)new JsonObject { ["toolSpec"] = spec });
        }

        var config = new JsonObject { ["tools"] = list };
        JsonObject? choice = choiceNode switch
        {
            null => null,
            JsonValue v when (string?)v == "auto" => new JsonObject { ["auto"] = new JsonObject() },
            JsonValue v when (string?)v == "required" => new JsonObject { ["any"] = new JsonObject() },
            JsonObject o when (string?)o["function"]?["name"] is { } name => new JsonObject { ["tool"] = new JsonObject { ["name"] = name } },
            _ => throw new NotSupportedException($"Rewriting to {Vendor}: this 'tool_choice' value is not supported."),
        };
        if (choice is not null)
        {
            config["toolChoice"] = choice;
        }

        body["toolConfig"] = config;
    }

    /// <summary>Converse's block shapes.</summary>
    private sealed class BedrockBlocks() : ChatBlocks(BedrockRequestBuilder.Vendor)
    {
        protected override JsonNode TextBlock(string text) => new JsonObject { ["text"] = text };

        protected override JsonNode ImageBlock(string url, string field)
        {
            if (!MediaUrls.TryParseDataUrl(url, out var mediaType, out var data) || !mediaType.StartsWith("image/", StringComparison.OrdinalIgnoreCase))
            {
                throw new NotSupportedException($"Rewriting to {Vendor}: {field} must be a data:image/...;base64 URL (Converse takes image bytes, not http URLs).");
            }

            var format = mediaType[6..].ToLowerInvariant() switch
            {
                "jpg" => "jpeg",
                var f => f,
            };
            return new JsonObject { ["image"] = new JsonObject { ["format"] = format, ["source"] = new JsonObject { ["bytes"] = data } } };
        }

        protected override JsonNode ToolUseBlock(string id, string name, JsonNode input) =>
            new JsonObject { ["toolUse"] = new JsonObject { ["toolUseId"] = id, ["name"] = name, ["input"] = input } };

        protected override JsonNode ToolResultBlock(string toolUseId, string text) =>
            new JsonObject { ["toolResult"] = new JsonObject { ["toolUseId"] = toolUseId, ["content"] = new JsonArray(new JsonObject { ["text"] = text }) } };
    }
}
