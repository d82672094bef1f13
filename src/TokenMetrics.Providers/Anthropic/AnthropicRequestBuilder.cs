using System.Collections.Generic;
using System.Globalization;
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

    private static readonly AnthropicBlocks Blocks = new();

    private static readonly HashSet<string> Supported = RewriteChecks.SupportedFields("tools", "tool_choice", "parallel_tool_calls", "user", "n", "response_format");

    public static byte[] Build(OpenAIChatRequest chat, TokenMetricsRewriteOptions options)
    {
        RewriteChecks.EnsureExpressible(chat, Supported, Vendor);
        var body = new JsonObject
        {
            ["model"] = chat.RoutedModel,
            ["max_tokens"] = chat.MaxTokens() ?? DefaultMaxTokens(options),
        };

        var (system, messages) = Blocks.Map(chat);
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

        if (chat.StopSequences() is { } stop)
        {
            body["stop_sequences"] = stop;
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

    private static void AddTools(OpenAIChatRequest chat, JsonObject body)
    {
        if (chat.Body["tools"] is JsonArray tools && tools.Count > 0)
        {
            var list = new JsonArray();
            var i = 0;
            foreach (var tool in tools)
            {
                var (spec, schema) = RewriteChecks.FunctionSpec(tool, i++, Vendor);
                spec["input_schema"] = schema;
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

    /// <summary>Anthropic's block shapes.</summary>
    private sealed class AnthropicBlocks() : ChatBlocks(AnthropicRequestBuilder.Vendor)
    {
        protected override JsonNode TextBlock(string text) => new JsonObject { ["type"] = "text", ["text"] = text };

        protected override JsonNode ImageBlock(string url, string field) => new JsonObject { ["type"] = "image", ["source"] = ImageSource(url, field) };

        protected override JsonNode ToolUseBlock(string id, string name, JsonNode input) =>
            new JsonObject { ["type"] = "tool_use", ["id"] = id, ["name"] = name, ["input"] = input };

        protected override JsonNode ToolResultBlock(string toolUseId, string text) =>
            new JsonObject { ["type"] = "tool_result", ["tool_use_id"] = toolUseId, ["content"] = text };
    }
}
