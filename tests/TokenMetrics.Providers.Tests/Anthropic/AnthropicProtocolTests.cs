using System.Net.Http.Headers;
using System.Text;

namespace TokenMetrics.Providers.Tests.Anthropic;

public class AnthropicProtocolTests
{
    private static HttpRequestMessage Post(string url, bool versionHeader = false)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url);
        if (versionHeader)
        {
            request.Headers.Add("anthropic-version", "2023-06-01");
        }

        return request;
    }

    [Theory]
    [InlineData("https://api.anthropic.com/v1/messages", false, true)]
    [InlineData("https://api.anthropic.com/v1/messages/", false, true)]
    [InlineData("https://api.anthropic.com/v1/messages/count_tokens", false, false)]
    [InlineData("https://api.anthropic.com/v1/messages/batches", false, false)]
    [InlineData("https://gateway.example.com/anthropic/v1/messages", true, true)]
    [InlineData("https://gateway.example.com/anthropic/v1/messages", false, false)]
    [InlineData("https://api.openai.com/v1/chat/completions", true, false)]
    public void CanHandle_ByHostPathAndVersionHeader(string url, bool versionHeader, bool expected)
    {
        var protocol = AnthropicTokenMetricsBuilderExtensions.CreateAnthropicProtocol();

        Assert.Equal(expected, protocol.CanHandle(Post(url, versionHeader)));
        Assert.False(protocol.CanHandle(new HttpRequestMessage(HttpMethod.Get, url)));
    }

    [Fact]
    public void CanHandle_ConfiguredHost_WithoutTheHeader()
    {
        var protocol = AnthropicTokenMetricsBuilderExtensions.CreateAnthropicProtocol(o => o.Hosts.Add("claude.internal"));

        Assert.True(protocol.CanHandle(Post("http://claude.internal/v1/messages")));
    }

    [Theory]
    [InlineData("https://us-east5-aiplatform.googleapis.com/v1/projects/p1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict", "claude-sonnet-4@20250514", false, true)]
    [InlineData("https://aiplatform.googleapis.com/v1/projects/p1/locations/global/publishers/anthropic/models/claude-opus-4-1@20250805:streamRawPredict", "claude-opus-4-1@20250805", true, true)]
    [InlineData("https://us-central1-aiplatform.googleapis.com/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent", null, false, false)]
    public async Task Vertex_DetectsClaudeRawPredict_AndTakesTheModelFromThePath(string url, string? model, bool streaming, bool handled)
    {
        var protocol = AnthropicTokenMetricsBuilderExtensions.CreateVertexAnthropicProtocol();
        using var request = Post(url);
        Assert.Equal(handled, protocol.CanHandle(request));
        if (!handled)
        {
            return;
        }

        request.Content = new StringContent("{\"anthropic_version\":\"vertex-2023-10-16\",\"messages\":[],\"max_tokens\":5}", Encoding.UTF8, "application/json");
        var context = ProtocolContexts.Create(request, protocol);
        await protocol.OnRequestAsync(context, default);

        Assert.Equal("gcp.vertex_ai", context.Provider);
        Assert.Equal(model, context.RequestModel);
        Assert.Equal(streaming, context.IsStreaming);
    }

    [Fact]
    public async Task OnRequest_ReadsModelAndStream()
    {
        var protocol = AnthropicTokenMetricsBuilderExtensions.CreateAnthropicProtocol();
        using var request = Post("https://api.anthropic.com/v1/messages");
        request.Content = new StringContent("{\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"model\":\"claude-haiku-4-5\",\"stream\":true}", Encoding.UTF8, "application/json");
        var context = ProtocolContexts.Create(request, protocol);

        await protocol.OnRequestAsync(context, default);

        Assert.Equal("anthropic", context.Provider);
        Assert.Equal("chat", context.Operation);
        Assert.Equal("claude-haiku-4-5", context.RequestModel);
        Assert.True(context.IsStreaming);
    }
}

internal static class ProtocolContexts
{
    public static TokenUsageProtocolContext Create(HttpRequestMessage request, ITokenUsageProtocol protocol, TokenMetricsHandlerOptions? options = null) =>
        new(request, options ?? new TokenMetricsHandlerOptions(), protocol);
}
