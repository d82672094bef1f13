using System.Text;
using TokenMetrics.Tests.Shared;

namespace TokenMetrics.Tests.Protocols;

/// <summary><see cref="SseEventReader"/>'s whole-event framing (<c>TryWholeEvent</c>) against the general line loop
/// (<c>WholeEvents = false</c>): the same events (type, data, raw bytes, multi-line flag), passthrough bytes, event and oversized
/// counts, for tricky streams fed whole, cut at every byte and cut at random, with and without raw capture.</summary>
public class SseWholeEventTests
{
    /// <summary>Streams that look like the usual event but are not quite, next to ones that are.</summary>
    public static readonly string[] Tricky =
    [
        "event: content_block_delta\ndata: {\"a\":1}\n\n",
        "event:content_block_delta\ndata:{\"a\":1}\n\n",
        "event:  two spaces\ndata:  two spaces\n\n",
        "event: crlf\r\ndata: {\"a\":1}\r\n\r\n",
        "event: cr\rdata: {\"a\":1}\r\r",
        "event: mixed\r\ndata: x\n\r",
        "event: mixed2\rdata: x\r\n\n",
        "data: no type\n\n",
        "data: no type crlf\r\n\r\n",
        "data:\n\n",
        "data: \n\n",
        "event:\ndata: empty type\n\n",
        "event\ndata: a field named event without a colon\n\n",
        "data\n\n",
        "data: one\ndata: two\n\n",
        "event: a\nevent: b\ndata: type set twice\n\n",
        "data: data before type\nevent: late\n\n",
        ": comment\ndata: after a comment\n\n",
        "event: x\n: comment between\ndata: y\n\n",
        "id: 7\ndata: with id\n\n",
        "retry: 10\n\n",
        "event: only a type\n\n",
        "\n\n\ndata: after blank lines\n\n",
        "dataX: not data\n\n",
        "data : space before colon\n\n",
        "events: not event\ndata: x\n\n",
        "event: " + new string('t', 300) + "\ndata: long type is cut at 256\n\n",
        "event: é✅\ndata: {\"text\":\"日本語\"}\n\n",
        "data: " + new string('d', 90) + "\n\n",
        "data: " + new string('e', 200) + "\n\ndata: after an oversized event\n\n",
        "event: " + new string('f', 120) + "\ndata: ok\n\n",
        "data: no blank line at the end\n",
        "data: no line end at all",
        "event: t\ndata: cut after the data line\r\n",
        "data: ends with a CR\r",
        "data: {\"a\":\"\\r\\n inside JSON is escaped\"}\n\n",
    ];

    private sealed class Sink : ISseEventSink
    {
        public StringBuilder Log { get; } = new();

        public void OnEvent(SseEvent e)
        {
            Assert.Equal(e.Data.IndexOf((byte)'\n') >= 0, e.IsMultiLine);
            Log.Append("E[").Append(Encoding.UTF8.GetString(e.EventType)).Append("][").Append(Encoding.UTF8.GetString(e.Data))
                .Append("][").Append(e.HasData).Append(e.IsMultiLine).Append("][").Append(Encoding.UTF8.GetString(e.Raw)).Append(']');
        }

        public void OnPassthrough(ReadOnlySpan<byte> raw) => Log.Append("P[").Append(Encoding.UTF8.GetString(raw)).Append(']');
    }

    private static string Run(byte[] bytes, int[] cuts, bool whole, bool capture, int max, out long framedWhole)
    {
        var sink = new Sink();
        using var reader = new SseEventReader(max, capture) { WholeEvents = whole };
        var start = 0;
        foreach (var cut in cuts.Append(bytes.Length))
        {
            reader.Feed(bytes.AsSpan(start, cut - start), sink);
            start = cut;
        }

        reader.Complete(sink);
        framedWhole = reader.WholeEventsFramed;
        return $"{sink.Log} events={reader.Events} oversized={reader.OversizedEvents}";
    }

