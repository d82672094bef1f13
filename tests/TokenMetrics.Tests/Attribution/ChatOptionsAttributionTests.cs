using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using Microsoft.Extensions.AI;
using OpenAI;
using TokenMetrics.Testing;
using TokenMetrics.Tests.TestHelpers;

namespace TokenMetrics.Tests.Attribution;

/// <summary>Attribution given with an <c>IChatClient</c> call (<c>ChatOptions</c>) reaching the one record, on the chat-client layer
/// and through the OpenAI SDK over a metered <c>HttpClient</c> beneath.</summary>
public sealed class ChatOptionsAttributionTests : IAsyncLifetime
{
    private MockLlmServer _server = null!;

    public async Task InitializeAsync() => _server = await MockLlmServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static ChatOptions Options() => new()
    {
        ConversationId = "conv-7",
        AdditionalProperties = new()
        {
            [TokenUsageAttributionKeys.UserId] = "call-user",
            [TokenUsageAttributionKeys.Feature] = "summarize",
            [TokenUsageAttributionKeys.Tags] = new Dictionary<string, string> { ["experiment"] = "b" },
        },
    };

    [Fact]
    public async Task OnTheChatClientLayer_CallValuesWin_TheScopeFillsTheRest()
    {
        await using var t = new TestRecorder();
        var inner = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok"))
            {
                Usage = new UsageDetails { InputTokenCount = 5, OutputTokenCount = 1 },
            }),
        };
        using var client = new TokenMetricsChatClient(inner, t.Recorder);

        using (TokenMetricsScope.Begin(new TokenUsageAttribution { UserId = "scope-user", Consumer = "team-docs", SessionId = "scope-session", Tags = new Dictionary<string, string> { ["env"] = "prod" } }))
        {
            _ = await client.GetResponseAsync("hi", Options());
        }

        var r = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageLayer.ChatClient, r.Layer);
        Assert.Equal("call-user", r.UserId);
        Assert.Equal("team-docs", r.Consumer);
        Assert.Equal("conv-7", r.SessionId);          // ConversationId is given with the call: it wins over the scope
        Assert.Equal("summarize", r.Feature);
        Assert.Equal("b", r.Tags!["experiment"]);
        Assert.Equal("prod", r.Tags["env"]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ThroughTheOpenAISdkOverAMeteredHttpClient_TheOneHttpRecordCarriesTheCallsAttribution(bool streaming)
    {
        await using var t = new TestRecorder();
        using var client = new OpenAI.Chat.ChatClient("gpt-4o-mini", new ApiKeyCredential("sk-test"), new OpenAIClientOptions
        {
            Endpoint = new Uri(_server.BaseAddress, "v1"),
            Transport = new HttpClientPipelineTransport(new HttpClient(new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], new SocketsHttpHandler()))),
            RetryPolicy = new ClientRetryPolicy(0),
        }).AsIChatClient().AsBuilder().UseTokenMetrics(t.Recorder).Build();

        // Baggage on the request's activity is the last resort: it fills only what the call and the scope leave empty.
        using var activity = new Activity("incoming-request").AddBaggage("tenant.id", "acme").AddBaggage("user.id", "baggage-user").Start();
        using (TokenMetricsScope.Begin(new TokenUsageAttribution { UserId = "scope-user", SessionId = "scope-session" }))
        {
            if (streaming)
            {
                await foreach (var _ in client.GetStreamingResponseAsync("How many tokens is this?", Options()))
                {
                }
            }
            else
            {
                _ = await client.GetResponseAsync("How many tokens is this?", Options());
            }
        }

        var r = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageLayer.Http, r.Layer);
        Assert.Equal(TokenUsageSource.Reported, r.Source);
        Assert.Equal("call-user", r.UserId);
        Assert.Equal("conv-7", r.SessionId);
        Assert.Equal("acme", r.Consumer);
        Assert.Equal("summarize", r.Feature);
        Assert.Equal("b", r.Tags!["experiment"]);
    }

    [Fact]
    public async Task AMeteredHttpClientWithoutAChatClient_TakesTheScopeThenBaggage()
    {
        await using var t = new TestRecorder();
        using var http = new HttpClient(new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], new SocketsHttpHandler())) { BaseAddress = _server.BaseAddress };
        using var activity = new Activity("incoming-request").AddBaggage("user.id", "baggage-user").AddBaggage("session.id", "baggage-session").Start();

        using (TokenMetricsScope.Begin(userId: "scope-user"))
        {
            using var response = await http.PostAsync("v1/chat/completions", new StringContent("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"));
            _ = await response.Content.ReadAsStringAsync();
        }

        var r = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal("scope-user", r.UserId);
        Assert.Equal("baggage-session", r.SessionId);
    }
}
