using System.Collections.Frozen;
using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>Maps model names to tiktoken encodings, following OpenAI's tiktoken (<c>model.py</c>) and extending it to dated
/// snapshots, fine-tuned (<c>ft:</c>) names, Azure-style <c>gpt-35</c> names and provider prefixes such as <c>openai/</c>.</summary>
/// <remarks>Models of other vendors (Claude, Gemini, Llama, Qwen, Mistral, DeepSeek...) use tokenizers that are not public or not
/// tiktoken; for them <see cref="GetEncodingName"/> returns <see cref="FallbackEncodingName"/> and reports the count as an
/// approximation. Measured on English text such counts are typically within 10-20 % of the vendor's, and worse for CJK.</remarks>
public static class TiktokenModels
{
    /// <summary>The encoding used for unknown and non-OpenAI models: <c>o200k_base</c>, the newest OpenAI vocabulary.</summary>
    public const string FallbackEncodingName = TiktokenEncoding.O200kBaseName;

    private static readonly FrozenDictionary<string, string> Exact = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        // Legacy completions and embeddings, from tiktoken's MODEL_TO_ENCODING.
        ["davinci-002"] = "cl100k_base",
        ["babbage-002"] = "cl100k_base",
        ["text-davinci-003"] = "p50k_base",
        ["text-davinci-002"] = "p50k_base",
        ["text-davinci-001"] = "r50k_base",
        ["text-curie-001"] = "r50k_base",
        ["text-babbage-001"] = "r50k_base",
        ["text-ada-001"] = "r50k_base",
        ["davinci"] = "r50k_base",
        ["curie"] = "r50k_base",
        ["babbage"] = "r50k_base",
        ["ada"] = "r50k_base",
        ["code-davinci-002"] = "p50k_base",
        ["code-davinci-001"] = "p50k_base",
        ["code-cushman-002"] = "p50k_base",
        ["code-cushman-001"] = "p50k_base",
        ["davinci-codex"] = "p50k_base",
        ["cushman-codex"] = "p50k_base",
        ["text-davinci-edit-001"] = "p50k_edit",
        ["code-davinci-edit-001"] = "p50k_edit",
        ["text-embedding-ada-002"] = "cl100k_base",
        ["text-embedding-3-small"] = "cl100k_base",
        ["text-embedding-3-large"] = "cl100k_base",
        ["text-similarity-davinci-001"] = "r50k_base",
        ["text-similarity-curie-001"] = "r50k_base",
        ["text-similarity-babbage-001"] = "r50k_base",
        ["text-similarity-ada-001"] = "r50k_base",
        ["text-search-davinci-doc-001"] = "r50k_base",
        ["text-search-curie-doc-001"] = "r50k_base",
        ["text-search-babbage-doc-001"] = "r50k_base",
        ["text-search-ada-doc-001"] = "r50k_base",
        ["code-search-babbage-code-001"] = "r50k_base",
        ["code-search-ada-code-001"] = "r50k_base",
        ["gpt2"] = "gpt2",
        ["gpt-2"] = "gpt2",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    // First match wins, so longer prefixes of one family come first (gpt-4o before gpt-4).
    private static readonly (string Prefix, string Encoding)[] Prefixes =
    [
        ("gpt-oss", TiktokenEncoding.O200kHarmonyName),
        ("gpt-5", "o200k_base"),
        ("gpt-4.5", "o200k_base"),
        ("gpt-4.1", "o200k_base"),
        ("gpt-4o", "o200k_base"),
        ("chatgpt-4o", "o200k_base"),
        ("chatgpt-5", "o200k_base"),
        ("gpt-realtime", "o200k_base"),
        ("gpt-audio", "o200k_base"),
        ("codex-mini", "o200k_base"),
        ("computer-use-preview", "o200k_base"),
        ("o1", "o200k_base"),
        ("o3", "o200k_base"),
        ("o4", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-3.5", "cl100k_base"),
        ("gpt-35", "cl100k_base"),
    ];

    /// <summary>Gets the encoding of an OpenAI model.</summary>
    /// <param name="model">The model, for example <c>gpt-4o-mini-2024-07-18</c>, <c>ft:gpt-4o-mini:my-org::abc123</c> or <c>openai/gpt-5</c>.</param>
    /// <param name="encodingName">The encoding name, when the model is known.</param>
    /// <returns><see langword="true"/> for a known OpenAI model; <see langword="false"/> for any other.</returns>
    public static bool TryGetEncodingName(string? model, out string encodingName)
    {
        encodingName = FallbackEncodingName;
        if (string.IsNullOrWhiteSpace(model))
        {
            return false;
        }

        var name = model.AsSpan().Trim();

        // Provider-qualified names (OpenRouter "openai/gpt-4o", LiteLLM "azure/gpt-4o").
        var slash = name.LastIndexOf('/');
        if (slash >= 0)
        {
            var provider = name[..slash];
            if (!provider.Equals("openai", StringComparison.OrdinalIgnoreCase) && !provider.Equals("azure", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            name = name[(slash + 1)..];
        }

        // Fine-tuned: "ft:<base>:<org>:<suffix>:<id>"; the base decides.
        if (name.StartsWith("ft:", StringComparison.OrdinalIgnoreCase))
        {
            name = name[3..];
            var colon = name.IndexOf(':');
            if (colon >= 0)
            {
                name = name[..colon];
            }
        }

        var lookup = Exact.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(name, out var exact))
        {
            encodingName = exact;
            return true;
        }

        foreach (var (prefix, encoding) in Prefixes)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && IsFamilyBoundary(name, prefix.Length))
            {
                encodingName = encoding;
                return true;
            }
        }

        return false;
    }

    /// <summary>Gets the encoding for a model, with <see cref="FallbackEncodingName"/> for unknown and non-OpenAI models.</summary>
    /// <param name="model">The model; may be <see langword="null"/>.</param>
    /// <param name="isApproximation"><see langword="true"/> when the model is not a known OpenAI model, so counts are estimates of
    /// another vendor's tokenizer.</param>
    /// <returns>The encoding name.</returns>
    public static string GetEncodingName(string? model, out bool isApproximation)
    {
        isApproximation = !TryGetEncodingName(model, out var name);
        return name;
    }

    // "o1" must not take "o1x", nor "gpt-4" take "gpt-40"; "gpt-4-turbo", "gpt-5.1", "gpt-4o-mini-2024-07-18" and "o3@2025" do match.
    private static bool IsFamilyBoundary(ReadOnlySpan<char> name, int at) =>
        at == name.Length || name[at] is '-' or '.' or ':' or '_' or '@';
}
