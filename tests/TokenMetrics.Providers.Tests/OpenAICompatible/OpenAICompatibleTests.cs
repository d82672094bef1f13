using System.Text;
using TokenMetrics.Providers.OpenAI;
using TokenMetrics.Providers.Tests.Support;

namespace TokenMetrics.Providers.Tests.OpenAICompatible;

public class OpenAICompatibleTests
{
    [Theory]
    [InlineData("https://api.deepseek.com/chat/completions", "deepseek")]
    [InlineData("https://api.deepseek.com/v1/chat/completions", "deepseek")]
    [InlineData("https://api.mistral.ai/v1/chat/completions", "mistral_ai")]
    [InlineData("https://api.moonshot.cn/v1/chat/completions", "moonshot_ai")]
    [InlineData("https://api.moonshot.ai/v1/chat/completions", "moonshot_ai")]
    [InlineData("https://api.groq.com/openai/v1/chat/completions", "groq")]
    [InlineData("https://api.x.ai/v1/chat/completions", "x_ai")]
    [InlineData("https://openrouter.ai/api/v1/chat/completions", "openrouter")]
    [InlineData("https://open.bigmodel.cn/api/paas/v4/chat/completions", "zhipu")]
    [InlineData("https://api.baichuan-ai.com/v1/chat/completions", "baichuan")]
    [InlineData("https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions", "dashscope")]
    [InlineData("https://dashscope-intl.aliyuncs.com/compatible-mode/v1/chat/completions", "dashscope")]
    [InlineData("https://api.perplexity.ai/chat/completions", "perplexity")]
    [InlineData("http://localhost:11434/v1/chat/completions", "ollama")]
    [InlineData("http://localhost:8000/v1/chat/completions", "openai")]
    [InlineData("https://api.openai.com/v1/chat/completions", "openai")]
    [InlineData("https://my.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21", "azure.ai.openai")]
    public async Task ProviderName_ByHost(string url, string provider)
    {
        var record = await SendAsync(url, VendorHarness.Load("openai-compatible/moonshot-chat.json"));
        Assert.Equal(provider, record.Provider);
    }

    [Fact]
    public async Task ProviderNames_AreConfigurable()
    {
        var protocol = OpenAITokenMetricsBuilderExtensions.CreateOpenAIProtocol(o =>
        {
            o.ProviderNames["vllm.internal:8000"] = "vllm";
            o.CompatibleProviderName = "self_hosted";
        });
        Assert.Equal("vllm", (await SendAsync("http://vllm.internal:8000/v1/chat/completions", VendorHarness.Load("openai-compatible/moonshot-chat.json"), protocol)).Provider);
        Assert.Equal("self_hosted", (await SendAsync("http://other:8000/v1/chat/completions", VendorHarness.Load("openai-compatible/moonshot-chat.json"), protocol)).Provider);
    }

    [Fact]
    public void DeepSeek_CacheHitIsCachedInput_MissKeptInDetails()
    {
        var usage = Usage("openai-compatible/deepseek-cache-hit.json");
        Assert.Equal(1040, usage.InputTokenCount);
        Assert.Equal(1024, usage.CachedInputTokenCount);
        Assert.Equal(16, usage.InputTokenDetails!["prompt_cache_miss_tokens"]);
        Assert.Equal(1024, usage.InputTokenDetails["prompt_cache_hit_tokens"]);
    }

    [Fact]
    public void DeepSeek_ReasoningFromCompletionDetails_DetailsCachedWins()
    {
        var usage = Usage("openai-compatible/deepseek-chat.json");
        Assert.Equal(6, usage.ReasoningTokenCount);
        Assert.Equal(0, usage.CachedInputTokenCount); // prompt_tokens_details.cached_tokens and the hit count agree here
        Assert.Equal(10, usage.OutputTokenCount);
    }

    [Fact]
    public void Moonshot_TopLevelCachedTokens()
    {
        var usage = Usage("openai-compatible/moonshot-chat.json");
        Assert.Equal(100, usage.CachedInputTokenCount);
        Assert.Equal(120, usage.InputTokenCount);
    }

    [Fact]
    public void Perplexity_TopLevelReasoning_AndTokenExtrasInDetails()
    {
        var usage = Usage("openai-compatible/perplexity-chat.json");
        Assert.Equal(20, usage.ReasoningTokenCount);
        Assert.Equal(30, usage.OutputTokenDetails!["citation_tokens"]);
        Assert.False(usage.OutputTokenDetails.ContainsKey("num_search_queries"));
    }

    private static TokenUsage Usage(string fixture)
    {
        var json = VendorHarness.Load(fixture);
        var at = Encoding.UTF8.GetString(json).IndexOf("\"usage\":", StringComparison.Ordinal) + 8;
        return OpenAIUsage.Parse(json.AsSpan(Encoding.UTF8.GetByteCount(Encoding.UTF8.GetString(json)[..at])))!;
    }

    private static async Task<TokenUsageRecord> SendAsync(string url, byte[] answer, ITokenUsageProtocol? protocol = null)
    {
        await using var recorder = new TestRecorder();
        using var client = new HttpClient(new TokenMetricsHandler(recorder.Recorder, [protocol ?? OpenAITokenMetricsBuilderExtensions.CreateOpenAIProtocol()],
            StubHttpHandler.Returning((_, _) => StubHttpHandler.Json(Encoding.UTF8.GetString(answer)))));
        using var response = await client.PostAsync(url, new StringContent("{\"model\":\"m\",\"messages\":[]}", Encoding.UTF8, "application/json"));
        _ = await response.Content.ReadAsByteArrayAsync();
        return Assert.Single(await recorder.RecordsAsync(1));
    }
}
