using Microsoft.Extensions.AI;

namespace TokenMetrics.Tests.Performance;

/// <summary>Issue 16 item 5, the chat-client half: a non-streamed call through <see cref="TokenMetricsChatClient"/> may allocate at
/// most <see cref="CeilingBytes"/> more than the same call to the bare client. Bytes, never time.</summary>
/// <remarks>The fake client answers with a completed task, so the decorated call completes on the test thread, and with it the
/// record and its hand-over to the export lane: <see cref="GC.GetAllocatedBytesForCurrentThread"/> counts all of it. The test
/// checks that every call completed synchronously and that every record was exported with the reported usage.</remarks>
[Collection(nameof(CallAllocationGuardCollection))]
public sealed class ChatClientAllocationGuardTests
{
    /// <summary>The ceiling over the bare call, bytes per call: a ratchet just above what the call allocates now (832 B;
    /// 1,192 B before the compact record, the answer text read only for estimates, the cached endpoint and the content lists
    /// walked by index). Lower it with every cut, never raise it.</summary>
    internal const int CeilingBytes = 850;

    private const int WarmupCalls = 2_000;
    private const int MeasuredCalls = 1_000;
    private const int Rounds = 5;

    private static readonly ChatMessage[] Messages = [new(ChatRole.User, "Tell me a story")];
    private static readonly ChatOptions Options = new() { ModelId = "gpt-4o-mini" };

    [Fact]
    public async Task Non_streamed_chat_call_allocates_at_most_the_ceiling_over_the_bare_call()
    {
        var exporter = new CountingExporter();
        await using var recorder = new TokenUsageRecorder(new TokenMetricsOptions { MaxQueueSize = 100_000, MaxExportBatchSize = 1024, ExportInterval = TimeSpan.FromMilliseconds(10) }, [exporter]);
        using var bare = new FakeChatClient();
        using var metered = new ChatClientBuilder(new FakeChatClient()).UseTokenMetrics(recorder).Build();

        for (var i = 0; i < WarmupCalls; i++)
        {
            CallSynchronously(bare);
            CallSynchronously(metered);
        }

        Assert.Equal(TokenMetricsFlushResult.Success, await recorder.FlushAsync(TimeSpan.FromSeconds(30)));
        var bareBytes = ThreadAllocations.LowestPerCall(() => CallSynchronously(bare), MeasuredCalls, Rounds);
        var meteredBytes = ThreadAllocations.LowestPerCall(() => CallSynchronously(metered), MeasuredCalls, Rounds);

        // Every call was metered, with the usage the client reported: the guard measures the real path.
        Assert.Equal(TokenMetricsFlushResult.Success, await recorder.FlushAsync(TimeSpan.FromSeconds(30)));
        var stats = recorder.GetStatistics();
        Assert.Equal(WarmupCalls + (Rounds * MeasuredCalls), stats.Received);
        Assert.Equal(stats.Received, exporter.Records);
        Assert.Equal(0, stats.InternalErrors);
        Assert.Equal(TokenUsageSource.Reported, exporter.Last!.Source);
        Assert.Equal(90, exporter.Last.Usage.OutputTokenCount);
        Assert.Equal("https://api.openai.com/v1/", exporter.Last.Endpoint);

        var over = meteredBytes - bareBytes;
        Assert.True(over <= CeilingBytes, $"A metered chat call allocated {over:F0} B over the bare call ({meteredBytes:F0} B against {bareBytes:F0} B); the ceiling is {CeilingBytes} B.");
    }

    private static void CallSynchronously(IChatClient client)
    {
        var call = client.GetResponseAsync(Messages, Options);
        Assert.True(call.IsCompletedSuccessfully, "The call did not complete synchronously: allocations on other threads would be missed.");
        Assert.Equal(90, call.Result.Usage!.OutputTokenCount);
    }

    private sealed class FakeChatClient : IChatClient
    {
        private static readonly ChatClientMetadata Metadata = new("openai", new Uri("https://api.openai.com/v1/"), "gpt-4o-mini");
        private readonly Task<ChatResponse> _response = Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Once upon a time there was a fox."))
        {
            ModelId = "gpt-4o-mini-2024-07-18",
            ResponseId = "chatcmpl-1",
            FinishReason = ChatFinishReason.Stop,
            Usage = new UsageDetails { InputTokenCount = 12, OutputTokenCount = 90, TotalTokenCount = 102 },
        });

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) => _response;

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) =>
            serviceKey is null && serviceType == typeof(ChatClientMetadata) ? Metadata : null;

        public void Dispose()
        {
        }
    }

    private sealed class CountingExporter : ITokenUsageExporter
    {
        private long _records;

        public long Records => Interlocked.Read(ref _records);

        public TokenUsageRecord? Last { get; private set; }

        public ValueTask<TokenUsageExportResult> ExportAsync(IReadOnlyList<TokenUsageRecord> batch, CancellationToken cancellationToken)
        {
            Interlocked.Add(ref _records, batch.Count);
            Last = batch[^1];
            return ValueTask.FromResult(TokenUsageExportResult.Success);
        }
    }
}
