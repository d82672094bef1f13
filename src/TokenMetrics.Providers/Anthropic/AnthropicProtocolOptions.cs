using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>Settings of the Anthropic Messages protocol (api.anthropic.com, gateways that speak it, and Claude on Vertex AI).</summary>
public sealed class AnthropicProtocolOptions
{
    /// <summary>Gets the hosts treated as Anthropic Messages servers besides <c>api.anthropic.com</c> (gateways, proxies, mocks).</summary>
    public IList<string> Hosts { get; } = [];

    /// <summary>Gets or sets a value indicating whether any host is metered when the request carries an <c>anthropic-version</c>
    /// header and its path ends with <c>/messages</c> (what every Anthropic SDK sends to a gateway).</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool MatchVersionHeader { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether Claude on Google Vertex AI (<c>publishers/anthropic/models/{m}:rawPredict</c>
    /// and <c>:streamRawPredict</c>) is metered, with the provider name <c>gcp.vertex_ai</c>.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool IncludeVertexAI { get; set; } = true;

    /// <summary>Gets or sets the provider name recorded for hosts other than <c>api.anthropic.com</c>.</summary>
    /// <value>The default is <c>anthropic</c>.</value>
    public string CompatibleProviderName { get; set; } = "anthropic";
}
