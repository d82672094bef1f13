using Microsoft.Extensions.AI;
using TokenMetrics.Tests.TestHelpers;

namespace TokenMetrics.Tests.ChatClients;

public class TokenMetricsChatClientTests
{
    private static readonly ChatMessage[] Prompt = [new(ChatRole.System, "You are terse."), new(ChatRole.User, "Say hello")];

    [Fact]
    public void Constructor_NullArguments_Throw()
    {
        using var inner = new TestChatClient();
        Assert.Throws<ArgumentNullException>("innerClient", () => new TokenMetricsChatClient(null!, null!));
        Assert.Throws<ArgumentNullException>("recorder", () => new TokenMetricsChatClient(inner, null!));
    }

    [Fact]
    public async Task GetResponse_RecordsReportedUsageAndMetadata()
    {
        await using var t = new TestRecorder();
        using var inner = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Hi"))
            {
                ModelId = "test-model-2025",
                ResponseId = "r1",
                Usage = new UsageDetails { InputTokenCount = 100, OutputTokenCount = 20, CachedInputTokenCount = 64, ReasoningTokenCount = 5, AdditionalCounts = new() { ["cache_creation_input_tokens"] = 12 } },
            }),
        };
        using var client = new TokenMetricsChatClient(inner, t.Recorder) { ClientName = "assistant" };

        using (TokenMetricsScope.Begin(userId: "u-1", sessionId: "s-1"))
        {
            _ = await client.GetResponseAsync(Prompt, new ChatOptions { ModelId = "test-model" });
        }

        var r = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageLayer.ChatClient, r.Layer);
        Assert.Equal("testprovider", r.Provider);
        Assert.Equal("test-model", r.RequestModel);
        Assert.Equal("test-model-2025", r.ResponseModel);
        Assert.Equal(100, r.Usage.InputTokenCount);
        Assert.Equal(120, r.Usage.TotalTokenCount);
        Assert.Equal(64, r.Usage.CachedInputTokenCount);
        Assert.Equal(12, r.Usage.CacheWriteInputTokenCount);
        Assert.Equal(5, r.Usage.ReasoningTokenCount);
        Assert.Equal(TokenUsageSource.Reported, r.Source);
        Assert.Equal("u-1", r.UserId);
        Assert.Equal("s-1", r.SessionId);
        Assert.Equal("assistant", r.ClientName);
        Assert.Equal("https://llm.example.test/v1", r.Endpoint);
    }

    [Fact]
    public async Task Streaming_CumulativeUsageIsNeverSummed_EachResponseIsARoundOfOneOperation()
    {
        await using var t = new TestRecorder();
        ChatResponseUpdate U(string id, params AIContent[] contents) => new(ChatRole.Assistant, [.. contents]) { ResponseId = id, ModelId = "m" };
        using var inner = new TestChatClient
        {
            // Round 1 reports input first, then cumulative output twice (Anthropic-style); round 2 (a tool loop below) reports once.
            GetStreamingResponseAsyncCallback = (_, _, ct) => TestChatClient.Yield(
            [
                U("r1", new UsageContent(new UsageDetails { InputTokenCount = 50 })),
                U("r1", new TextContent("Hel")),
                U("r1", new UsageContent(new UsageDetails { OutputTokenCount = 3 })),
                U("r1", new TextContent("lo")),
                U("r1", new UsageContent(new UsageDetails { OutputTokenCount = 7 })),
                U("r2", new TextContent("Done")),
                U("r2", new UsageContent(new UsageDetails { InputTokenCount = 80, OutputTokenCount = 4 })),
            ], ct),
        };
        using var client = new TokenMetricsChatClient(inner, t.Recorder);

        await foreach (var _ in client.GetStreamingResponseAsync(Prompt))
        {
        }

        var records = (await t.RecordsAsync(2)).OrderBy(r => r.RoundIndex).ToList();
        Assert.Equal(2, records.Count);
        var (r1, r2) = (records[0], records[1]);
        Assert.Equal((50, 7, 57), (r1.Usage.InputTokenCount, r1.Usage.OutputTokenCount, r1.Usage.TotalTokenCount));
        Assert.Equal((80, 4, 84), (r2.Usage.InputTokenCount, r2.Usage.OutputTokenCount, r2.Usage.TotalTokenCount));
        Assert.Equal(("r1", "r2"), (r1.ResponseId, r2.ResponseId));
        Assert.Equal((0, 1), (r1.RoundIndex, r2.RoundIndex));
        Assert.NotNull(r1.OperationId);
        Assert.Equal(r1.OperationId, r2.OperationId);
        Assert.All(records, r => Assert.True(r.IsStreaming));
        Assert.All(records, r => Assert.NotNull(r.TimeToFirstChunk));
        Assert.All(records, r => Assert.Equal(TokenUsageStatus.Ok, r.Status));
    }

    [Fact]
    public async Task Streaming_UsageMerge_IsIndependentOfHowUpdatesAreChunked()
    {
        // Property: for random splits of one cumulative report sequence into updates, the record is the same.
        var seed = Environment.TickCount;
        var random = new Random(seed);
        for (var iteration = 0; iteration < 50; iteration++)
        {
            await using var t = new TestRecorder();
            var outputs = Enumerable.Range(1, random.Next(2, 12)).Select(i => (long)(i * random.Next(1, 5))).ToList();
            var running = 0L;
            var cumulative = outputs.Select(o => running += o).ToList();
            var updates = new List<ChatResponseUpdate> { new(ChatRole.Assistant, [new UsageContent(new UsageDetails { InputTokenCount = 42 })]) { ResponseId = "r" } };
            foreach (var c in cumulative)
            {
                var contents = new List<AIContent>();
                for (var k = random.Next(0, 3); k > 0; k--)
                {
                    contents.Add(new TextContent("x"));
                }

                contents.Add(new UsageContent(new UsageDetails { OutputTokenCount = c }));
                updates.Add(new ChatResponseUpdate(ChatRole.Assistant, contents) { ResponseId = "r" });
            }

            using var inner = new TestChatClient { GetStreamingResponseAsyncCallback = (_, _, ct) => TestChatClient.Yield(updates, ct) };
            using var client = new TokenMetricsChatClient(inner, t.Recorder);
            await foreach (var _ in client.GetStreamingResponseAsync(Prompt))
            {
            }

            var r = Assert.Single(await t.RecordsAsync(1));
            Assert.True(cumulative[^1] == r.Usage.OutputTokenCount, $"seed {seed}, iteration {iteration}: expected {cumulative[^1]}, got {r.Usage.OutputTokenCount}");
            Assert.Equal(42, r.Usage.InputTokenCount);
        }
    }

    [Fact]
    public async Task Streaming_Abandoned_IsOneCancelledEstimatedRecord()
    {
        await using var t = new TestRecorder();
        using var inner = new TestChatClient
        {
            GetStreamingResponseAsyncCallback = (_, _, ct) => TestChatClient.Yield(Enumerable.Range(0, 100).Select(i => new ChatResponseUpdate(ChatRole.Assistant, "word ")), ct),
        };
        using var client = new TokenMetricsChatClient(inner, t.Recorder);

        var seen = 0;
        await foreach (var _ in client.GetStreamingResponseAsync(Prompt))
        {
            if (++seen == 10)
            {
                break;
            }
        }

        var r = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Cancelled, r.Status);
        Assert.Equal(TokenUsageSource.Estimated, r.Source);
        Assert.True(r.Usage.InputTokenCount > 0);
        Assert.True(r.Usage.OutputTokenCount > 0);
    }

    [Fact]
    public async Task Streaming_CancelledByToken_IsCancelled_AndTheExceptionComesThrough()
    {
        await using var t = new TestRecorder();
        using var cts = new CancellationTokenSource();
        using var inner = new TestChatClient
        {
            GetStreamingResponseAsyncCallback = (_, _, ct) => TestChatClient.Yield(Enumerable.Range(0, 100).Select(i => new ChatResponseUpdate(ChatRole.Assistant, "word ")), ct),
        };
        using var client = new TokenMetricsChatClient(inner, t.Recorder);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync(Prompt, cancellationToken: cts.Token))
            {
                await cts.CancelAsync();
            }
        });

        var r = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Cancelled, r.Status);
        Assert.Equal(TokenUsageSource.Estimated, r.Source);
    }

    [Fact]
    public async Task Exceptions_ComeThroughAsTheSameInstance()
    {
        await using var t = new TestRecorder();
        var failure = new InvalidOperationException("vendor said no");
        using var inner = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => throw failure,
            GetStreamingResponseAsyncCallback = (_, _, _) => throw failure,
        };
        using var client = new TokenMetricsChatClient(inner, t.Recorder);

        Assert.Same(failure, await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetResponseAsync(Prompt)));
        Assert.Same(failure, await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync(Prompt))
            {
            }
        }));

        var records = await t.RecordsAsync(2);
        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.Equal(TokenUsageStatus.Error, r.Status));
        Assert.All(records, r => Assert.Equal(typeof(InvalidOperationException).FullName, r.ErrorType));
    }

    [Fact]
    public async Task NoUsageReported_IsEstimatedFromMessagesAndAnswer()
    {
        await using var t = new TestRecorder();
        using var inner = new TestChatClient { GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Hello there, how are you?"))) };
        using var client = new TokenMetricsChatClient(inner, t.Recorder);

        _ = await client.GetResponseAsync(Prompt);

        var r = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageSource.Estimated, r.Source);
        Assert.Equal("o200k_base" + TiktokenTokenEstimator.ApproximationSuffix, r.EstimationMethod); // not an OpenAI model: flagged approximate
        Assert.True(r.Usage.InputTokenCount >= 10);
        Assert.True(r.Usage.OutputTokenCount >= 5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OverAMeteredHttpClient_OneCallGivesOneRecord(bool streaming)
    {
        await using var t = new TestRecorder();
        using var http = t.CreateClient(OpenAIFixtures.ChatServer(chunkSizes: [31]));
        using var client = new MiniOpenAIChatClient(http, OpenAIFixtures.Model).AsBuilder().UseTokenMetrics(t.Recorder, c => c.ClientName = "support-bot").Build();

        using (TokenMetricsScope.Begin(userId: "alice"))
        {
            if (streaming)
            {
                await foreach (var _ in client.GetStreamingResponseAsync(Prompt, new ChatOptions { ConversationId = "conv-9" }))
                {
                }
            }
            else
            {
                _ = await client.GetResponseAsync(Prompt, new ChatOptions { ConversationId = "conv-9" });
            }
        }

        var r = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageLayer.Http, r.Layer);
        Assert.Equal(TokenUsageSource.Reported, r.Source);
        Assert.Equal(19, r.Usage.InputTokenCount);
        Assert.Equal("alice", r.UserId);
        Assert.Equal("conv-9", r.SessionId);
        Assert.Equal("support-bot", r.ClientName);
        Assert.Equal(streaming, r.IsStreaming);
    }
}
