using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using OpenAI;
using OpenAI.Chat;
using TokenMetrics.Providers.Bedrock;
using TokenMetrics.Providers.Tests.Anthropic;
using TokenMetrics.Testing;

namespace TokenMetrics.Providers.Tests.Bedrock;

/// <summary>The unmodified OpenAI .NET SDK, rewritten to Bedrock Converse by configuration, against the mock Bedrock runtime.</summary>
public sealed class BedrockRewriteTests : IAsyncLifetime
{
    private const string Routed = "anthropic.claude-3-5-haiku-20241022-v1:0";

    private MockLlmServer _server = null!;

    public async Task InitializeAsync() => _server = await MockLlmServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private TokenMetricsHandlerOptions Options(string routed = Routed, bool sigV4 = true)
    {
        var options = new TokenMetricsHandlerOptions { RewriteTo = "aws.bedrock" };
        options.Rewrite.Endpoint = _server.BaseAddress;
        options.Rewrite.ModelMapping["gpt-4o"] = routed;
        options.Rewrite.Settings["Region"] = "us-east-1";
        if (sigV4)
        {
            options.Rewrite.Settings["AccessKeyId"] = "AKIDEXAMPLE";
            options.Rewrite.Settings["SecretAccessKey"] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        }

        return options;
    }

    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private HttpClient Http(TestRecorder t, TokenMetricsHandlerOptions options, params (string, string)[] headers) =>
        new(new TokenMetricsHandler(t.Recorder, [BedrockTokenMetricsBuilderExtensions.CreateBedrockRewriter(o => o.TimeProvider = new FakeTimeProvider(Now)), OpenAITokenMetricsBuilderExtensions.CreateOpenAIProtocol()], new HeaderHandler(new SocketsHttpHandler(), headers), options));

    private static ChatClient Sdk(HttpClient http) => new("gpt-4o", new ApiKeyCredential("sk-openai-app-key"), new OpenAIClientOptions
    {
        Endpoint = new Uri("https://api.openai.com/v1"),
        Transport = new HttpClientPipelineTransport(http),
        RetryPolicy = new ClientRetryPolicy(0),
    });

    private static ChatMessage[] Prompt() => [new SystemChatMessage("You are terse."), new UserChatMessage("Say hello — 日本")];

