using System.Text;
using Microsoft.Extensions.AI;
using TokenMetrics.Tests.TestHelpers;

namespace TokenMetrics.Tests.Http;

/// <summary>The app never waits for estimation: the estimator runs on the recorder's background side, before the exporters.</summary>
public class OffPathEstimationTests
{
    private static readonly AsyncLocal<string?> AppMarker = new();

    [Fact]
    public async Task FourMegabyteOneWordPrompt_NoReportedUsage_AppReadCompletesWhileTheEstimatorIsBlocked()
    {
        var estimator = new GatedEstimator();
        var exporter = new InMemoryTokenUsageExporter();
        await using var recorder = new TokenUsageRecorder(new TokenMetricsOptions { ExportInterval = TimeSpan.FromMilliseconds(20), MeterName = "TokenMetrics.Tests." + Guid.NewGuid().ToString("N") }, [exporter], estimator);
        // The vendor reports no usage.
        const string answer = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}";
        using var client = new HttpClient(new TokenMetricsHandler(recorder, [TestRecorder.OpenAI], StubHttpHandler.Returning((_, _) => StubHttpHandler.Json(answer))))
        {
            BaseAddress = new Uri("https://api.openai.com/v1/"),
        };
        var prompt = OpenAIFixtures.ChatRequest(stream: false, content: new string('a', 4_000_000));

        AppMarker.Value = "app";
        using var response = await client.PostAsync("chat/completions", new StringContent(prompt, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();

        // The app has its whole answer; the estimator has started, on another thread without the app's context, and is
        // still blocked: had estimation run inside the app's read, that read could not have returned before the gate opened.
        Assert.Equal(answer, text);
        await estimator.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(estimator.Gate.IsSet);
        Assert.False(estimator.SawAppContext);
        Assert.Empty(exporter.Records);

        estimator.Gate.Set();
        _ = await exporter.WaitForRecordsAsync(1, TimeSpan.FromSeconds(30));
        Assert.Equal(TokenMetricsFlushResult.Success, await recorder.FlushAsync(TimeSpan.FromSeconds(30)));
        var record = Assert.Single(exporter.Records);
        Assert.True(estimator.GateOpenedInTime);
        Assert.Equal(TokenUsageSource.Estimated, record.Source);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
        Assert.True(record.Usage.InputTokenCount > 1000, $"input {record.Usage.InputTokenCount}");
        Assert.Equal(1, recorder.GetStatistics().Received);
    }

    [Fact]
    public async Task ChatClient_NoReportedUsage_ReturnsWhileTheEstimatorIsBlocked_RecordsStayInOrder()
    {
        var estimator = new GatedEstimator();
        var exporter = new InMemoryTokenUsageExporter();
        await using var recorder = new TokenUsageRecorder(new TokenMetricsOptions { ExportInterval = TimeSpan.FromMilliseconds(20), MeterName = "TokenMetrics.Tests." + Guid.NewGuid().ToString("N") }, [exporter], estimator);
        var inner = new TestChatClient
        {
            GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Hello there")) { ModelId = "gpt-4o-mini" }),
        };
        using var chat = inner.AsBuilder().UseTokenMetrics(recorder).Build();
        var messages = new List<ChatMessage> { new(ChatRole.User, new string('b', 100_000)) };

        AppMarker.Value = "app";
        _ = await chat.GetResponseAsync(messages);
        await estimator.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        messages.Add(new ChatMessage(ChatRole.Assistant, "appended after the call"));

        // A record with reported usage, made while the estimate is pending, must not overtake it.
        recorder.Record(new TokenUsageRecord { Timestamp = DateTimeOffset.UtcNow, Provider = "later", Usage = new TokenUsage { InputTokenCount = 1 }, Source = TokenUsageSource.Reported });
        Assert.False(estimator.Gate.IsSet);
        Assert.False(estimator.SawAppContext);
        Assert.Empty(exporter.Records);

        estimator.Gate.Set();
        _ = await exporter.WaitForRecordsAsync(2, TimeSpan.FromSeconds(30));
        var records = exporter.Records;
        Assert.Equal(2, records.Count);
        Assert.Equal(TokenUsageSource.Estimated, records[0].Source);
        Assert.Equal(1, estimator.MessageCount);
        Assert.Equal("later", records[1].Provider);
    }

    private sealed class GatedEstimator : ITokenEstimator
    {
        public ManualResetEventSlim Gate { get; } = new(false);

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool SawAppContext { get; private set; }

        public bool GateOpenedInTime { get; private set; }

        public int MessageCount { get; private set; }

        public TokenEstimate CountText(string text, string? model) => TiktokenTokenEstimator.Instance.CountText(text, model);

        public TokenEstimate CountRequest(ReadOnlySpan<byte> requestJson, string? model)
        {
            Wait();
            return TiktokenTokenEstimator.Instance.CountRequest(requestJson, model);
        }

        public TokenEstimate CountMessages(IEnumerable<ChatMessage> messages, ChatOptions? options, string? model)
        {
            Wait();
            MessageCount = messages.Count();
            return TiktokenTokenEstimator.Instance.CountMessages(messages, options, model);
        }

        private void Wait()
        {
            SawAppContext |= AppMarker.Value is not null;
            Entered.TrySetResult();
            GateOpenedInTime = Gate.Wait(TimeSpan.FromSeconds(30));
        }
    }
}
