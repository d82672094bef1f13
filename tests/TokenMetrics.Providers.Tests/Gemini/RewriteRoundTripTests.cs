using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using OpenAI;
using OpenAI.Chat;
using TokenMetrics.Providers.Tests.Support;
using TokenMetrics.Testing;

namespace TokenMetrics.Providers.Tests.Gemini;

/// <summary>The unmodified OpenAI SDK → TokenMetricsHandler(RewriteTo) over real sockets → the mock Gemini / DashScope / Ollama
/// server → an OpenAI-format answer, streamed and not, with tool calls; one record per call with both models.</summary>
public sealed class RewriteRoundTripTests : IAsyncLifetime
{
    private MockLlmServer _server = null!;

    public async Task InitializeAsync() => _server = await MockLlmServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string, bool> Targets => new()
    {
        { "gcp.gemini", false }, { "gcp.gemini", true },
        { "dashscope", false }, { "dashscope", true },
        { "ollama", false }, { "ollama", true },
    };

    private static ITokenUsageRewriter Rewriter(string target) => target switch
    {
        "gcp.gemini" => GeminiTokenMetricsBuilderExtensions.CreateGeminiRewriter(),
        "dashscope" => DashScopeTokenMetricsBuilderExtensions.CreateDashScopeRewriter(),
        _ => OllamaTokenMetricsBuilderExtensions.CreateOllamaRewriter(),
    };

    private static string VendorModel(string target) => target switch
    {
        "gcp.gemini" => "gemini-2.5-flash",
        "dashscope" => "qwen-plus",
        _ => "llama3.2",
    };

