using System.Collections.Generic;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace TokenMetrics;

/// <summary>A fast approximation: about four characters per token for Latin script, one token per CJK character, plus
/// OpenAI's per-message overheads. Cheaper than <see cref="TiktokenTokenEstimator"/> (the default) and cruder: opt in with
/// <c>UseEstimator&lt;HeuristicTokenEstimator&gt;()</c> when estimates need not be exact.</summary>
public sealed class HeuristicTokenEstimator : ITokenEstimator
{
    /// <summary>The method name recorded with its estimates.</summary>
    public const string MethodName = "heuristic";

    private const int TokensPerMessage = 3;
    private const int ReplyPriming = 3;

    /// <summary>Gets the shared instance.</summary>
    public static HeuristicTokenEstimator Instance { get; } = new();

    /// <inheritdoc/>
    public TokenEstimate CountText(string text, string? model) => new(Count(text), MethodName);

    /// <inheritdoc/>
    public TokenEstimate CountRequest(ReadOnlySpan<byte> requestJson, string? model)
    {
        long tokens = 0;
        var messages = 0;
        try
        {
            var reader = new Utf8JsonReader(requestJson, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
            string? lastProperty = null;
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        lastProperty = reader.GetString();
                        if (lastProperty is "role")
                        {
                            messages++;
                        }

                        break;
                    case JsonTokenType.String when lastProperty is not null && IsTextProperty(lastProperty):
                        tokens += Count(reader.GetString());
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // Partial counts are still a better estimate than none.
        }

        if (messages > 0)
        {
            tokens += (messages * TokensPerMessage) + ReplyPriming;
        }

        return new TokenEstimate(tokens, MethodName);
    }

    /// <inheritdoc/>
    public TokenEstimate CountMessages(IEnumerable<ChatMessage> messages, ChatOptions? options, string? model)
    {
        ArgumentNullException.ThrowIfNull(messages);
        long tokens = ReplyPriming;
        foreach (var message in messages)
        {
            tokens += TokensPerMessage + Count(message.Role.Value) + Count(message.AuthorName);
            foreach (var content in message.Contents)
            {
                tokens += content switch
                {
                    TextContent t => Count(t.Text),
                    TextReasoningContent r => Count(r.Text),
                    FunctionCallContent f => Count(f.Name) + Count(f.Arguments is null ? null : JsonSerializer.Serialize(f.Arguments, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, object?>)))),
                    FunctionResultContent r => Count(r.Result?.ToString()),
                    _ => 0,
                };
            }
        }

        if (options?.Tools is { Count: > 0 } tools)
        {
            foreach (var tool in tools)
            {
                tokens += Count(tool.Name) + Count(tool.Description) + 8;
            }
        }

        return new TokenEstimate(tokens, MethodName);
    }

    /// <summary>Counts tokens in <paramref name="text"/> by script class.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The approximate count.</returns>
    internal static long Count(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }

        long latin = 0;
        long wide = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.Value < 0x2E80)
            {
                latin++;
            }
            else
            {
                wide++;
            }
        }

        return ((latin + 3) / 4) + wide;
    }

    private static bool IsTextProperty(string name) =>
        name is "content" or "text" or "prompt" or "input" or "system" or "arguments" or "description" or "name" or "instructions";
}
