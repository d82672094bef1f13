using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using OpenAI;
using TokenMetrics.Testing;

namespace TokenMetrics.Tests.MicrosoftExtensionsAI;

/// <summary>The OpenAI SDK's <c>AsIChatClient()</c> (Microsoft.Extensions.AI.OpenAI 11) over a metered HttpClient, with
/// <c>UseTokenMetrics()</c> on top, against the mock LLM server on 127.0.0.1.</summary>
public sealed class OpenAISdkTests : IAsyncLifetime
{
    private MockLlmServer _server = null!;

    public async Task InitializeAsync() => _server = await MockLlmServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private IChatClient Sdk(TestRecorder t) =>
        new OpenAI.Chat.ChatClient("gpt-4o-mini", new ApiKeyCredential("sk-test"), new OpenAIClientOptions
        {
            Endpoint = new Uri(_server.BaseAddress, "v1"),
            Transport = new HttpClientPipelineTransport(new HttpClient(new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], new SocketsHttpHandler()))),
            RetryPolicy = new ClientRetryPolicy(0),
        }).AsIChatClient();

    private static async Task<UsageDetails?> CallAsync(IChatClient client, bool streaming, ChatOptions? options = null)
    {
        if (!streaming)
        {
            return (await client.GetResponseAsync("How many tokens is this?", options)).Usage;
        }

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync("How many tokens is this?", options))
        {
            updates.Add(update);
        }

        return updates.ToChatResponse().Usage;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UseTokenMetricsOverAMeteredHttpClient_OneRecordPerCall(bool streaming)
    {
        await using var t = new TestRecorder();
        using var client = Sdk(t).AsBuilder().UseTokenMetrics(t.Recorder, c => c.ClientName = "assistant").Build();

        var usage = await CallAsync(client, streaming, new ChatOptions { ConversationId = null });

        var r = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageLayer.Http, r.Layer);
        Assert.Equal(TokenUsageSource.Reported, r.Source);
        Assert.Equal(streaming, r.IsStreaming);
        Assert.Equal("assistant", r.ClientName);
        Assert.Equal(usage!.InputTokenCount, r.Usage.InputTokenCount);
        Assert.Equal(usage.OutputTokenCount, r.Usage.OutputTokenCount);
        Assert.Equal(0, r.RoundIndex);
        Assert.NotNull(r.OperationId);
        Assert.Single(_server.Requests);
    }

    [Theory]
    [InlineData("loop > tokenmetrics", false)]
    [InlineData("loop > tokenmetrics", true)]
    [InlineData("tokenmetrics > loop", false)]
    [InlineData("tokenmetrics > loop", true)]
    public async Task AToolLoop_EachHttpRoundTripIsOneRecord_OfOneOperation(string pipeline, bool streaming)
    {
        await using var t = new TestRecorder();
        var builder = Sdk(t).AsBuilder();
        _ = pipeline == "loop > tokenmetrics" ? builder.UseFunctionInvocation().UseTokenMetrics(t.Recorder) : builder.UseTokenMetrics(t.Recorder).UseFunctionInvocation();
        using var client = builder.Build();
        _server.Enqueue(new MockScenario { ToolCalls = true });

        var usage = await CallAsync(client, streaming, new ChatOptions { Tools = [ToolLoopModel.Weather] });

        var records = await t.RecordsAsync(2);
        Assert.Equal(2, _server.Requests.Count);
        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.Equal(TokenUsageLayer.Http, r.Layer));
        Assert.NotNull(records[0].OperationId);
        Assert.Single(records.Select(r => r.OperationId).Distinct());
        Assert.Equal([0, 1], records.Select(r => r.RoundIndex ?? -1).Order());
        Assert.Equal(usage!.InputTokenCount, records.Sum(r => r.Usage.InputTokenCount));
        Assert.Equal(usage.OutputTokenCount, records.Sum(r => r.Usage.OutputTokenCount));
    }
}
