using System.Runtime.CompilerServices;
using System.Text;
using TokenMetrics.Tests.TestHelpers;

namespace TokenMetrics.Tests.Http;

/// <summary>A response the app neither reads to the end nor disposes is still recorded: once, as abandoned.</summary>
public class AbandonedResponseTests
{
    [Fact]
    public async Task UndisposedResponse_NotReadToTheEnd_IsOneAbandonedRecord()
    {
        await using var t = new TestRecorder();
        using var client = t.CreateClient(OpenAIFixtures.ChatServer(chunkSizes: [16]));

        await SendAndDropAsync(client);

        IReadOnlyList<TokenUsageRecord> records = [];
        for (var i = 0; i < 50 && records.Count == 0; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            records = await t.Exporter.WaitForRecordsAsync(1, TimeSpan.FromMilliseconds(200));
        }

        // More collections find nothing more to record: exactly once.
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Abandoned, record.Status);
        Assert.Equal("abandoned", record.ErrorType);
        Assert.True(record.IsStreaming);
        Assert.Equal(200, record.HttpStatusCode);
        Assert.Equal(1, t.Recorder.GetStatistics().Received);
    }

    [Fact]
    public async Task DisposedResponse_IsNeverAlsoAbandoned()
    {
        await using var t = new TestRecorder();
        using var client = t.CreateClient(OpenAIFixtures.ChatServer(chunkSizes: [16]));

        using (var response = await client.SendAsync(Post(), HttpCompletionOption.ResponseHeadersRead))
        {
            _ = await (await response.Content.ReadAsStreamAsync()).ReadAsync(new byte[32]);
        }

        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Cancelled, record.Status);
    }

    private static HttpRequestMessage Post() =>
        new(HttpMethod.Post, "chat/completions") { Content = new StringContent(OpenAIFixtures.ChatRequest(stream: true), Encoding.UTF8, "application/json") };

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task SendAndDropAsync(HttpClient client)
    {
        // Headers read, a few bytes of the body read, then the response is dropped: no end, no Dispose.
        var response = await client.SendAsync(Post(), HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        _ = await stream.ReadAsync(new byte[32]);
    }
}
