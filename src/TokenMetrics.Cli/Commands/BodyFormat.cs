using System.Buffers.Binary;
using System.Text;
using TokenMetrics.Providers.Bedrock;

namespace TokenMetrics.Cli.Commands;

/// <summary>What a captured body looks like: its media type as the vendor would have sent it.</summary>
internal sealed record BodyFormat(string MediaType, bool IsStream, string Name)
{
    public static readonly BodyFormat Json = new("application/json", false, "JSON");
    public static readonly BodyFormat JsonArrayStream = new("application/json", true, "JSON-array stream");
    public static readonly BodyFormat EventStream = new("text/event-stream", true, "SSE");
    public static readonly BodyFormat NdJson = new("application/x-ndjson", true, "NDJSON");
    public static readonly BodyFormat AwsEventStream = new("application/vnd.amazon.eventstream", true, "AWS event stream");

    /// <summary>Tells the format from the body's first bytes; <see langword="null"/> when it is none of the formats vendors send.</summary>
    /// <param name="head">The first bytes of the body (the whole body when it is short).</param>
    public static BodyFormat? Sniff(ReadOnlySpan<byte> head)
    {
        if (IsAwsEventStream(head))
        {
            return AwsEventStream;
        }

        var text = head.StartsWith("\uFEFF"u8) ? head[3..] : head;
        text = text.TrimStart(" \t\r\n"u8);
        if (text.IsEmpty || !IsText(text))
        {
            return null;
        }

        if (text.StartsWith("data:"u8) || text.StartsWith("event:"u8) || text.StartsWith("id:"u8) || text.StartsWith("retry:"u8) || text[0] == (byte)':')
        {
            return EventStream;
        }

        if (text[0] == (byte)'[')
        {
            return JsonArrayStream;
        }

        if (text[0] != (byte)'{')
        {
            return null;
        }

        // Several JSON objects, one per line: a line that ends with '}' followed by one that starts with '{'.
        var newline = text.IndexOf((byte)'\n');
        if (newline > 0 && text[..newline].TrimEnd(" \t\r"u8).EndsWith("}"u8))
        {
            var next = text[(newline + 1)..].TrimStart(" \t\r\n"u8);
            if (!next.IsEmpty && next[0] == (byte)'{')
            {
                return NdJson;
            }
        }

        return Json;
    }

    /// <summary>The <c>:event-type</c> of the first message of an AWS event stream (<c>messageStart</c>, <c>chunk</c>...), or <see langword="null"/>.</summary>
    public static string? FirstAwsEventType(ReadOnlySpan<byte> head)
    {
        if (!IsAwsEventStream(head))
        {
            return null;
        }

        var headersLength = (int)BinaryPrimitives.ReadUInt32BigEndian(head[4..]);
        var headers = head.Slice(12, Math.Min(headersLength, head.Length - 12));
        while (headers.Length >= 4)
        {
            var nameLength = headers[0];
            if (headers.Length < 1 + nameLength + 3)
            {
                return null;
            }

            var name = headers.Slice(1, nameLength);
            var type = headers[1 + nameLength];
            if (type != 7)
            {
                // Only string headers are expected here; anything else ends the look.
                return null;
            }

            var valueLength = BinaryPrimitives.ReadUInt16BigEndian(headers[(2 + nameLength)..]);
            var valueStart = 4 + nameLength;
            if (headers.Length < valueStart + valueLength)
            {
                return null;
            }

            if (name.SequenceEqual(":event-type"u8) || name.SequenceEqual(":exception-type"u8))
            {
                return Encoding.UTF8.GetString(headers.Slice(valueStart, valueLength));
            }

            headers = headers[(valueStart + valueLength)..];
        }

        return null;
    }

    // A real event stream starts with a prelude whose CRC-32 checks out: leading NUL bytes alone are not one.
    private static bool IsAwsEventStream(ReadOnlySpan<byte> head)
    {
        if (head.Length < 16)
        {
            return false;
        }

        var total = BinaryPrimitives.ReadUInt32BigEndian(head);
        var headers = BinaryPrimitives.ReadUInt32BigEndian(head[4..]);
        var crc = BinaryPrimitives.ReadUInt32BigEndian(head[8..]);
        return total >= 16 && total <= 16u << 20 && headers <= total - 16 && Crc32.Append(0, head[..8]) == crc;
    }

    // Text formats: valid UTF-8 (a cut at the end of the head allowed) without control characters other than whitespace.
    private static bool IsText(ReadOnlySpan<byte> head)
    {
        var sample = head[..Math.Min(head.Length, 64 * 1024)];
        foreach (var b in sample)
        {
            if (b < 0x20 && b is not (byte)'\t' and not (byte)'\n' and not (byte)'\r')
            {
                return false;
            }
        }

        var status = System.Text.Unicode.Utf8.ToUtf16(sample, new char[sample.Length], out var read, out _, replaceInvalidSequences: false, isFinalBlock: false);
        return status == System.Buffers.OperationStatus.Done || (status == System.Buffers.OperationStatus.NeedMoreData && read > 0);
    }
}
