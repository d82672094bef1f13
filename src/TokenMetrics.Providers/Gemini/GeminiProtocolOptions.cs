using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>Settings of the Google Gemini protocol (Gemini API and Vertex AI <c>generateContent</c>/<c>streamGenerateContent</c>).</summary>
public sealed class GeminiProtocolOptions
{
    /// <summary>Gets the hosts metered besides <c>generativelanguage.googleapis.com</c>, <c>aiplatform.googleapis.com</c> and
    /// <c>{region}-aiplatform.googleapis.com</c> (gateways, proxies, mock servers).</summary>
    public IList<string> Hosts { get; } = [];

    /// <summary>Gets or sets a value indicating whether any host is metered when its path is a Gemini model action
    /// (<c>.../models/{model}:generateContent</c> or <c>:streamGenerateContent</c>).</summary>
    /// <value>The default is <see langword="true"/>: the path is specific enough.</value>
    public bool MatchAnyHost { get; set; } = true;

    /// <summary>Gets or sets the Gemini API base address used when rewriting OpenAI requests and
    /// <see cref="TokenMetricsRewriteOptions.Endpoint"/> is not set.</summary>
    /// <value>The default is <c>https://generativelanguage.googleapis.com/</c>.</value>
    public Uri DefaultEndpoint { get; set; } = new("https://generativelanguage.googleapis.com/");

    /// <summary>Gets or sets the API version path segment used when rewriting.</summary>
    /// <value>The default is <c>v1beta</c>.</value>
    public string ApiVersion { get; set; } = "v1beta";
}
