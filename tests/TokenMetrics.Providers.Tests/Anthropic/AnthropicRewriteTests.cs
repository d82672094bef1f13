using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using TokenMetrics.Testing;

namespace TokenMetrics.Providers.Tests.Anthropic;

/// <summary>The unmodified OpenAI .NET SDK, rewritten to Anthropic by configuration, against the mock's Anthropic API over sockets.</summary>
public sealed class AnthropicRewriteTests : IAsyncLifetime
{
    internal static readonly BinaryData WeatherSchema = BinaryData.FromString("{\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\"},\"days\":{\"type\":\"integer\"}},\"required\":[\"location\"]}");

    private MockLlmServer _server = null!;

    public async Task InitializeAsync() => _server = await MockLlmServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private TokenMetricsHandlerOptions Options(string routedModel)
    {
        var options = new TokenMetricsHandlerOptions { RewriteTo = "anthropic" };
        options.Rewrite.Endpoint = _server.BaseAddress;
        options.Rewrite.ApiKey = "sk-ant-configured";
        options.Rewrite.ModelMapping["gpt-4o"] = routedModel;
        return options;
    }

    private HttpClient Http(TestRecorder t, TokenMetricsHandlerOptions options, params (string, string)[] headers) =>
        new(new TokenMetricsHandler(t.Recorder, [AnthropicTokenMetricsBuilderExtensions.CreateAnthropicRewriter(), AnthropicTokenMetricsBuilderExtensions.CreateAnthropicProtocol(), OpenAITokenMetricsBuilderExtensions.CreateOpenAIProtocol()], new HeaderHandler(new SocketsHttpHandler(), headers), options));

    private static ChatClient Sdk(HttpClient http) => new("gpt-4o", new ApiKeyCredential("sk-openai-app-key"), new OpenAIClientOptions
    {
        Endpoint = new Uri("https://api.openai.com/v1"),
        Transport = new HttpClientPipelineTransport(http),
        RetryPolicy = new ClientRetryPolicy(0),
    });

    private static ChatMessage[] Prompt() => [new SystemChatMessage("You are terse."), new UserChatMessage("Say hello — ça va? 日本")];

