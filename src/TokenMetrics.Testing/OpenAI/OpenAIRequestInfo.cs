using System.Text;
using System.Text.Json;

namespace TokenMetrics.Testing.Internal;

/// <summary>What the OpenAI endpoints share: model, streaming flags, prompt size and deterministic ids.</summary>
internal sealed class OpenAIRequestInfo
{
    private readonly byte[] _hash;

    private OpenAIRequestInfo(MockRequestContext context, JsonElement body, string promptKey, int derivedPromptTokens)
    {
        Body = body;
        Model = context.Model ?? "gpt-4o-mini";
        ResponseModel = context.Scenario.ResponseModel ?? Model;
        Stream = body.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True;
        IncludeUsage = body.TryGetProperty("stream_options", out var options)
            && options.ValueKind == JsonValueKind.Object
            && options.TryGetProperty("include_usage", out var include)
            && include.ValueKind == JsonValueKind.True;
        _hash = Deterministic.Hash(Model + "\n" + promptKey);
        PromptTokens = context.Scenario.PromptTokens ?? derivedPromptTokens;
        Created = context.Scenario.Created ?? Deterministic.Created(_hash);
        Scenario = context.Scenario;
    }

    public JsonElement Body { get; }

    public string Model { get; }

    public string ResponseModel { get; }

    public bool Stream { get; }

    /// <summary>Gets a value indicating whether the request had <c>stream_options.include_usage: true</c>.</summary>
    public bool IncludeUsage { get; }

    public int PromptTokens { get; }

    public long Created { get; }

    public ResolvedScenario Scenario { get; }

    /// <summary>Reads the request; the prompt key is the raw JSON of the prompt members (never <c>stream</c> or <c>stream_options</c>).</summary>
    public static OpenAIRequestInfo Read(MockRequestContext context, string[] promptMembers, Func<JsonElement, int> countPromptTokens)
    {
        if (context.Json is not { ValueKind: JsonValueKind.Object } body)
        {
            throw new MockRequestException("The request body must be a JSON object.");
        }

        var key = new StringBuilder();
        foreach (var member in promptMembers)
        {
            if (body.TryGetProperty(member, out var value))
            {
                key.Append(member).Append('=').Append(value.GetRawText()).Append('\n');
            }
        }

        return new OpenAIRequestInfo(context, body, key.ToString(), countPromptTokens(body));
    }

    public string Id(string prefix) => Scenario.ResponseId ?? Deterministic.Id(prefix, _hash);

    /// <summary>An id for a sub-item (message, tool call), stable per request.</summary>
    public string SubId(string prefix, int index) =>
        Deterministic.Id(prefix, Deterministic.Hash(Convert.ToHexString(_hash) + "/" + prefix + index.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary><c>ceil(bytes / 4)</c>: the rough tokens of a text.</summary>
    public static int TextTokens(string? text) => text is null ? 0 : (Encoding.UTF8.GetByteCount(text) + 3) / 4;

    /// <summary>The text of a message <c>content</c>: a string, or the <c>text</c> of each part of an array.</summary>
    public static string ContentText(JsonElement content)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                return content.GetString() ?? string.Empty;
            case JsonValueKind.Array:
                var builder = new StringBuilder();
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.String)
                    {
                        builder.Append(part.GetString());
                    }
                    else if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                    {
                        builder.Append(text.GetString());
                    }
                }

                return builder.ToString();
            default:
                return string.Empty;
        }
    }

    /// <summary>Prompt tokens of a message list: <c>ceil(bytes / 4) + 3</c> per message, plus 3.</summary>
    public static int MessageTokens(IEnumerable<string> messageTexts)
    {
        var total = 3;
        foreach (var text in messageTexts)
        {
            total += TextTokens(text) + 3;
        }

        return total;
    }

    /// <summary>Writes the chat-style usage object (also used by the legacy completions endpoint when <paramref name="details"/> is false).</summary>
    public void WriteUsage(Utf8JsonWriter w, int completionTokens, bool details = true)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", PromptTokens);
        w.WriteNumber("completion_tokens", completionTokens);
        w.WriteNumber("total_tokens", (long)PromptTokens + completionTokens);
        if (details)
        {
            w.WriteStartObject("prompt_tokens_details");
            w.WriteNumber("cached_tokens", Scenario.CachedTokens);
            w.WriteNumber("audio_tokens", 0);
            w.WriteEndObject();
            w.WriteStartObject("completion_tokens_details");
            w.WriteNumber("reasoning_tokens", Scenario.ReasoningTokens);
            w.WriteNumber("audio_tokens", 0);
            w.WriteNumber("accepted_prediction_tokens", 0);
            w.WriteNumber("rejected_prediction_tokens", 0);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }
}
