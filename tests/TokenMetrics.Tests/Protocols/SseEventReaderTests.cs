using System.Text;

namespace TokenMetrics.Tests.Protocols;

public class SseEventReaderTests
{
    private sealed class Sink : ISseEventSink
    {
        public List<(string Type, string Data, bool HasData, string Raw)> Events { get; } = [];

        public StringBuilder Passthrough { get; } = new();

        public void OnEvent(SseEvent e)
        {
            Assert.Equal(e.Data.IndexOf((byte)'\n') >= 0, e.IsMultiLine);
            Events.Add((Encoding.UTF8.GetString(e.EventType), Encoding.UTF8.GetString(e.Data), e.HasData, Encoding.UTF8.GetString(e.Raw)));
        }

        public void OnPassthrough(ReadOnlySpan<byte> raw) => Passthrough.Append(Encoding.UTF8.GetString(raw));
    }

    private static Sink Parse(string text, int[] splits, bool captureRaw = false, int max = 1 << 20)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var sink = new Sink();
        using var reader = new SseEventReader(max, captureRaw);
        var pos = 0;
        var i = 0;
        while (pos < bytes.Length)
        {
            var n = Math.Min(splits[i++ % splits.Length], bytes.Length - pos);
            reader.Feed(bytes.AsSpan(pos, n), sink);
            pos += n;
        }

        reader.Complete(sink);
        return sink;
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public void LineEndings_AllFrameTheSameEvents(string eol)
    {
        var text = $"event: ping{eol}data: a{eol}data:b{eol}{eol}: comment{eol}data: {{\"x\":1}}{eol}{eol}id: 7{eol}retry: 10{eol}data: [DONE]{eol}{eol}";
        for (var split = 1; split <= text.Length; split++)
        {
            var sink = Parse(text, [split]);
            Assert.Equal(3, sink.Events.Count);
            Assert.Equal(("ping", "a\nb"), (sink.Events[0].Type, sink.Events[0].Data));
            Assert.Equal(("", "{\"x\":1}"), (sink.Events[1].Type, sink.Events[1].Data));
            Assert.Equal("[DONE]", sink.Events[2].Data);
        }
    }

    [Fact]
    public void MultiByteUtf8SplitAcrossReads_StaysIntact()
    {
        var text = "data: {\"content\":\"héllo ✅ 世界 👩🏽‍💻\"}\n\n";
        var bytes = Encoding.UTF8.GetBytes(text);
        for (var split = 1; split < bytes.Length; split++)
        {
            var sink = Parse(text, [split, 1]);
            Assert.Equal("{\"content\":\"héllo ✅ 世界 👩🏽‍💻\"}", Assert.Single(sink.Events).Data);
        }
    }

    /// <summary>An event wholly inside one read is handed over as offsets into it (type, data and raw bytes, no copy); fed a byte
    /// at a time, every event is copied instead. Both must give the same events, for every vendor stream cut at every byte.</summary>
    [Theory]
    [InlineData(SseStreamFormat.OpenAIChat)]
    [InlineData(SseStreamFormat.OpenAIResponses)]
    [InlineData(SseStreamFormat.Anthropic)]
    [InlineData(SseStreamFormat.Gemini)]
    public void InlineEvents_MatchCopiedEvents_ForEveryVendorStream_CutAtEveryByte(SseStreamFormat format)
    {
        var text = Encoding.UTF8.GetString(SseStreamPayloads.Stream(format, 10)) + "event: tail\r\n: note\r\ndata: a\r\ndata: b\r\r\n";
        foreach (var captureRaw in new[] { false, true })
        {
            var copied = Parse(text, [1], captureRaw);
            Assert.Equal(11, copied.Events.Count);
            Assert.Equal(copied.Events, Parse(text, [text.Length], captureRaw).Events);
            for (var cut = 1; cut < text.Length; cut++)
            {
                Assert.Equal(copied.Events, Parse(text, [cut, text.Length], captureRaw).Events);
            }

            if (captureRaw)
            {
                Assert.Equal(text, string.Concat(copied.Events.Select(e => e.Raw)));
            }
        }
    }

    [Fact]
    public void CaptureRaw_ConcatenationOfRawEqualsTheInput_ForEverySplit()
    {
        var text = "data: one\r\n\r\n: keep-alive\r\n\r\nevent: x\r\ndata: two\r\n\r\ndata: three\n\n";
        for (var split = 1; split <= text.Length; split++)
        {
            var sink = Parse(text, [split, 3], captureRaw: true);
            Assert.Equal(text, string.Concat(sink.Events.Select(e => e.Raw)) + sink.Passthrough);
            Assert.Equal(["one", "two", "three"], sink.Events.Where(e => e.HasData).Select(e => e.Data));
        }
    }

    [Fact]
    public void OversizedEvent_IsDroppedAndParsingResynchronises()
    {
        var big = new string('x', 5000);
        var sink = Parse($"data: {big}\n\ndata: small\n\n", [100], max: 1024);

        Assert.Equal("small", Assert.Single(sink.Events).Data);
    }

    [Fact]
    public void OversizedEvent_InCaptureMode_IsPassedThroughWhole()
    {
        var big = new string('y', 10_000);
        var text = $"data: {big}\n\ndata: small\n\n";
        var sink = Parse(text, [333], captureRaw: true, max: 1024);

        Assert.Equal("small", Assert.Single(sink.Events).Data);
        Assert.Equal(text, sink.Passthrough + sink.Events[0].Raw);
    }

    [Fact]
    public void LastEventWithoutBlankLine_IsDispatchedAtEnd()
    {
        Assert.Equal("{\"usage\":1}", Assert.Single(Parse("data: {\"usage\":1}", [4]).Events).Data);
    }

    [Fact]
    public void Random_MultiSplits_MatchSingleFeed()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var sb = new StringBuilder();
        for (var i = 0; i < 200; i++)
        {
            var eol = random.Next(3) switch { 0 => "\n", 1 => "\r\n", _ => "\r" };
            sb.Append(random.Next(4) == 0 ? "event: e" + i + eol : string.Empty).Append("data:").Append(random.Next(2) == 0 ? " " : string.Empty)
              .Append("{\"n\":" + i + ",\"t\":\"日本語 ok\"}").Append(eol).Append(eol);
        }

        var text = sb.ToString();
        var expected = Parse(text, [text.Length]).Events;
        for (var run = 0; run < 100; run++)
        {
            var splits = Enumerable.Range(0, 20).Select(_ => random.Next(1, 64)).ToArray();
            var actual = Parse(text, splits).Events;
            Assert.True(expected.SequenceEqual(actual), $"seed {seed}, run {run}");
        }

        Assert.Equal(200, expected.Count);
    }
}
