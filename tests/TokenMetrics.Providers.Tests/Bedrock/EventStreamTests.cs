using System.Text;
using TokenMetrics.Providers.Bedrock;

namespace TokenMetrics.Providers.Tests.Bedrock;

public class EventStreamTests
{
    private sealed class Collect : IEventStreamSink
    {
        public List<(string EventType, string Payload)> Messages { get; } = [];

        public void OnMessage(EventStreamMessage message) =>
            Messages.Add((Encoding.UTF8.GetString(message.GetString(":event-type"u8)), Encoding.UTF8.GetString(message.Payload)));
    }

    // awslabs/aws-c-event-stream test vectors (encoded/positive/empty_message and a payload-only message).
    private static readonly byte[] EmptyMessage = [0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x05, 0xc2, 0x48, 0xeb, 0x7d, 0x98, 0xc8, 0xff];
    private static readonly byte[] FooBar = [0x00, 0x00, 0x00, 0x1D, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x52, 0x8c, 0x5a, 0x7b, 0x27, 0x66, 0x6f, 0x6f, 0x27, 0x3a, 0x27, 0x62, 0x61, 0x72, 0x27, 0x7d, 0xc3, 0x65, 0x39, 0x36];

    [Fact]
    public void Crc32_MatchesTheStandardCheckValue() => Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));

    [Fact]
    public void Writer_ReproducesThePublishedVectors()
    {
        Assert.Equal(EmptyMessage, EventStreamWriter.Encode([]));
        Assert.Equal(FooBar, EventStreamWriter.Encode("{'foo':'bar'}"u8));
    }

    [Fact]
    public void Reader_DecodesThePublishedVectors_SplitAnywhere()
    {
        byte[] both = [.. EmptyMessage, .. FooBar];
        for (var cut = 0; cut <= both.Length; cut++)
        {
            var sink = new Collect();
            using var reader = new EventStreamReader();
            reader.Feed(both.AsSpan(0, cut), sink);
            reader.Feed(both.AsSpan(cut), sink);
            Assert.Equal(["", "{'foo':'bar'}"], sink.Messages.Select(m => m.Payload));
            Assert.Equal(0, reader.PendingBytes);
        }
    }

    [Fact]
    public void Reader_OneByteAtATime_ReadsHeadersAndPayloads()
    {
        var frames = EventStreamWriter.Event("contentBlockDelta", "{\"delta\":{\"text\":\"日本語\"}}"u8).Concat(EventStreamWriter.Event("metadata", "{}"u8)).ToArray();
        var sink = new Collect();
        using var reader = new EventStreamReader();
        foreach (var b in frames)
        {
            reader.Feed([b], sink);
        }

        Assert.Equal([("contentBlockDelta", "{\"delta\":{\"text\":\"日本語\"}}"), ("metadata", "{}")], sink.Messages);
    }

    [Fact]
    public void Reader_BadMessageCrc_DropsThatMessageOnly()
    {
        var bad = EventStreamWriter.Event("a", "{}"u8);
        bad[^1] ^= 0xFF;
        var good = EventStreamWriter.Event("b", "{}"u8);
        var sink = new Collect();
        using var reader = new EventStreamReader();
        reader.Feed([.. bad, .. good], sink);

        Assert.Equal(["b"], sink.Messages.Select(m => m.EventType));
        Assert.Equal(1, reader.BadMessages);
        Assert.False(reader.Corrupted);
    }

    [Fact]
    public void Reader_BadPreludeCrc_StopsParsing_FailOpen()
    {
        var bad = EventStreamWriter.Event("a", "{}"u8);
        bad[9] ^= 0x01;
        var sink = new Collect();
        using var reader = new EventStreamReader();
        reader.Feed([.. bad, .. EventStreamWriter.Event("b", "{}"u8)], sink);

        Assert.Empty(sink.Messages);
        Assert.True(reader.Corrupted);
    }

    [Fact]
    public void Reader_LengthOverTheLimit_IsCorruption_NotAnAllocation()
    {
        var frame = EventStreamWriter.Event("a", new byte[5000]);
        var sink = new Collect();
        using var reader = new EventStreamReader(maxMessageBytes: 1024);
        reader.Feed(frame, sink);

        Assert.True(reader.Corrupted);
        Assert.Empty(sink.Messages);
    }
}
