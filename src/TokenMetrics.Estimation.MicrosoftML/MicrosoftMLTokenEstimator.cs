using System;
using System.Collections.Frozen;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;

namespace TokenMetrics;

/// <summary>An <see cref="ITokenEstimator"/> that counts text with Microsoft.ML.Tokenizers tokenizers, for apps that already
/// use them. The model-to-encoding map, the chat billing formula and <see cref="TokenEstimate.Method"/> are those of
/// <see cref="TiktokenTokenEstimator"/>; encodings without a tokenizer here are counted by TokenMetrics' own tokenizer.</summary>
/// <remarks>Microsoft.ML.Tokenizers splits text with .NET <c>Regex</c>, which misses letters and digits outside the Basic
/// Multilingual Plane, so its counts can differ from OpenAI's on such text (see the TokenMetrics README); TokenMetrics' own
/// <see cref="TiktokenTokenEstimator"/> is exact and stays the default. Thread-safe; never throws for any input (a failing
/// tokenizer falls back to TokenMetrics' own count).</remarks>
public sealed class MicrosoftMLTokenEstimator : ITokenEstimator
{
    private readonly FrozenDictionary<string, Tokenizer> _tokenizers;
    private readonly TiktokenTokenEstimator _inner;

    /// <summary>Initializes the estimator with the given tokenizers.</summary>
    /// <param name="tokenizers">Tokenizers by tiktoken encoding name (<c>cl100k_base</c>, <c>o200k_base</c>, ...), for example
    /// <c>TiktokenTokenizer.CreateForEncoding("o200k_base")</c> (which needs the package Microsoft.ML.Tokenizers.Data.O200kBase).</param>
    /// <exception cref="ArgumentException">A name is not a known encoding.</exception>
    public MicrosoftMLTokenEstimator(IReadOnlyDictionary<string, Tokenizer> tokenizers)
    {
        ArgumentNullException.ThrowIfNull(tokenizers);
        foreach (var (name, tokenizer) in tokenizers)
        {
            ArgumentNullException.ThrowIfNull(tokenizer, nameof(tokenizers));
            if (!TiktokenEncoding.TryGetEncoding(name, out _))
            {
                throw new ArgumentException($"Unknown encoding '{name}'. Known encodings: {string.Join(", ", TiktokenEncoding.EncodingNames)}.", nameof(tokenizers));
            }
        }

        _tokenizers = tokenizers.ToFrozenDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);
        _inner = new TiktokenTokenEstimator(CounterFor);
    }

    /// <summary>Gets the encodings counted by Microsoft.ML.Tokenizers.</summary>
    public IReadOnlyCollection<string> Encodings => _tokenizers.Keys;

    /// <summary>Creates an estimator with <c>TiktokenTokenizer.CreateForEncoding</c> for each named encoding; each needs its data
    /// package (Microsoft.ML.Tokenizers.Data.Cl100kBase, .O200kBase, ...) referenced by the app.</summary>
    /// <param name="encodings">The encodings, for example <c>o200k_base</c> and <c>cl100k_base</c>.</param>
    /// <returns>The estimator.</returns>
    public static MicrosoftMLTokenEstimator ForEncodings(params string[] encodings)
    {
        ArgumentNullException.ThrowIfNull(encodings);
        return new MicrosoftMLTokenEstimator(encodings.ToDictionary(e => e, e => (Tokenizer)TiktokenTokenizer.CreateForEncoding(e), StringComparer.OrdinalIgnoreCase));
    }

    /// <inheritdoc/>
    public TokenEstimate CountText(string text, string? model) => _inner.CountText(text, model);

    /// <inheritdoc/>
    public TokenEstimate CountRequest(ReadOnlySpan<byte> requestJson, string? model) => _inner.CountRequest(requestJson, model);

    /// <inheritdoc/>
    public TokenEstimate CountMessages(IEnumerable<ChatMessage> messages, ChatOptions? options, string? model) => _inner.CountMessages(messages, options, model);

    private Func<string, int>? CounterFor(TiktokenEncoding encoding)
    {
        if (!_tokenizers.TryGetValue(encoding.Name, out var tokenizer))
        {
            return null;
        }

        return text =>
        {
            try
            {
                return tokenizer.CountTokens(text);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return encoding.CountTokens(text);
            }
        };
    }
}
