using System.Collections.Generic;
using System.Linq;
using System.Text.Json;

namespace TokenMetrics.Internal;

/// <summary>Counts chat prompts the way OpenAI bills them, after the OpenAI Cookbook ("How to count tokens with tiktoken"):
/// 3 tokens per message plus its role, content and name (name +1), 3 for priming the reply, and the cookbook's formula for
/// function definitions (7 tokens per function on o200k models, 10 on cl100k ones, 3 per property, 12 at the end).</summary>
/// <remarks>Tool calls in assistant messages, images and non-OpenAI request shapes are not covered by the cookbook; they are
/// counted by the same rules as text (name + arguments + 3 per call, 85 per image: OpenAI's low-detail price).</remarks>
internal sealed class ChatTokenCounter
{
    public const int TokensPerMessage = 3;
    public const int ReplyPriming = 3;
    public const int TokensPerName = 1;
    public const int TokensPerToolCall = 3;
    public const int TokensPerImage = 85;

    private readonly Func<string, int> _count;
    private readonly int _functionInit;

    public ChatTokenCounter(TiktokenEncoding encoding, Func<string, int>? count = null)
    {
        _count = count ?? (text => encoding.CountTokens(text));
        _functionInit = encoding.Name == TiktokenEncoding.Cl100kBaseName ? 10 : 7;
    }

    public long Tokens { get; private set; }

    public int Messages { get; private set; }

    public void AddText(string? text)
    {
        if (!string.IsNullOrEmpty(text))
        {
            Tokens += _count(text);
        }
    }

    public void AddTokens(long tokens) => Tokens += tokens;

    /// <summary>Starts a message: the per-message overhead, its role and optional name.</summary>
    public void BeginMessage(string? role, string? name)
    {
        Messages++;
        Tokens += TokensPerMessage;
        AddText(role);
        if (!string.IsNullOrEmpty(name))
        {
            AddText(name);
            Tokens += TokensPerName;
        }
    }

    public void AddToolCall(string? name, string? arguments)
    {
        Tokens += TokensPerToolCall;
        AddText(name);
        AddText(arguments);
    }

    /// <summary>Ends the prompt: the reply priming, when there was at least one message.</summary>
    public void End()
    {
        if (Messages > 0)
        {
            Tokens += ReplyPriming;
        }
    }

    /// <summary>The cookbook's count of function definitions (one call for all of them, which adds the closing 12).</summary>
    public void AddFunctions(IEnumerable<(string? Name, string? Description, JsonElement Parameters)> functions)
    {
        var any = false;
        foreach (var (name, description, parameters) in functions)
        {
            any = true;
            Tokens += _functionInit;
            AddText($"{name}:{TrimPeriod(description)}");
            if (parameters.ValueKind == JsonValueKind.Object
                && parameters.TryGetProperty("properties", out var properties)
                && properties.ValueKind == JsonValueKind.Object
                && properties.EnumerateObject().Any())
            {
                Tokens += 3;
                foreach (var property in properties.EnumerateObject())
                {
                    Tokens += 3;
                    var type = string.Empty;
                    var propertyDescription = string.Empty;
                    if (property.Value.ValueKind == JsonValueKind.Object)
                    {
                        type = property.Value.TryGetProperty("type", out var t) ? (t.ValueKind == JsonValueKind.String ? t.GetString() : t.GetRawText()) ?? string.Empty : string.Empty;
                        propertyDescription = property.Value.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() ?? string.Empty : string.Empty;
                        if (property.Value.TryGetProperty("enum", out var values) && values.ValueKind == JsonValueKind.Array)
                        {
                            Tokens -= 3;
                            foreach (var value in values.EnumerateArray())
                            {
                                Tokens += 3;
                                AddText(value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText());
                            }
                        }
                    }

                    AddText($"{property.Name}:{type}:{TrimPeriod(propertyDescription)}");
                }
            }
        }

        if (any)
        {
            Tokens += 12;
        }
    }

    private static string? TrimPeriod(string? text) => text is not null && text.EndsWith('.') ? text[..^1] : text;
}