    [Theory]
    [InlineData(false, 1 << 20)]
    [InlineData(true, 1 << 20)]
    [InlineData(false, 100)]
    [InlineData(true, 100)]
    public void EveryTrickyStream_WholeAndAtEveryCut_SameAsTheLineLoop(bool capture, int max)
    {
        foreach (var text in Tricky)
        {
            // Compared cut for cut: the line loop itself drops a line longer than the limit only when a cut makes it buffer
            // the line (an existing behaviour, the same with either framing).
            var bytes = Encoding.UTF8.GetBytes(text);
            Assert.Equal(Run(bytes, [], whole: false, capture, max, out _), Run(bytes, [], whole: true, capture, max, out _));
            for (var cut = 1; cut < bytes.Length; cut++)
            {
                Assert.True(Run(bytes, [cut], whole: false, capture, max, out _) == Run(bytes, [cut], whole: true, capture, max, out _), $"{text} cut at {cut}");
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AllTrickyStreamsInOne_RandomCuts_SameAsTheLineLoop(bool capture)
    {
        // Each stream ends with its events complete, so that the next starts clean; joined, they frame as a whole.
        var bytes = Encoding.UTF8.GetBytes(string.Concat(Tricky.Where(t => t.EndsWith("\n\n", StringComparison.Ordinal) || t.EndsWith("\r\r", StringComparison.Ordinal))));
        var expected = Run(bytes, [], whole: false, capture, 100, out _);
        Assert.Equal(expected, Run(bytes, [], whole: true, capture, 100, out var framed));
        Assert.True(framed >= 15, $"{framed} events framed whole");
        var random = new Random(50);
        for (var run = 0; run < 300; run++)
        {
            var cuts = Enumerable.Range(0, random.Next(1, 30)).Select(_ => random.Next(1, bytes.Length)).Distinct().Order().ToArray();
            Assert.True(Run(bytes, cuts, whole: false, capture, 100, out _) == Run(bytes, cuts, whole: true, capture, 100, out _), $"cuts [{string.Join(',', cuts)}]");
        }
    }

    [Theory]
    [InlineData(SseStreamFormat.OpenAIChat)]
    [InlineData(SseStreamFormat.OpenAIChatInjected)]
    [InlineData(SseStreamFormat.OpenAIResponses)]
    [InlineData(SseStreamFormat.Anthropic)]
    [InlineData(SseStreamFormat.Gemini)]
    public void VendorStreams_AtEveryCut_SameAsTheLineLoop_AndFramedWholeWhenWhole(SseStreamFormat format)
    {
        var bytes = SseStreamPayloads.Stream(format, 10);
        foreach (var capture in new[] { false, true })
        {
            var expected = Run(bytes, [], whole: false, capture, 1 << 20, out var general);
            Assert.Equal(0, general);
            Assert.Equal(expected, Run(bytes, [], whole: true, capture, 1 << 20, out var framed));
            Assert.Equal(10, framed);
            for (var cut = 1; cut < bytes.Length; cut++)
            {
                Assert.True(expected == Run(bytes, [cut], whole: true, capture, 1 << 20, out _), $"cut at {cut}");
            }
        }
    }

    [Fact]
    public void RandomStreams_RandomCuts_SameAsTheLineLoop()
    {
        string[] lines =
        [
            "data: {\"x\":1}", "data:{\"y\":2}", "data:", "data", "event: t", "event:u", "event", ": c", "id: 1", "retry: 5",
            "data: " + new string('z', 70), "event: " + new string('w', 70), string.Empty, string.Empty, string.Empty,
        ];
        string[] ends = ["\n", "\r\n", "\r"];
        var random = new Random(2026);
        for (var run = 0; run < 400; run++)
        {
            var text = new StringBuilder();
            var previousEnd = "\n";
            for (var i = random.Next(1, 14); i > 0; i--)
            {
                var line = lines[random.Next(lines.Length)];
                var end = ends[random.Next(ends.Length)];

                // A blank line after a CR must not start with LF (the two would be one CRLF).
                if (line.Length == 0 && previousEnd == "\r" && end == "\n")
                {
                    end = "\r";
                }

                text.Append(line).Append(end);
                previousEnd = end;
            }

            var bytes = Encoding.UTF8.GetBytes(text.ToString());
            var capture = run % 2 == 0;
            var max = run % 3 == 0 ? 64 : 1 << 20;
            var expected = Run(bytes, [], whole: false, capture, max, out _);
            Assert.Equal(expected, Run(bytes, [], whole: true, capture, max, out _));
            var cuts = Enumerable.Range(0, random.Next(1, 6)).Select(_ => random.Next(1, Math.Max(2, bytes.Length))).Where(c => c < bytes.Length).Distinct().Order().ToArray();
            Assert.True(Run(bytes, cuts, whole: false, capture, max, out _) == Run(bytes, cuts, whole: true, capture, max, out _), $"{text} cuts [{string.Join(',', cuts)}]");
        }
    }
}
