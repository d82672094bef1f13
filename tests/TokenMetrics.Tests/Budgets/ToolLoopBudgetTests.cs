using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using OpenAI;
using TokenMetrics.Testing;
using TokenMetrics.Tests.MicrosoftExtensionsAI;
using TokenMetrics.Tests.TestHelpers;
using static TokenMetrics.Tests.Budgets.BudgetTestSupport;

namespace TokenMetrics.Tests.Budgets;

/// <summary>A tool loop beneath <c>UseTokenMetrics()</c> over a metered HttpClient: every model round-trip counts against the
/// budgets, not only the first (the chat client's reservation covers round 0; later rounds check and reconcile their own).</summary>
public sealed class ToolLoopBudgetTests : IAsyncLifetime
{
    private MockLlmServer _server = null!;

    public async Task InitializeAsync() => _server = await MockLlmServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EveryRoundOfAToolLoop_IsCountedAgainstTheBudget(bool streaming)
    {
        var clock = Clock();
        await using var t = Recorder(clock, new TokenUsageBudget { Name = "b", TokensPerDay = 1_000_000 });
        using var client = new OpenAI.Chat.ChatClient("gpt-4o-mini", new ApiKeyCredential("sk-test"), new OpenAIClientOptions
        {
            Endpoint = new Uri(_server.BaseAddress, "v1"),
            Transport = new HttpClientPipelineTransport(new HttpClient(new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], new SocketsHttpHandler()))),
            RetryPolicy = new ClientRetryPolicy(0),
        }).AsIChatClient().AsBuilder().UseTokenMetrics(t.Recorder).UseFunctionInvocation().Build();
        _server.Enqueue(new MockScenario { ToolCalls = true });

        var options = new ChatOptions { Tools = [ToolLoopModel.Weather] };
        if (streaming)
        {
            await foreach (var _ in client.GetStreamingResponseAsync("What is the weather?", options))
            {
            }
        }
        else
        {
            _ = await client.GetResponseAsync("What is the weather?", options);
        }

        var records = await t.RecordsAsync(2);
        Assert.Equal(2, _server.Requests.Count);
        Assert.Equal([0, 1], records.Select(r => r.RoundIndex ?? -1).Order());
        Assert.Equal(records.Sum(r => r.Usage.TotalTokenCount!.Value), await UsedAsync(t.Recorder, "b:tpd:global:*", TimeSpan.FromDays(1)));
    }
}
