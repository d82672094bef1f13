using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>Settings of the OpenAI protocol (OpenAI, Azure OpenAI and OpenAI-compatible servers).</summary>
public sealed class OpenAIProtocolOptions
{
    /// <summary>Gets the hosts treated as OpenAI-protocol servers besides <c>api.openai.com</c> and <c>*.openai.azure.com</c>.</summary>
    /// <remarks>Empty (the default) with <see cref="MatchAnyHost"/> on means any host whose path is an OpenAI endpoint.</remarks>
    public IList<string> Hosts { get; } = [];

    /// <summary>Gets or sets a value indicating whether any host is metered when the path is an OpenAI endpoint
    /// (<c>/chat/completions</c>, <c>/responses</c>, <c>/completions</c>, <c>/embeddings</c>): vLLM, llama.cpp, gateways, mocks.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool MatchAnyHost { get; set; } = true;

    /// <summary>Gets or sets the provider name recorded for hosts that are neither OpenAI nor Azure.</summary>
    /// <value>The default is <c>openai</c>.</value>
    public string CompatibleProviderName { get; set; } = "openai";
}
