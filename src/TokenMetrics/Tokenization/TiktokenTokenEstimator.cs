using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using Microsoft.Extensions.AI;
using TokenMetrics.Internal;

namespace TokenMetrics;

/// <summary>Estimates token usage with the exact tiktoken encodings: the model's own encoding for OpenAI models, and
/// <c>o200k_base</c> as an approximation for any other vendor's model (the method then reads <c>o200k_base~approx</c>).</summary>
/// <remarks>Thread-safe and never throws: malformed request JSON gives a best-effort count of the strings that could be read.
/// Chat prompts are counted the way OpenAI bills them (see the OpenAI Cookbook); request shapes of Anthropic and Gemini are
/// counted with the same rules, which is an approximation.</remarks>
public sealed class TiktokenTokenEstimator : ITokenEstimator
{
    /// <summary>The suffix of <see cref="TokenEstimate.Method"/> for models whose vendor does not use this encoding.</summary>
    public const string ApproximationSuffix = "~approx";

    // Arguments go over the wire as compact JSON; the library defaults indent.
    private static readonly JsonSerializerOptions CompactJson = CreateCompactJson();

    private readonly Func<TiktokenEncoding, Func<string, int>?>? _counterFor;

    /// <summary>Initializes the estimator with TokenMetrics' own tokenizer.</summary>
    public TiktokenTokenEstimator()
    {
    }

    /// <summary>Initializes the estimator with another tokenizer for some encodings (the adapters, for example
    /// TokenMetrics.Estimation.MicrosoftML); the model-to-encoding map and the chat billing formula stay the same.</summary>
    /// <param name="counterFor">Gives the text counter for an encoding, or <see langword="null"/> to use ours.</param>
    internal TiktokenTokenEstimator(Func<TiktokenEncoding, Func<string, int>?> counterFor) => _counterFor = counterFor;

    /// <summary>Gets the shared instance.</summary>
    public static TiktokenTokenEstimator Instance { get; } = new();

    /// <inheritdoc/>
    public TokenEstimate CountText(string text, string? model)
    {
        var (encoding, method) = Resolve(model);
        try
        {
            return new TokenEstimate(string.IsNullOrEmpty(text) ? 0 : CounterFor(encoding)(text), method);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return HeuristicTokenEstimator.Instance.CountText(text, model);
        }
    }

    /// <inheritdoc/>
    public TokenEstimate CountRequest(ReadOnlySpan<byte> requestJson, string? model)
    {
        model ??= ReadModel(requestJson);
        var (encoding, method) = Resolve(model);
        var counter = new ChatTokenCounter(encoding, CounterFor(encoding));
        try
        {
            using var document = JsonDocument.Parse(requestJson.ToArray(), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            RequestJsonCounter.Count(document.RootElement, counter, model);
            return new TokenEstimate(counter.Tokens, method);
        }
        catch (JsonException)
        {
            return new TokenEstimate(RequestJsonCounter.CountReadableStrings(requestJson, CounterFor(encoding)), method);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new TokenEstimate(counter.Tokens, method);
        }
    }

    /// <inheritdoc/>
    public TokenEstimate CountMessages(IEnumerable<ChatMessage> messages, ChatOptions? options, string? model)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var (encoding, method) = Resolve(model ?? options?.ModelId);
        var counter = new ChatTokenCounter(encoding, CounterFor(encoding));
        try
        {
            if (!string.IsNullOrEmpty(options?.Instructions))
            {
                counter.BeginMessage("system", null);
                counter.AddText(options.Instructions);
            }

            foreach (var message in messages)
            {
                counter.BeginMessage(message.Role.Value, message.AuthorName);
                foreach (var content in message.Contents)
                {
                    switch (content)
                    {
                        case TextContent text:
                            counter.AddText(text.Text);
                            break;
                        case TextReasoningContent reasoning:
                            counter.AddText(reasoning.Text);
                            break;
                        case FunctionCallContent call:
                            counter.AddToolCall(call.Name, call.Arguments is null ? null : JsonSerializer.Serialize(call.Arguments, CompactJson.GetTypeInfo(typeof(IDictionary<string, object?>))));
                            break;
                        case FunctionResultContent result:
                            counter.AddText(ResultText(result.Result));
                            break;
                        case DataContent data when data.HasTopLevelMediaType("image"):
                        case UriContent uri when uri.HasTopLevelMediaType("image"):
                            counter.AddTokens(ChatTokenCounter.TokensPerImage);
                            break;
                    }
                }
            }

            if (options?.Tools is { Count: > 0 } tools)
            {
                counter.AddFunctions(tools.Select(t => ((string?)t.Name, (string?)t.Description, t is AIFunctionDeclaration f ? f.JsonSchema : default)));
            }

            counter.End();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Best effort: what was counted before an odd content or schema is still the better estimate.
        }

        return new TokenEstimate(counter.Tokens, method);
    }

    private Func<string, int> CounterFor(TiktokenEncoding encoding) => _counterFor?.Invoke(encoding) ?? (text => encoding.CountTokens(text));

    private static (TiktokenEncoding Encoding, string Method) Resolve(string? model)
    {
        var name = TiktokenModels.GetEncodingName(model, out var approximate);
        return (TiktokenEncoding.GetEncoding(name), approximate ? name + ApproximationSuffix : name);
    }

    private static string? ResultText(object? result) => result switch
    {
        null => null,
        string s => s,
        JsonElement e => e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText(),
        _ => JsonSerializer.Serialize(result, CompactJson.GetTypeInfo(result.GetType())),
    };

    private static JsonSerializerOptions CreateCompactJson()
    {
        var options = new JsonSerializerOptions(AIJsonUtilities.DefaultOptions) { WriteIndented = false };
        options.MakeReadOnly();
        return options;
    }

    private static string? ReadModel(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
            while (reader.Read())
            {
                if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("model"u8))
                {
                    return reader.Read() && reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
            }
        }
        catch (JsonException)
        {
            // No model: the fallback encoding applies.
        }

        return null;
    }
}
