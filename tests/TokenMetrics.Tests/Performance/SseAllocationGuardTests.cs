using System.Net;
using System.Net.Http.Headers;
using Xunit.Abstractions;

namespace TokenMetrics.Tests.Performance;

/// <summary>Regression guard for the per-event cost of metering: a metered SSE stream may allocate per call, but not per event.</summary>
/// <remarks>
/// <para>For each vendor format the same stream is read with 10 and with 1,010 events, through a bare HttpClient and through
/// one with <see cref="TokenMetricsHandler"/>, over the same in-memory transport. What the 1,000 added events cost metered,
/// minus what they cost bare, must stay within a fixed slack that does not grow with the events (so 1 B per event fails).</para>
/// <para>Deterministic: everything runs synchronously on the test thread (in-memory transport, <c>Send</c>, reads that complete
/// at once), so <see cref="GC.GetAllocatedBytesForCurrentThread"/> sees all of it; each figure is the least of several runs
/// after warm-up. No timing is asserted (speed is shown by the benchmarks).</para>
/// </remarks>
public class SseAllocationGuardTests(ITestOutputHelper output)
{
    private const int SmallEvents = 10;
    private const int AddedEvents = 1000;

    /// <summary>Bytes the 1,000 added events may cost in all (not per event): pooled buffers settle after warm-up.</summary>
    private const long Slack = 512;

    public static TheoryData<SseStreamFormat, bool> Formats()
    {
        var data = new TheoryData<SseStreamFormat, bool>();
        foreach (var format in Enum.GetValues<SseStreamFormat>())
        {
            data.Add(format, false);
            data.Add(format, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task MeteredStream_AllocatesNoMorePerEventThanBare(SseStreamFormat format, bool readAsync)
    {
        var small = SseStreamPayloads.Stream(format, SmallEvents);
        var large = SseStreamPayloads.Stream(format, SmallEvents + AddedEvents);
        var request = SseStreamPayloads.Request(format);
        var url = new Uri(SseStreamPayloads.Url(format));
        var upstream = new InMemoryUpstream();
        await using var t = new TestRecorder(o => o.MaxQueueSize = 100_000);
        ITokenUsageProtocol[] protocols =
        [
            OpenAITokenMetricsBuilderExtensions.CreateOpenAIProtocol(),
            AnthropicTokenMetricsBuilderExtensions.CreateAnthropicProtocol(),
            GeminiTokenMetricsBuilderExtensions.CreateGeminiProtocol(),
        ];
        using var bare = new HttpClient(upstream, disposeHandler: false);
        using var metered = new HttpClient(new TokenMetricsHandler(t.Recorder, protocols, upstream), disposeHandler: false);
        var buffer = new byte[16 * 1024];

        long Measure(HttpClient client, byte[] body)
        {
            upstream.Body = body;
            var least = long.MaxValue;
            for (var run = 0; run < 8; run++)
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                var read = Call(client, url, request, buffer, readAsync);
                var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.Equal(body.Length, read);
                least = Math.Min(least, allocated);
            }

            return least;
        }

        // Warm-up: JIT tiers, pools, caches.
        for (var i = 0; i < 3; i++)
        {
            _ = Measure(bare, large);
            _ = Measure(metered, large);
            _ = Measure(bare, small);
            _ = Measure(metered, small);
        }

        var bareAdded = Measure(bare, large) - Measure(bare, small);
        var meteredAdded = Measure(metered, large) - Measure(metered, small);
        var overhead = meteredAdded - bareAdded;
        output.WriteLine($"{format} {(readAsync ? "ReadAsync" : "Read")}: +{AddedEvents} events: metered {meteredAdded} B, bare {bareAdded} B, overhead {overhead} B");

        Assert.True(
            overhead <= Slack,
            $"{format} ({(readAsync ? "ReadAsync" : "Read")}): {AddedEvents} more events cost {meteredAdded} B metered vs {bareAdded} B bare: "
            + $"{overhead} B more ({(double)overhead / AddedEvents:F2} B per event); allowed {Slack} B in all.");

        // The streams were metered (reported usage read), so the guard did not pass by metering nothing.
        var records = await t.RecordsAsync(1);
        Assert.Contains(records, r => r.Source == TokenUsageSource.Reported && r.Usage.OutputTokenCount > 0);
    }

    private static long Call(HttpClient client, Uri url, byte[] body, byte[] buffer, bool readAsync)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = client.Send(request, HttpCompletionOption.ResponseHeadersRead);
        using var stream = response.Content.ReadAsStream();
        long total = 0;
        while (true)
        {
            int n;
            if (readAsync)
            {
                // Over an in-memory body every read completes at once: the async path runs here, on this thread.
                var pending = stream.ReadAsync(buffer);
                Assert.True(pending.IsCompletedSuccessfully);
                n = pending.Result;
            }
            else
            {
                n = stream.Read(buffer);
            }

            if (n == 0)
            {
                return total;
            }

            total += n;
        }
    }

    /// <summary>The transport: answers every request with <see cref="Body"/> as an SSE stream, synchronously, no sockets.</summary>
    private sealed class InMemoryUpstream : HttpMessageHandler
    {
        private static readonly MediaTypeHeaderValue EventStream = new("text/event-stream");

        public byte[] Body { get; set; } = [];

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var content = new ByteArrayContent(Body);
            content.Headers.ContentType = EventStream;
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request };
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(Send(request, cancellationToken));
    }
}
