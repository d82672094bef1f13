using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace TokenMetrics.Tests.Protocols;

/// <summary>FsCheck properties of <see cref="SseEventReader"/>: any valid stream, cut at any bytes, frames the same events as the
/// stream fed whole, and those are the events the stream was generated from. A failure prints the seed as <c>(a,b)</c>:
/// replay it with <c>[Property(Replay = "(a,b)")]</c>.</summary>
public class SseFramingProperties
{
    private const int Cases = 300;

    /// <summary>One generated event block: its lines (field lines and comments), whether a blank line ends it.</summary>
    public sealed record Block(IReadOnlyList<(string Field, string Value)> Lines, bool Terminated);

    /// <summary>A generated stream: the text and the events it means.</summary>
    public sealed record Stream(string Text, IReadOnlyList<(string Type, string Data)> Expected, int[] Cuts)
    {
        public override string ToString() => $"text={System.Text.Json.JsonSerializer.Serialize(Text)} cuts=[{string.Join(',', Cuts)}]";
    }

    private static readonly Gen<(string Field, string Value)> FieldLine = Gen.Frequency(
        (6, PropertyGenerators.LineText.Select(v => ("data", v))),
        (2, Gen.Elements("message_start", "content_block_delta", "ping", "é✅").Select(v => ("event", v))),
        (1, PropertyGenerators.LineText.Select(v => ("id", v))),
        (1, Gen.Elements("10", "3000").Select(v => ("retry", v))),
        (1, PropertyGenerators.LineText.Select(v => ("", v))),          // a comment
        (1, Gen.Elements("foo", "dataX").Select(v => (v, "ignored"))));   // unknown fields are ignored

    private static readonly Gen<Block> BlockGen =
        Gen.Choose(1, 5).SelectMany(n => Gen.ArrayOf(FieldLine, n)).SelectMany(lines => Gen.Frequency((9, Gen.Constant(true)), (1, Gen.Constant(false))).Select(t => new Block(lines, t)));

    private static readonly Gen<string> LineEnd = Gen.Elements("\n", "\r\n", "\r");

    /// <summary>Renders blocks with random line ends, "data:" with or without the space, and works out the expected events.</summary>
    private static Gen<Stream> StreamGen(bool allowUnterminatedLast) =>
        Gen.Choose(0, 8).SelectMany(n => Gen.ArrayOf(BlockGen, n)).SelectMany(blocks =>
        {
            var lineCount = blocks.Sum(b => b.Lines.Count + 1);
            return Gen.Zip(Gen.ArrayOf(LineEnd, lineCount), Gen.ArrayOf(Gen.Elements(" ", string.Empty), lineCount))
                .Select(style => Render(blocks, style.Item1, style.Item2, allowUnterminatedLast));
        }).SelectMany(s => PropertyGenerators.Cuts(Encoding.UTF8.GetByteCount(s.Text)).Select(cuts => s with { Cuts = cuts }));

    private static Stream Render(Block[] blocks, string[] ends, string[] spaces, bool allowUnterminatedLast)
    {
        var text = new StringBuilder();
        var expected = new List<(string, string)>();
        var k = 0;
        var previousEnd = "\n";
        for (var b = 0; b < blocks.Length; b++)
        {
            var block = blocks[b];
            var terminated = block.Terminated || b < blocks.Length - 1 || !allowUnterminatedLast;
            var type = string.Empty;
            var data = new List<string>();
            foreach (var (field, value) in block.Lines)
            {
                // The reader strips one space after the colon: "data:  x" is " x", and "data:" + " x" is "x".
                var separator = field.Length == 0 ? string.Empty : ":" + spaces[k];
                var line = field.Length == 0 ? ":" + value : field + separator + value;
                var effective = field.Length == 0 ? null : separator.Length == 1 && value.StartsWith(' ') ? value[1..] : value;
                previousEnd = ends[k++];
                text.Append(line).Append(previousEnd);
                if (field == "data")
                {
                    data.Add(effective!);
                }
                else if (field == "event")
                {
                    type = effective!;
                }
            }

            if (terminated)
            {
                // An empty line after a CR must not start with LF: the two would be one CRLF line end, not a blank line.
                var end = ends[k++];
                text.Append(previousEnd == "\r" && end == "\n" ? "\r" : end);
            }
            else
            {
                k++;
            }

            if (data.Count > 0)
            {
                expected.Add((type, string.Join('\n', data)));
            }
        }

        return new Stream(text.ToString(), expected, []);
    }

    private sealed class Sink : ISseEventSink
    {
        public List<(string Type, string Data)> Events { get; } = [];

        public List<string> Raw { get; } = [];

        public StringBuilder Passthrough { get; } = new();

        public void OnEvent(SseEvent e)
        {
            // Known without a search, and exactly when the data holds an LF.
            Assert.Equal(e.Data.IndexOf((byte)'\n') >= 0, e.IsMultiLine);
            if (e.HasData)
            {
                Events.Add((Encoding.UTF8.GetString(e.EventType), Encoding.UTF8.GetString(e.Data)));
            }

            Raw.Add(Encoding.UTF8.GetString(e.Raw));
        }

        public void OnPassthrough(ReadOnlySpan<byte> raw) => Passthrough.Append(Encoding.UTF8.GetString(raw));
    }

    private static Sink Feed(byte[] bytes, int[] cuts, bool captureRaw)
    {
        var sink = new Sink();
        using var reader = new SseEventReader(captureRaw: captureRaw);
        foreach (var piece in PropertyGenerators.Split(bytes, cuts))
        {
            reader.Feed(piece, sink);
        }

        reader.Complete(sink);
        return sink;
    }

    [Property(MaxTest = Cases)]
    public Property AnySplit_GivesTheEventsOfTheWholeStream_AndOfItsModel() =>
        Prop.ForAll(StreamGen(allowUnterminatedLast: true).ToArbitrary(), stream =>
        {
            var bytes = Encoding.UTF8.GetBytes(stream.Text);
            var whole = Feed(bytes, [], captureRaw: false).Events;
            var split = Feed(bytes, stream.Cuts, captureRaw: false).Events;
            var everyByte = Feed(bytes, [.. Enumerable.Range(1, Math.Max(0, bytes.Length - 1))], captureRaw: false).Events;
            return whole.SequenceEqual(stream.Expected) && split.SequenceEqual(whole) && everyByte.SequenceEqual(whole);
        });

    [Property(MaxTest = Cases)]
    public Property CaptureMode_AnySplit_SameEvents_AndTheRawBytesAreTheStream() =>
        Prop.ForAll(StreamGen(allowUnterminatedLast: true).ToArbitrary(), stream =>
        {
            var bytes = Encoding.UTF8.GetBytes(stream.Text);
            var sink = Feed(bytes, stream.Cuts, captureRaw: true);
            return sink.Events.SequenceEqual(stream.Expected) && string.Concat(sink.Raw) + sink.Passthrough == stream.Text;
        });
}
