#pragma warning disable OPENAI001 // The Responses client is marked experimental in the SDK.
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using global::OpenAI.Responses;
using static TokenMetrics.Testing.Tests.TestHelpers;

namespace TokenMetrics.Testing.Tests.OpenAI;

/// <summary>Drives the OpenAI .NET SDK's Responses client against the mock server.</summary>
public class OpenAISdkResponsesTests
{
    private static ResponsesClient CreateClient(MockLlmServer server) =>
        new(new ApiKeyCredential("test"), new ResponsesClientOptions
        {
            Endpoint = new Uri(server.BaseAddress, "v1"),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });

    [Fact]
    public async Task ResponsesClient_NonStreaming_ReadsTextAndUsage()
    {
        await using var server = await MockLlmServer.StartAsync();
        var client = CreateClient(server);

        ResponseResult result = await client.CreateResponseAsync("gpt-4.1-mini", "Hello there");

        Assert.Equal(DefaultAnswer, result.GetOutputText());
        Assert.Equal(9, result.Usage.InputTokenCount); // "Hello there" -> 3 + 3, plus 3
        Assert.Equal(10, result.Usage.OutputTokenCount);
        Assert.Equal("/v1/responses", Assert.Single(server.Requests).Path);
    }

    [Fact]
    public async Task ResponsesClient_Streaming_ReadsDeltasAndCompletedUsage()
    {
        await using var server = await MockLlmServer.StartAsync();
        var client = CreateClient(server);

        var text = new StringBuilder();
        ResponseResult? completed = null;
        await foreach (var update in await client.CreateResponseStreamingAsync("gpt-4.1-mini", "Hello there"))
        {
            if (update is StreamingResponseOutputTextDeltaUpdate delta)
            {
                text.Append(delta.Delta);
            }
            else if (update is StreamingResponseCompletedUpdate done)
            {
                completed = done.Response;
            }
        }

        Assert.Equal(DefaultAnswer, text.ToString());
        Assert.NotNull(completed);
        Assert.Equal(9, completed.Usage.InputTokenCount);
        Assert.Equal(10, completed.Usage.OutputTokenCount);
    }
}