    private (ChatClient Client, TestRecorder Recorder) Sdk(string target, string appModel = "gpt-4o-mini", string? vendorModel = null)
    {
        var recorder = new TestRecorder();
        var options = new TokenMetricsHandlerOptions { RewriteTo = target };
        options.Rewrite.Endpoint = _server.BaseAddress;
        options.Rewrite.ModelMapping["gpt-*"] = vendorModel ?? VendorModel(target);
        var http = new HttpClient(new TokenMetricsHandler(recorder.Recorder, [OpenAITokenMetricsBuilderExtensions.CreateOpenAIProtocol(), Rewriter(target)], new SocketsHttpHandler(), options));
        var client = new ChatClient(appModel, new ApiKeyCredential("sk-app-key"), new OpenAIClientOptions
        {
            Endpoint = new Uri("https://api.openai.com/v1"),
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(0),
        });
        return (client, recorder);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task Text_StreamedAndNot_UsageRecordedOnce(string target, bool stream)
    {
        var (client, recorder) = Sdk(target);
        await using var _ = recorder;
        ChatMessage[] messages = [new SystemChatMessage("Be brief."), new UserChatMessage("Say hello in two languages: héllo, 你好.")];
        string text;
        ChatTokenUsage? usage;
        if (stream)
        {
            var builder = new StringBuilder();
            usage = null;
            await foreach (var update in client.CompleteChatStreamingAsync(messages))
            {
                foreach (var part in update.ContentUpdate)
                {
                    builder.Append(part.Text);
                }

                usage ??= update.Usage;
            }

            text = builder.ToString();
        }
        else
        {
            ChatCompletion completion = await client.CompleteChatAsync(messages);
            text = completion.Content[0].Text;
            usage = completion.Usage;
            Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        }

        Assert.Equal("This is a deterministic answer from the TokenMetrics mock server.", text);
        Assert.NotNull(usage);
        var record = Assert.Single(await recorder.RecordsAsync(1));
        Assert.Equal(target, record.Provider);
        Assert.Equal("gpt-4o-mini", record.RequestModel);
        Assert.Equal(VendorModel(target), record.RoutedModel);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
        Assert.Equal(TokenUsageSource.Reported, record.Source);
        Assert.Equal(stream, record.IsStreaming);
        Assert.Equal(usage.InputTokenCount, record.Usage.InputTokenCount);
        Assert.Equal(usage.OutputTokenCount, record.Usage.OutputTokenCount);
        Assert.Equal(10, record.Usage.OutputTokenCount); // one token per answer chunk (word) in the mock

        var sent = Assert.Single(_server.Requests);
        Assert.DoesNotContain("gpt-4o-mini", sent.BodyText, StringComparison.Ordinal);
        switch (target)
        {
            case "gcp.gemini":
                Assert.Equal($"/v1beta/models/gemini-2.5-flash:{(stream ? "streamGenerateContent" : "generateContent")}", sent.Path);
                Assert.Equal(stream ? "?alt=sse" : string.Empty, sent.QueryString);
                Assert.Equal("sk-app-key", sent.GetHeader("x-goog-api-key"));
                Assert.Null(sent.GetHeader("Authorization"));
                Assert.Contains("\"systemInstruction\"", sent.BodyText, StringComparison.Ordinal);
                break;
            case "dashscope":
                Assert.Equal("/api/v1/services/aigc/text-generation/generation", sent.Path);
                Assert.Equal("Bearer sk-app-key", sent.GetHeader("Authorization"));
                Assert.Equal(stream ? "enable" : null, sent.GetHeader("X-DashScope-SSE"));
                break;
            default:
                Assert.Equal("/api/chat", sent.Path);
                Assert.Contains(stream ? "\"stream\":true" : "\"stream\":false", sent.BodyText, StringComparison.Ordinal);
                break;
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task ToolCalls_RoundTrip(string target, bool stream)
    {
        var (client, recorder) = Sdk(target, vendorModel: VendorModel(target) + "+mock-tools");
        await using var _ = recorder;
        var tool = ChatTool.CreateFunctionTool("get_weather", "Weather for a city", BinaryData.FromString("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"],\"additionalProperties\":false}"));
        var options = new ChatCompletionOptions { Tools = { tool } };
        ChatMessage[] messages = [new UserChatMessage("Weather in Paris?")];
        string name;
        string arguments;
        string id;
        if (stream)
        {
            var names = new Dictionary<int, string>();
            var args = new Dictionary<int, StringBuilder>();
            var ids = new Dictionary<int, string>();
            ChatFinishReason? finish = null;
            await foreach (var update in client.CompleteChatStreamingAsync(messages, options))
            {
                foreach (var call in update.ToolCallUpdates)
                {
                    if (call.FunctionName is not null)
                    {
                        names[call.Index] = call.FunctionName;
                    }

                    if (call.ToolCallId is not null)
                    {
                        ids[call.Index] = call.ToolCallId;
                    }

                    (args.TryGetValue(call.Index, out var b) ? b : args[call.Index] = new StringBuilder()).Append(call.FunctionArgumentsUpdate?.ToString());
                }

                finish ??= update.FinishReason;
            }

            Assert.Equal(ChatFinishReason.ToolCalls, finish);
            name = names[0];
            arguments = args[0].ToString();
            id = ids[0];
        }
        else
        {
            ChatCompletion completion = await client.CompleteChatAsync(messages, options);
            Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
            var call = Assert.Single(completion.ToolCalls);
            name = call.FunctionName;
            arguments = call.FunctionArguments.ToString();
            id = call.Id;
        }

        Assert.Equal("get_weather", name);
        Assert.Equal("{\"city\":\"mock-city\"}", arguments.Replace(" ", string.Empty, StringComparison.Ordinal));
        Assert.False(string.IsNullOrEmpty(id));

        // Second round: the tool result goes back in the vendor's shape.
        ChatMessage[] followUp = [messages[0], new AssistantChatMessage([ChatToolCall.CreateFunctionToolCall(id, name, BinaryData.FromString(arguments))]), new ToolChatMessage(id, "{\"temperature\":21}")];
        ChatCompletion second = await client.CompleteChatAsync(followUp, options);
        Assert.NotNull(second);
        var sent = _server.Requests[^1].BodyText;
        switch (target)
        {
            case "gcp.gemini":
                Assert.Contains("\"functionResponse\":{\"name\":\"get_weather\",\"response\":{\"temperature\":21}}", sent, StringComparison.Ordinal);
                Assert.Contains("\"functionCall\":{\"name\":\"get_weather\"", sent, StringComparison.Ordinal);
                Assert.DoesNotContain("additionalProperties", sent, StringComparison.Ordinal);
                break;
            case "dashscope":
                Assert.Contains("\"tool_call_id\":\"" + id + "\"", sent, StringComparison.Ordinal);
                break;
            default:
                Assert.Contains("\"role\":\"tool\"", sent, StringComparison.Ordinal);
                Assert.Contains("\"arguments\":{\"city\":\"mock-city\"}", sent, StringComparison.Ordinal);
                break;
        }

        var records = await recorder.RecordsAsync(2);
        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.Equal(TokenUsageSource.Reported, r.Source));
    }

    [Theory]
    [InlineData("gcp.gemini")]
    [InlineData("dashscope")]
    [InlineData("ollama")]
    public async Task VendorError_ReachesTheSdkAsAnOpenAIError(string target)
    {
        var (client, recorder) = Sdk(target, vendorModel: "mock-error-429");
        await using var _ = recorder;
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(429, ex.Status);
        var body = ex.GetRawResponse()!.Content.ToString();
        Assert.Contains("\"error\":{\"message\":", body, StringComparison.Ordinal);
        Assert.Contains("\"type\":\"rate_limit_error\"", body, StringComparison.Ordinal);
        var record = Assert.Single(await recorder.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Error, record.Status);
        Assert.Equal(429, record.HttpStatusCode);
    }

    [Theory]
    [InlineData("gcp.gemini", "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"logprobs\":true}", "logprobs")]
    [InlineData("gcp.gemini", "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x/y.png\"}}]}]}", "image_url")]
    [InlineData("dashscope", "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"n\":2}", "'n'")]
    [InlineData("ollama", "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tool_choice\":\"required\"}", "tool_choice")]
    public async Task UnsupportedField_FailsNamingIt_AndNothingIsSent(string target, string body, string field)
    {
        await using var recorder = new TestRecorder();
        var options = new TokenMetricsHandlerOptions { RewriteTo = target };
        options.Rewrite.Endpoint = _server.BaseAddress;
        using var http = new HttpClient(new TokenMetricsHandler(recorder.Recorder, [Rewriter(target)], new SocketsHttpHandler(), options));
        var ex = await Assert.ThrowsAsync<NotSupportedException>(() => http.PostAsync("https://api.openai.com/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json")));
        Assert.Contains(field, ex.Message, StringComparison.Ordinal);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task Gemini_ImagesAndSchema_AreConverted()
    {
        await using var recorder = new TestRecorder();
        var options = new TokenMetricsHandlerOptions { RewriteTo = "gcp.gemini" };
        options.Rewrite.Endpoint = _server.BaseAddress;
        options.Rewrite.ApiKey = "configured-key";
        using var http = new HttpClient(new TokenMetricsHandler(recorder.Recorder, [Rewriter("gcp.gemini")], new SocketsHttpHandler(), options));
        const string Body = "{\"model\":\"gemini-2.0-flash\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is this?\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,iVBORw0KGgo=\"}}]}],\"temperature\":0.2,\"top_p\":0.9,\"max_tokens\":100,\"stop\":[\"END\"],\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a\",\"strict\":true,\"schema\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"string\"}},\"additionalProperties\":false}}}}";
        using var response = await http.PostAsync("https://api.openai.com/v1/chat/completions", new StringContent(Body, Encoding.UTF8, "application/json"));
        var answer = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"object\":\"chat.completion\"", answer, StringComparison.Ordinal);
        var sent = Assert.Single(_server.Requests);
        Assert.Equal("configured-key", sent.GetHeader("x-goog-api-key"));
        Assert.Contains("\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"iVBORw0KGgo=\"}", sent.BodyText, StringComparison.Ordinal);
        Assert.Contains("\"generationConfig\":{\"temperature\":0.2,\"topP\":0.9,\"maxOutputTokens\":100,\"stopSequences\":[\"END\"],\"responseMimeType\":\"application/json\",\"responseSchema\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"string\"}}}}", sent.BodyText, StringComparison.Ordinal);
    }
}
