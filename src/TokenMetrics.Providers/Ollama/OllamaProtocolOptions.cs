using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>Settings of the Ollama native protocol (<c>/api/chat</c>, <c>/api/generate</c>, <c>/api/embed</c>). Ollama's
/// OpenAI-compatible <c>/v1</c> endpoints are metered by the OpenAI protocol and named <c>ollama</c> there (port 11434).</summary>
public sealed class OllamaProtocolOptions
{
    /// <summary>Gets the hosts (or <c>host:port</c>) metered besides any host on Ollama's default port 11434.</summary>
    public IList<string> Hosts { get; } = [];

    /// <summary>Gets or sets a value indicating whether any host is metered when its path is an Ollama endpoint.</summary>
    /// <value>The default is <see langword="false"/>: <c>/api/chat</c> is too common a path to claim everywhere.</value>
    public bool MatchAnyHost { get; set; }

    /// <summary>Gets or sets the Ollama base address used when rewriting OpenAI requests and
    /// <see cref="TokenMetricsRewriteOptions.Endpoint"/> is not set.</summary>
    /// <value>The default is <c>http://localhost:11434/</c>.</value>
    public Uri DefaultEndpoint { get; set; } = new("http://localhost:11434/");
}
