using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>Where and how a client's OpenAI-protocol requests are rewritten (see <see cref="TokenMetricsHandlerOptions.RewriteTo"/>).</summary>
public sealed class TokenMetricsRewriteOptions
{
    /// <summary>Gets or sets the vendor's base address (for example <c>https://api.anthropic.com/</c>); the vendor's default when <see langword="null"/>.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>Gets or sets the vendor API key. When <see langword="null"/>, the key the app sent (<c>Authorization: Bearer …</c>,
    /// <c>api-key</c>, <c>x-api-key</c>) is moved to the vendor's header. Never recorded or logged.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Gets the model mapping applied before rewriting (Higress model-mapper semantics): an exact key, then the longest
    /// <c>prefix*</c> key, then <c>*</c>; an empty value keeps the requested model. Records keep both models.</summary>
    public IDictionary<string, string> ModelMapping { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Gets the context-cleanup commands (Higress ai-proxy semantics): a user message whose whole text equals a command
    /// (case-sensitive; the last one wins) drops the conversation before it, except the leading system messages, and the command itself.</summary>
    public IList<string> ContextCleanupCommands { get; } = [];

    /// <summary>Gets vendor-specific settings (for example Bedrock's <c>Region</c>, <c>AccessKeyId</c>, <c>SecretAccessKey</c>,
    /// <c>SessionToken</c>; Anthropic's <c>Version</c>). Secrets here are never recorded or logged.</summary>
    public IDictionary<string, string> Settings { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
}
