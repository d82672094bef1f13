using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using global::OpenAI;
using global::OpenAI.Chat;
using static TokenMetrics.Testing.Tests.TestHelpers;

namespace TokenMetrics.Testing.Tests.OpenAI;

/// <summary>Drives the official OpenAI .NET SDK (2.15.0) against the mock server.</summary>
public class OpenAISdkTests
{
    private static ChatClient CreateChatClient(MockLlmServer server, string model = "gpt-4o-mini") =>
        new(model, new ApiKeyCredential("test"), new OpenAIClientOptions
        {
            Endpoint = new Uri(server.BaseAddress, "v1"),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });

    [Fact]
    public async Task ChatClient_NonStreaming_ReadsTextAndUsage()
    {
        await using var server = await MockLlmServer.StartAsync();
        var client = CreateChatClient(server);

        ChatCompletion completion = await client.CompleteChatAsync([new SystemChatMessage("You are terse."), new UserChatMessage("Hello there")]);

        Assert.Equal(DefaultAnswer, completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(16, completion.Usage.InputTokenCount);
        Assert.Equal(10, completion.Usage.OutputTokenCount);
        Assert.Equal(26, completion.Usage.TotalTokenCount);
        var request = Assert.Single(server.Requests);
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.Equal("Bearer test", request.GetHeader("Authorization"));
    }

    [Fact]
    public async Task ChatClient_Streaming_ReadsTextAndUsage_AndSdkAskedForIncludeUsage()
    {
        await using var server = await MockLlmServer.StartAsync(new MockLlmServerOptions
        {
            DefaultScenario = new MockScenario { CachedTokens = 2, ReasoningTokens = 3 },
        });
        var client = CreateChatClient(server);

        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new SystemChatMessage("You are terse."), new UserChatMessage("Hello there")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }

        Assert.Equal(DefaultAnswer, text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal(16, usage.InputTokenCount);
        Assert.Equal(13, usage.OutputTokenCount);
        Assert.Equal(2, usage.InputTokenDetails.CachedTokenCount);
        Assert.Equal(3, usage.OutputTokenDetails.ReasoningTokenCount);
        using var body = Assert.Single(server.Requests).ParseBody();
        Assert.True(body.RootElement.GetProperty("stream").GetBoolean());
        Assert.True(body.RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
    }

    [Fact]
    public async Task ChatClient_Streaming_ToolCalls_AreReassembledBySdk()
    {
        await using var server = await MockLlmServer.StartAsync();
        var client = CreateChatClient(server, "gpt-4o-mini+mock-tools");
        var tool = ChatTool.CreateFunctionTool(
            "get_weather",
            "Weather",
            BinaryData.FromString("""{"type":"object","properties":{"location":{"type":"string"},"days":{"type":"integer"}}}"""));

        var arguments = new StringBuilder();
        string? name = null;
        ChatFinishReason? finish = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Weather?")], new ChatCompletionOptions { Tools = { tool } }))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                name ??= call.FunctionName;
                arguments.Append(call.FunctionArgumentsUpdate?.ToString());
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal("get_weather", name);
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        var parsed = JsonDocument.Parse(arguments.ToString()).RootElement;
        Assert.Equal("mock-location", parsed.GetProperty("location").GetString());
    }

    [Fact]
    public async Task ChatClient_ErrorStatus_SurfacesAsClientResultException()
    {
        await using var server = await MockLlmServer.StartAsync();
        var client = CreateChatClient(server, "mock-error-400");

        var ex = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("Hello")]));

        Assert.Equal(400, ex.Status);
    }
}