    [Fact]
    public async Task NonStreamed_TextAndUsage_OneRecordWithBothModels()
    {
        await using var t = new TestRecorder();
        using var http = Http(t, Options("claude-sonnet-4-5"), ("x-mock-prompt-tokens", "42"), ("x-mock-cached-tokens", "8"), ("x-mock-completion-tokens", "17"));

        var completion = (await Sdk(http).CompleteChatAsync(Prompt())).Value;

        Assert.Equal("This is a deterministic answer from the TokenMetrics mock server.", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal("claude-sonnet-4-5", completion.Model);
        Assert.Equal(50, completion.Usage.InputTokenCount);
        Assert.Equal(8, completion.Usage.InputTokenDetails.CachedTokenCount);
        Assert.Equal(17, completion.Usage.OutputTokenCount);

        var sent = _server.Requests.Single();
        Assert.Equal("/v1/messages", sent.Path);
        Assert.Equal("sk-ant-configured", sent.GetHeader("x-api-key"));
        Assert.Equal("2023-06-01", sent.GetHeader("anthropic-version"));
        Assert.Null(sent.GetHeader("Authorization"));
        using var body = sent.ParseBody();
        Assert.Equal("claude-sonnet-4-5", body.RootElement.GetProperty("model").GetString());
        Assert.Equal(4096, body.RootElement.GetProperty("max_tokens").GetInt32());
        Assert.Equal("You are terse.", body.RootElement.GetProperty("system")[0].GetProperty("text").GetString());
        Assert.Equal("user", Assert.Single(body.RootElement.GetProperty("messages").EnumerateArray()).GetProperty("role").GetString());

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal("anthropic", record.Provider);
        Assert.Equal("gpt-4o", record.RequestModel);
        Assert.Equal("claude-sonnet-4-5", record.RoutedModel);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
        Assert.Equal(50, record.Usage.InputTokenCount);
        Assert.Equal(17, record.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task Streamed_TextChunksAndUsage_OneRecord()
    {
        await using var t = new TestRecorder();
        using var http = Http(t, Options("claude-haiku-4-5"), ("x-mock-prompt-tokens", "21"), ("x-mock-split-bytes", "3"));

        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in Sdk(http).CompleteChatStreamingAsync(Prompt()))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage = update.Usage ?? usage;
            finish = update.FinishReason ?? finish;
        }

        Assert.Equal("This is a deterministic answer from the TokenMetrics mock server.", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.True(record.IsStreaming);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
        Assert.Equal(21, record.Usage.InputTokenCount);
        Assert.Equal(10, record.Usage.OutputTokenCount); // one per word chunk of the default answer
        Assert.Equal("gpt-4o", record.RequestModel);
        Assert.Equal("claude-haiku-4-5", record.RoutedModel);
        if (usage is not null)
        {
            Assert.Equal(21, usage.InputTokenCount);
            Assert.Equal(10, usage.OutputTokenCount);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ToolCalls_ComeBackAsOpenAIToolCalls_ArgumentsWhole(bool stream)
    {
        await using var t = new TestRecorder();
        using var http = Http(t, Options("claude-sonnet-4-5+mock-tools"));
        var options = new ChatCompletionOptions { Tools = { ChatTool.CreateFunctionTool("get_weather", "Weather for a place", WeatherSchema) } };

        string? id = null, name = null;
        var arguments = new StringBuilder();
        ChatFinishReason? finish;
        if (stream)
        {
            finish = null;
            await foreach (var update in Sdk(http).CompleteChatStreamingAsync(Prompt(), options))
            {
                foreach (var call in update.ToolCallUpdates)
                {
                    id ??= call.ToolCallId;
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
            (id, name) = (call.Id, call.FunctionName);
            arguments.Append(call.FunctionArguments.ToString());
            finish = completion.FinishReason;
        }

        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.StartsWith("toolu_", id, StringComparison.Ordinal);
        Assert.Equal("get_weather", name);
        using var args = JsonDocument.Parse(arguments.ToString());
        Assert.Equal("mock-location", args.RootElement.GetProperty("location").GetString());
        Assert.Equal(1, args.RootElement.GetProperty("days").GetInt32());

        using var body = _server.Requests.Single().ParseBody();
        var tool = Assert.Single(body.RootElement.GetProperty("tools").EnumerateArray());
        Assert.Equal("get_weather", tool.GetProperty("name").GetString());
        Assert.Equal("object", tool.GetProperty("input_schema").GetProperty("type").GetString());
        Assert.Equal(TokenUsageStatus.Ok, Assert.Single(await t.RecordsAsync(1)).Status);
    }

    [Fact]
    public async Task ToolLoop_AssistantToolCallsAndToolResults_AreSentAsToolUseAndToolResultBlocks()
    {
        await using var t = new TestRecorder();
        using var http = Http(t, Options("claude-sonnet-4-5"));
        ChatMessage[] history =
        [
            new UserChatMessage("Weather in Paris?"),
            new AssistantChatMessage([ChatToolCall.CreateFunctionToolCall("toolu_1", "get_weather", BinaryData.FromString("{\"location\":\"Paris\"}"))]),
            new ToolChatMessage("toolu_1", "18°C and sunny"),
        ];

        var completion = (await Sdk(http).CompleteChatAsync(history)).Value;

        Assert.NotEmpty(completion.Content[0].Text);
        using var body = _server.Requests.Single().ParseBody();
        var messages = body.RootElement.GetProperty("messages").EnumerateArray().ToArray();
        Assert.Equal(["user", "assistant", "user"], messages.Select(m => m.GetProperty("role").GetString()));
        var toolUse = messages[1].GetProperty("content")[0];
        Assert.Equal("tool_use", toolUse.GetProperty("type").GetString());
        Assert.Equal("Paris", toolUse.GetProperty("input").GetProperty("location").GetString());
        var toolResult = messages[2].GetProperty("content")[0];
        Assert.Equal("tool_result", toolResult.GetProperty("type").GetString());
        Assert.Equal("toolu_1", toolResult.GetProperty("tool_use_id").GetString());
        Assert.Equal("18°C and sunny", toolResult.GetProperty("content").GetString());
    }

    [Fact]
    public async Task Images_DataUrlsBecomeBase64Sources_HttpUrlsBecomeUrlSources()
    {
        await using var t = new TestRecorder();
        using var http = Http(t, Options("claude-sonnet-4-5"));
        ChatMessage[] prompt =
        [
            new UserChatMessage(
                ChatMessageContentPart.CreateTextPart("What is in these?"),
                ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes([1, 2, 3]), "image/png"),
                ChatMessageContentPart.CreateImagePart(new Uri("https://example.com/cat.jpg"))),
        ];

        _ = await Sdk(http).CompleteChatAsync(prompt);

        using var body = _server.Requests.Single().ParseBody();
        var content = body.RootElement.GetProperty("messages")[0].GetProperty("content");
        Assert.Equal("base64", content[1].GetProperty("source").GetProperty("type").GetString());
        Assert.Equal("image/png", content[1].GetProperty("source").GetProperty("media_type").GetString());
        Assert.Equal(Convert.ToBase64String([1, 2, 3]), content[1].GetProperty("source").GetProperty("data").GetString());
        Assert.Equal("url", content[2].GetProperty("source").GetProperty("type").GetString());
        Assert.Equal("https://example.com/cat.jpg", content[2].GetProperty("source").GetProperty("url").GetString());
    }

    [Fact]
    public async Task UnsupportedField_FailsWithTheFieldName_AndNothingIsSent()
    {
        await using var t = new TestRecorder();
        using var http = Http(t, Options("claude-sonnet-4-5"));

        var ex = await Assert.ThrowsAsync<NotSupportedException>(() => http.PostAsync("https://api.openai.com/v1/chat/completions", new StringContent("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"logprobs\":true}", Encoding.UTF8, "application/json")));

        Assert.Contains("'logprobs'", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_server.Requests);
        Assert.Equal(TokenUsageStatus.Error, Assert.Single(await t.RecordsAsync(1)).Status);
    }

    [Fact]
    public async Task JsonSchemaResponseFormat_IsNotSupported_NamingTheField()
    {
        await using var t = new TestRecorder();
        using var http = Http(t, Options("claude-sonnet-4-5"));

        var ex = await Assert.ThrowsAsync<NotSupportedException>(() => http.PostAsync("https://api.openai.com/v1/chat/completions", new StringContent("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{}}}}", Encoding.UTF8, "application/json")));

        Assert.Contains("'response_format'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VendorError_ReachesTheSdkInOpenAIShape_AndIsRecorded()
    {
        await using var t = new TestRecorder();
        using var http = Http(t, Options("claude-sonnet-4-5"), ("x-mock-status", "529"));

        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Sdk(http).CompleteChatAsync(Prompt()));

        Assert.Equal(529, ex.Status);
        Assert.Contains("Overloaded", ex.Message, StringComparison.Ordinal);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Error, record.Status);
        Assert.Equal("anthropic", record.Provider);
    }

    [Fact]
    public async Task StreamCut_IsRecordedAsTruncated()
    {
        await using var t = new TestRecorder();
        using var http = Http(t, Options("claude-sonnet-4-5"), ("x-mock-cut-after", "3"));

        var text = new StringBuilder();
        await foreach (var update in Sdk(http).CompleteChatStreamingAsync(Prompt()))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        Assert.Equal("This is a", text.ToString());
        Assert.Equal(TokenUsageStatus.Truncated, Assert.Single(await t.RecordsAsync(1)).Status);
    }

    [Fact]
    public async Task AppKey_IsMovedToXApiKey_WhenNoneIsConfigured()
    {
        await using var t = new TestRecorder();
        var options = Options("claude-sonnet-4-5");
        options.Rewrite.ApiKey = null;
        options.Rewrite.Settings["Version"] = "2023-01-01";
        options.Rewrite.Settings["DefaultMaxTokens"] = "123";
        using var http = Http(t, options);

        _ = await Sdk(http).CompleteChatAsync(Prompt());

        var sent = _server.Requests.Single();
        Assert.Equal("sk-openai-app-key", sent.GetHeader("x-api-key"));
        Assert.Null(sent.GetHeader("Authorization"));
        Assert.Equal("2023-01-01", sent.GetHeader("anthropic-version"));
        using var body = sent.ParseBody();
        Assert.Equal(123, body.RootElement.GetProperty("max_tokens").GetInt32());
    }
}
