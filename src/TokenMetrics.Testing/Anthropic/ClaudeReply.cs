using System.Globalization;
using System.Text;
using System.Text.Json;

namespace TokenMetrics.Testing.Internal;

/// <summary>One deterministic Claude answer, shared by the Anthropic, Vertex AI and Bedrock mocks: the text chunks, the tool
/// calls (built from the request's tool schemas when the scenario asks) and the token counts.</summary>
/// <remarks>Token semantics follow Anthropic and Bedrock: <see cref="InputTokens"/> excludes the cache;
/// <see cref="CacheReadTokens"/> (scenario <c>CachedTokens</c>) and <see cref="CacheWriteTokens"/> (header
/// <c>x-mock-cache-write-tokens</c>) are reported beside it.</remarks>
internal sealed class ClaudeReply
{
    /// <summary>The vendor header for cache-write tokens (only the Anthropic-family mocks read it).</summary>
    public const string CacheWriteHeader = "x-mock-cache-write-tokens";

    private readonly byte[] _hash;

    public ClaudeReply(MockRequestContext context, string model, IReadOnlyList<string> promptTexts, IReadOnlyList<(string Name, JsonElement Schema)> tools, string promptKey)
    {
        Scenario = context.Scenario;
        Model = model;
        ResponseModel = Scenario.ResponseModel ?? model;
        _hash = Deterministic.Hash(model + "\n" + promptKey);
        InputTokens = Scenario.PromptTokens ?? OpenAIRequestInfo.MessageTokens(promptTexts);
        CacheReadTokens = Scenario.CachedTokens;
        CacheWriteTokens = int.TryParse(context.Http.Request.Headers[CacheWriteHeader].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var w) ? w : 0;
        if (Scenario.ToolCalls)
        {
            var i = 0;
            foreach (var (name, schema) in tools)
            {
                var arguments = BuildArguments(schema);
                ToolCalls.Add((SubId("toolu_", i++), name, arguments, global::TokenMetrics.Testing.Internal.TextChunks.SplitEven(arguments, Scenario.Source.ChunkCount ?? 4)));
            }
        }
    }

    public ResolvedScenario Scenario { get; }

    public string Model { get; }

    public string ResponseModel { get; }

    public int InputTokens { get; }

    public int CacheReadTokens { get; }

    public int CacheWriteTokens { get; }

    public List<(string Id, string Name, string Arguments, IReadOnlyList<string> Fragments)> ToolCalls { get; } = [];

    /// <summary>Gets the text chunks (none when the answer is tool calls).</summary>
    public IReadOnlyList<string> TextChunks => ToolCalls.Count > 0 ? [] : Scenario.Chunks;

    public string Text => string.Concat(TextChunks);

    public string StopReason => ToolCalls.Count > 0 ? "tool_use" : "end_turn";

    /// <summary>Gets the output tokens of the whole answer (one per text chunk and tool fragment, unless the scenario says).</summary>
    public int OutputTokens => Scenario.CompletionTokensFor(TextChunks.Count + ToolCalls.Sum(c => c.Fragments.Count));

    public string Id(string prefix) => Scenario.ResponseId ?? Deterministic.Id(prefix, _hash);

    public string SubId(string prefix, int index) =>
        Deterministic.Id(prefix, Deterministic.Hash(Convert.ToHexString(_hash) + "/" + prefix + index.ToString(CultureInfo.InvariantCulture)));

    /// <summary>Deterministic arguments from a JSON schema: each property gets a value of its type.</summary>
    public static string BuildArguments(JsonElement schema)
    {
        var builder = new StringBuilder("{");
        if (schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
        {
            var first = true;
            foreach (var property in properties.EnumerateObject())
            {
                if (!first)
                {
                    builder.Append(',');
                }

                first = false;
                var type = property.Value.ValueKind == JsonValueKind.Object && property.Value.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : "string";
                builder.Append(Encoding.UTF8.GetString(JsonBytes.Quote(property.Name))).Append(':');
                builder.Append(type switch
                {
                    "integer" => "1",
                    "number" => "1.5",
                    "boolean" => "true",
                    "array" => "[]",
                    "object" => "{}",
                    _ => Encoding.UTF8.GetString(JsonBytes.Quote("mock-" + property.Name.ToLower(CultureInfo.InvariantCulture))),
                });
            }
        }

        return builder.Append('}').ToString();
    }

    /// <summary>The text of an Anthropic or Bedrock content value: a string, or the text of each block (tool results included).</summary>
    public static string ContentText(JsonElement content)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                return content.GetString() ?? string.Empty;
            case JsonValueKind.Array:
                var builder = new StringBuilder();
                foreach (var block in content.EnumerateArray())
                {
                    if (block.ValueKind != JsonValueKind.Object)
                    {
                        continue;
                    }

                    if (block.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                    {
                        builder.Append(text.GetString());
                    }
                    else if (block.TryGetProperty("content", out var inner))
                    {
                        builder.Append(ContentText(inner));
                    }
                    else if (block.TryGetProperty("toolResult", out var result) && result.TryGetProperty("content", out var resultContent))
                    {
                        builder.Append(ContentText(resultContent));
                    }
                }

                return builder.ToString();
            default:
                return string.Empty;
        }
    }
}
