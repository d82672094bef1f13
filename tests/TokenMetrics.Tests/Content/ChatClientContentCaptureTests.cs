using System.Text;
using Microsoft.Extensions.AI;
using TokenMetrics.Tests.TestHelpers;

namespace TokenMetrics.Tests.Content;

public class ChatClientContentCaptureTests
{
    private static readonly ChatMessage[] Prompt = [new(ChatRole.System, "Be terse."), new(ChatRole.User, "Weather in Beijing?"), new(ChatRole.Assistant, "Which day?"), new(ChatRole.User, "Today")];

    private static readonly ChatResponseUpdate[] Updates =
    [
        new(ChatRole.Assistant, [new TextReasoningContent("Need the ")]) { ResponseId = "r1", ModelId = "m" },
        new(ChatRole.Assistant, [new TextReasoningContent("forecast.")]) { ResponseId = "r1" },
        new(ChatRole.Assistant, "Checking ") { ResponseId = "r1" },
        new(ChatRole.Assistant, "now.") { ResponseId = "r1" },
        new(ChatRole.Assistant, [new FunctionCallContent("call_1", "get_weather", new Dictionary<string, object?> { ["location"] = "Beijing" })]) { ResponseId = "r1" },
        new(ChatRole.Assistant, [new UsageContent(new UsageDetails { InputTokenCount = 30, OutputTokenCount = 12, TotalTokenCount = 42 })]) { ResponseId = "r1" },
    ];

    [Fact]
    public async Task Streamed_QuestionReasoningAnswerAndFunctionCall()
    {
        await using var t = new TestRecorder(o => o.CaptureContent = true);
        using var inner = new TestChatClient { GetStreamingResponseAsyncCallback = (_, _, ct) => TestChatClient.Yield(Updates, ct) };
        using var client = new TokenMetricsChatClient(inner, t.Recorder);

        await foreach (var _ in client.GetStreamingResponseAsync(Prompt))
        {
        }

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(42, record.Usage.TotalTokenCount);
        var content = record.Content!;
        Assert.Equal(("Today", "Checking now.", "Need the forecast."), (content.Question, content.Answer, content.Reasoning));
        var call = Assert.Single(content.ToolCalls!);
        Assert.Equal((0, "call_1", "function", "get_weather", """{"location":"Beijing"}"""), (call.Index, call.Id, call.Type, call.Name, call.Arguments));
    }

    [Fact]
    public async Task NonStreamed_AnswerFromTheResponse_OffByDefault()
    {
        await using var t = new TestRecorder();
        using var inner = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, [new TextReasoningContent("think"), new TextContent("Sunny.")]))
            {
                Usage = new UsageDetails { InputTokenCount = 5, OutputTokenCount = 2, TotalTokenCount = 7 },
            }),
        };
        using var client = new TokenMetricsChatClient(inner, t.Recorder);

        _ = await client.GetResponseAsync(Prompt);
        Assert.Null(Assert.Single(await t.RecordsAsync(1)).Content);

        t.Recorder.ApplySettings(t.Recorder.Settings with { CaptureContent = true });
        _ = await client.GetResponseAsync(Prompt);
        var content = (await t.RecordsAsync(2))[1].Content!;
        Assert.Equal(("Today", "Sunny.", "think"), (content.Question, content.Answer, content.Reasoning));
        Assert.Null(content.ToolCalls);
    }

    [Fact]
    public async Task MeteredHttpClientBeneath_RecordsTheContentOnce()
    {
        // The chat client above an HTTP meter: the HTTP record carries the content, the chat client records nothing.
        await using var t = new TestRecorder(o => o.CaptureContent = true);
        var sse = ContentTestKit.Sse(
            """{"id":"c1","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hello"}}]}""",
            """{"id":"c1","model":"gpt-4o","choices":[{"index":0,"delta":{"content":" there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}""",
            "[DONE]");
        using var http = t.CreateClient(StubHttpHandler.Returning((_, _) => StubHttpHandler.Sse(sse)));
        using var inner = new MiniOpenAIChatClient(http, "gpt-4o");
        using var client = new TokenMetricsChatClient(inner, t.Recorder);

        await foreach (var _ in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Greet me")]))
        {
        }

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageLayer.Http, record.Layer);
        Assert.Equal(("Greet me", "Hello there"), (record.Content!.Question, record.Content.Answer));
    }
}