    [Fact]
    public async Task NonStreamed_SigV4Signed_TextAndUsage_OneRecord()
    {
        await using var t = new TestRecorder();
        using var http = Http(t, Options(), ("x-mock-prompt-tokens", "30"), ("x-mock-cached-tokens", "70"), ("x-mock-completion-tokens", "12"));

        var completion = (await Sdk(http).CompleteChatAsync(Prompt())).Value;

        Assert.Equal("This is a deterministic answer from the TokenMetrics mock server.", completion.Content[0].Text);
        Assert.Equal(100, completion.Usage.InputTokenCount);
        Assert.Equal(70, completion.Usage.InputTokenDetails.CachedTokenCount);
        Assert.Equal(12, completion.Usage.OutputTokenCount);

        var sent = _server.Requests.Single();
        Assert.Equal($"/model/{Routed}/converse", sent.Path);
        var authorization = sent.GetHeader("Authorization")!;
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260102/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=", authorization, StringComparison.Ordinal);
        Assert.Equal("20260102T030405Z", sent.GetHeader("X-Amz-Date"));

        // The server-side check AWS does: the signature over what actually arrived (path as sent, host, body) matches.
        var wireUri = new Uri(_server.BaseAddress, "model/" + Uri.EscapeDataString(Routed) + "/converse");
        var expected = SigV4.Authorization("POST", wireUri, [new("content-type", sent.GetHeader("Content-Type")!)], sent.Body.Span, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", null, "us-east-1", "bedrock", Now);
        Assert.Equal(expected, authorization);

        using var body = sent.ParseBody();
        Assert.Equal("You are terse.", body.RootElement.GetProperty("system")[0].GetProperty("text").GetString());
        Assert.Equal("Say hello — 日本", body.RootElement.GetProperty("messages")[0].GetProperty("content")[0].GetProperty("text").GetString());

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal("aws.bedrock", record.Provider);
        Assert.Equal("gpt-4o", record.RequestModel);
        Assert.Equal(Routed, record.RoutedModel);
        Assert.Equal(100, record.Usage.InputTokenCount);
        Assert.Equal(70, record.Usage.CachedInputTokenCount);
        Assert.Equal(12, record.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task Streamed_EventStreamBecomesServerSentEvents_OneRecord()
    {
        await using var t = new TestRecorder();
        using var http = Http(t, Options(), ("x-mock-prompt-tokens", "25"), ("x-mock-split-bytes", "11"));

        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in Sdk(http).CompleteChatStreamingAsync(Prompt()))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage = update.Usage ?? usage;
        }

        Assert.Equal("This is a deterministic answer from the TokenMetrics mock server.", text.ToString());
        Assert.Equal($"/model/{Routed}/converse-stream", _server.Requests.Single().Path);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.True(record.IsStreaming);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
        Assert.Equal(25, record.Usage.InputTokenCount);
        Assert.Equal(10, record.Usage.OutputTokenCount);
        if (usage is not null)
        {
            Assert.Equal(25, usage.InputTokenCount);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ToolCalls_ComeBackAsOpenAIToolCalls(bool stream)
    {
        await using var t = new TestRecorder();
        using var http = Http(t, Options(Routed + "+mock-tools"));
        var options = new ChatCompletionOptions { Tools = { ChatTool.CreateFunctionTool("get_weather", "Weather for a place", AnthropicRewriteTests.WeatherSchema) } };

        string? name = null;
        var arguments = new StringBuilder();
        ChatFinishReason? finish = null;
        if (stream)
        {
            await foreach (var update in Sdk(http).CompleteChatStreamingAsync(Prompt(), options))
            {
                foreach (var call in update.ToolCallUpdates)
                {
                    name ??= call.FunctionName;
                    arguments.Append(call.FunctionArgumentsUpdate?.ToString());
                }

                finish = update.FinishReason ?? finish;
            }
        }
        else
        {
            var completion = (await Sdk(http).CompleteChatAsync(Prompt(), options)).Value;
            var call = Assert.Single(completion.ToolCalls);
            name = call.FunctionName;
            arguments.Append(call.FunctionArguments.ToString());
            finish = completion.FinishReason;
        }

        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal("get_weather", name);
        using var args = JsonDocument.Parse(arguments.ToString());
        Assert.Equal("mock-location", args.RootElement.GetProperty("location").GetString());
        using var body = _server.Requests.Single().ParseBody();
        Assert.Equal("get_weather", body.RootElement.GetProperty("toolConfig").GetProperty("tools")[0].GetProperty("toolSpec").GetProperty("name").GetString());
    }

    [Fact]
    public async Task BearerToken_WinsOverSigV4()
    {
        await using var t = new TestRecorder();
        var options = Options();
        options.Rewrite.Settings["BearerToken"] = "bedrock-api-key";
        using var http = Http(t, options);

        _ = await Sdk(http).CompleteChatAsync(Prompt());

        var sent = _server.Requests.Single();
        Assert.Equal("Bearer bedrock-api-key", sent.GetHeader("Authorization"));
        Assert.Null(sent.GetHeader("X-Amz-Date"));
    }

    [Fact]
    public async Task HttpImageUrl_IsNotSupported_NamingTheField()
    {
        await using var t = new TestRecorder();
        using var http = Http(t, Options());

        var ex = await Assert.ThrowsAsync<NotSupportedException>(() => http.PostAsync("https://api.openai.com/v1/chat/completions", new StringContent("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/a.png\"}}]}]}", Encoding.UTF8, "application/json")));

        Assert.Contains("messages[0].content[0].image_url.url", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task VendorError_ReachesTheSdkInOpenAIShape()
    {
        await using var t = new TestRecorder();
        using var http = Http(t, Options(), ("x-mock-status", "429"));

        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Sdk(http).CompleteChatAsync(Prompt()));

        Assert.Equal(429, ex.Status);
        Assert.Contains("Too many requests", ex.Message, StringComparison.Ordinal);
        Assert.Equal(TokenUsageStatus.Error, Assert.Single(await t.RecordsAsync(1)).Status);
    }

    [Fact]
    public async Task InStreamException_ReachesTheAppAsAnErrorEvent_AndIsRecorded()
    {
        await using var t = new TestRecorder();
        using var http = Http(t, Options(), ("x-mock-stream-error-after", "2"));

        using var response = await http.PostAsync("https://api.openai.com/v1/chat/completions", new StringContent("{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("\"error\":{\"message\":\"The model stream failed.\",\"type\":\"modelStreamErrorException\"", body, StringComparison.Ordinal);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Error, record.Status);
        Assert.Equal("modelStreamErrorException", record.ErrorType);
    }
}
