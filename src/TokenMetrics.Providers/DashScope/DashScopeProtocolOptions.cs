using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>Settings of the Alibaba Cloud DashScope (Qwen) native protocol. Its OpenAI-compatible mode
/// (<c>/compatible-mode/v1/chat/completions</c>) is metered by the OpenAI protocol and named <c>dashscope</c> there.</summary>
public sealed class DashScopeProtocolOptions
{
    /// <summary>Gets the hosts metered besides <c>dashscope.aliyuncs.com</c> and <c>dashscope-intl.aliyuncs.com</c>.</summary>
    public IList<string> Hosts { get; } = [];

    /// <summary>Gets or sets a value indicating whether any host is metered when its path is a DashScope generation endpoint
    /// (<c>/api/v1/services/aigc/text-generation/generation</c> or <c>.../multimodal-generation/generation</c>).</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool MatchAnyHost { get; set; } = true;

    /// <summary>Gets or sets the DashScope base address used when rewriting OpenAI requests and
    /// <see cref="TokenMetricsRewriteOptions.Endpoint"/> is not set.</summary>
    /// <value>The default is <c>https://dashscope.aliyuncs.com/</c> (use <c>https://dashscope-intl.aliyuncs.com/</c> outside China).</value>
    public Uri DefaultEndpoint { get; set; } = new("https://dashscope.aliyuncs.com/");
}
