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

    /// <summary>Gets or sets the provider name recorded for OpenAI-compatible hosts that <see cref="ProviderNames"/> does not name
    /// (vLLM, llama.cpp, LiteLLM and other gateways, mock servers).</summary>
    /// <value>The default is <c>openai</c>.</value>
    public string CompatibleProviderName { get; set; } = "openai";

    /// <summary>Gets the provider name recorded per OpenAI-compatible host (an OpenTelemetry <c>gen_ai.provider.name</c> value where
    /// one exists). A key is a host (<c>api.deepseek.com</c>), a host and port (<c>localhost:11434</c>), or a parent domain
    /// (<c>moonshot.cn</c> also names <c>api.moonshot.cn</c>); the most specific key wins. Edit it to add or rename vendors.</summary>
    /// <remarks>Defaults: DeepSeek <c>deepseek</c>, Mistral <c>mistral_ai</c>, Moonshot/Kimi <c>moonshot_ai</c>, Groq <c>groq</c>,
    /// xAI <c>x_ai</c>, OpenRouter <c>openrouter</c>, Zhipu GLM <c>zhipu</c>, Baichuan <c>baichuan</c>, DashScope compatible
    /// mode <c>dashscope</c>, Perplexity <c>perplexity</c>, Ollama on its default port <c>ollama</c>, Gemini's OpenAI endpoint
    /// <c>gcp.gemini</c>, Cohere's compatibility API <c>cohere</c>, Together <c>together_ai</c>, Fireworks <c>fireworks_ai</c>,
    /// SiliconFlow <c>siliconflow</c>, Volcengine Ark <c>volcengine</c>, NVIDIA NIM <c>nvidia_nim</c>.</remarks>
    public IDictionary<string, string> ProviderNames { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["api.deepseek.com"] = "deepseek",
        ["api.mistral.ai"] = "mistral_ai",
        ["moonshot.cn"] = "moonshot_ai",
        ["moonshot.ai"] = "moonshot_ai",
        ["api.groq.com"] = "groq",
        ["api.x.ai"] = "x_ai",
        ["openrouter.ai"] = "openrouter",
        ["open.bigmodel.cn"] = "zhipu",
        ["api.z.ai"] = "zhipu",
        ["api.baichuan-ai.com"] = "baichuan",
        ["dashscope.aliyuncs.com"] = "dashscope",
        ["dashscope-intl.aliyuncs.com"] = "dashscope",
        ["api.perplexity.ai"] = "perplexity",
        ["localhost:11434"] = "ollama",
        ["127.0.0.1:11434"] = "ollama",
        ["generativelanguage.googleapis.com"] = "gcp.gemini",
        ["api.cohere.ai"] = "cohere",
        ["api.cohere.com"] = "cohere",
        ["api.together.xyz"] = "together_ai",
        ["api.fireworks.ai"] = "fireworks_ai",
        ["api.siliconflow.cn"] = "siliconflow",
        ["volces.com"] = "volcengine",
        ["integrate.api.nvidia.com"] = "nvidia_nim",
    };
}
