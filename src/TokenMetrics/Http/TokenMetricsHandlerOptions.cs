using System.ComponentModel.DataAnnotations;

namespace TokenMetrics;

/// <summary>Settings of one metered <c>HttpClient</c> (named options: one instance per client name).</summary>
public sealed class TokenMetricsHandlerOptions
{
    /// <summary>Gets or sets a value indicating whether this client is metered.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets the largest request body read to learn the model and streaming flag (and to estimate the prompt).</summary>
    /// <value>Between 0 and 256 MiB. The default is 4 MiB. Larger bodies are sent untouched and unread.</value>
    [Range(0, 256 * 1024 * 1024)]
    public int MaxInspectedRequestBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Gets or sets the largest non-streamed (or compressed) response body inspected for usage.</summary>
    /// <value>Between 0 and 256 MiB. The default is 8 MiB. Beyond it bytes still pass through; usage is estimated or missing.</value>
    [Range(0, 256 * 1024 * 1024)]
    public int MaxInspectedResponseBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Gets or sets the largest single server-sent event inspected.</summary>
    /// <value>Between 1 KiB and 64 MiB. The default is 1 MiB (larger events pass through unparsed).</value>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxSseEventBytes { get; set; } = 1024 * 1024;

    /// <summary>Gets or sets a value indicating whether streamed requests that do not ask for usage are changed to ask for it
    /// (OpenAI <c>stream_options.include_usage</c>); the extra usage chunk is withheld from the app, which reads exactly the
    /// stream it would have read otherwise.</summary>
    /// <value>The default is <see langword="true"/>. Without it, such streams are estimated.</value>
    public bool RequestStreamUsage { get; set; } = true;

    /// <summary>Gets or sets the vendor this client's OpenAI Chat Completions requests are rewritten to (<c>anthropic</c>,
    /// <c>gcp.gemini</c>, <c>aws.bedrock</c>, <c>dashscope</c>, <c>ollama</c>...: the name of a registered <see cref="ITokenUsageRewriter"/>).</summary>
    /// <value>The default is <see langword="null"/>: no rewriting.</value>
    public string? RewriteTo { get; set; }

    /// <summary>Gets the rewriting settings: vendor endpoint, key, model mapping, context cleanup, vendor-specific settings.</summary>
    public TokenMetricsRewriteOptions Rewrite { get; } = new();
}
