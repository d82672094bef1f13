using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using TokenMetrics.Testing;

namespace TokenMetrics.Providers.Tests.Budgets;

/// <summary>A budget's synthetic 429 on an Anthropic endpoint, as the official Anthropic SDK sees it: its own rate-limit
/// exception, nothing sent, the call recorded as rejected.</summary>
public sealed class BudgetRejectionSdkTests : IAsyncLifetime
{
    private MockLlmServer _server = null!;

    public async Task InitializeAsync() => _server = await MockLlmServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task AnthropicSdk_RaisesItsRateLimitException_OnABudgetRefusal_AndNothingIsSent()
    {
        await using var t = new TestRecorder(o => o.Budgets.Add(new TokenUsageBudget { Name = "tiny", TokensPerMinute = 10 }));
        var http = new HttpClient(new TokenMetricsHandler(
            t.Recorder,
            [AnthropicTokenMetricsBuilderExtensions.CreateAnthropicProtocol(o => o.Hosts.Add("127.0.0.1"))],
            new SocketsHttpHandler()));
        var client = new AnthropicClient { HttpClient = http, BaseUrl = _server.BaseAddress.ToString().TrimEnd('/'), ApiKey = "sk-ant-test", MaxRetries = 0 };

        // 200 requested output tokens alone pass the 10-token budget: refused before it leaves the process.
        var ex = await Assert.ThrowsAsync<AnthropicRateLimitException>(() => client.Messages.Create(new MessageCreateParams
        {
            Model = "claude-sonnet-4-5",
            MaxTokens = 200,
            Messages = [new UserMessageParam("Hello")],
        }));

        Assert.Contains("tiny", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_server.Requests);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Rejected, record.Status);
        Assert.Equal(429, record.HttpStatusCode);
        Assert.Equal("anthropic", record.Provider);
    }
}
