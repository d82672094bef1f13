using System.Buffers;
using System.Buffers.Binary;

namespace TokenMetrics.Providers.Bedrock;

/// <summary>One decoded <c>application/vnd.amazon.eventstream</c> message; spans valid only during the callback.</summary>
internal readonly ref struct EventStreamMessage
{
    public EventStreamMessage(ReadOnlySpan<byte> headers, ReadOnlySpan<byte> payload)
    {
        Headers = headers;
        Payload = payload;
    }

    /// <summary>Gets the raw header block.</summary>
    public ReadOnlySpan<byte> Headers { get; }

    /// <summary>Gets the payload (JSON for Bedrock).</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>Finds a string header (type 7) by name (<c>:event-type</c>, <c>:message-type</c>, <c>:exception-type</c>...).</summary>
    public ReadOnlySpan<byte> GetString(ReadOnlySpan<byte> name)
    {
        var h = Headers;
        while (h.Length > 2)
        {
            int nameLength = h[0];
            if (h.Length < 1 + nameLength + 1)
            {
                return default;
            }

            var headerName = h.Slice(1, nameLength);
            var type = h[1 + nameLength];
            var rest = h[(2 + nameLength)..];
            int valueLength;
            var valueOffset = 0;
            switch (type)
            {
                case 0:
                case 1:
                    valueLength = 0;
                    break;
                case 2:
                    valueLength = 1;
                    break;
                case 3:
                    valueLength = 2;
                    break;
                case 4:
                    valueLength = 4;
                    break;
                case 5:
                case 8:
                    valueLength = 8;
                    break;
                case 9:
                    valueLength = 16;
                    break;
                case 6:
                case 7:
                    if (rest.Length < 2)
                    {
                        return default;
                    }

                    valueLength = BinaryPrimitives.ReadUInt16BigEndian(rest);
                    valueOffset = 2;
                    break;
                default:
                    return default; // unknown type: the rest cannot be walked
            }

            if (rest.Length < valueOffset + valueLength)
            {
                return default;
            }

            if (type == 7 && headerName.SequenceEqual(name))
            {
                return rest.Slice(valueOffset, valueLength);
            }

            h = rest[(valueOffset + valueLength)..];
        }

        return default;
    }
}

/// <summary>Receives the messages of an <see cref="EventStreamReader"/>.</summary>
internal interface IEventStreamSink
{
    void OnMessage(EventStreamMessage message);
}

/// <summary>An incremental parser of the AWS event-stream binary framing, fed bytes split anywhere.</summary>
/// <remarks>
/// <para>Each message: a 12-byte prelude (total length, headers length, CRC-32 of the first 8 bytes; all big-endian), the
/// headers, the payload, and a CRC-32 of everything before it. A message wholly inside one read is parsed in place (no copy);
/// only a message split across reads is assembled in a pooled buffer.</para>
/// <para>Fails open: a bad prelude CRC or an impossible length means the framing is lost, so parsing stops for the rest of the
/// body (<see cref="Corrupted"/>); a bad message CRC drops that message only (<see cref="BadMessages"/>).</para>
/// </remarks>
internal sealed class EventStreamReader(int maxMessageBytes = 16 << 20) : IDisposable
{
    private const int PreludeLength = 12;
    private const int MinMessageLength = 16;

    private byte[] _pending = [];
    private int _pendingLength;

    /// <summary>Gets a value indicating whether the framing was lost (parsing stopped).</summary>
    public bool Corrupted { get; private set; }

    /// <summary>Gets the number of messages dropped for a bad message CRC.</summary>
    public int BadMessages { get; private set; }

    /// <summary>Gets the number of messages delivered.</summary>
    public long Messages { get; private set; }

    /// <summary>Gets the number of bytes held for an incomplete message (non-zero at the end means a cut stream).</summary>
    public int PendingBytes => _pendingLength;

    public void Feed(ReadOnlySpan<byte> data, IEventStreamSink sink)
    {
        while (!data.IsEmpty && !Corrupted)
        {
            if (_pendingLength == 0)
            {
                // Fast path: whole messages in place.
                var length = MessageLength(data);
                if (length < 0)
                {
                    return;
                }

                if (length == 0 || data.Length < length)
                {
                    Hold(data);
                    return;
                }

                Deliver(data[..length], sink);
                data = data[length..];
                continue;
            }

            // Complete the held prelude first, then the held message.
            if (_pendingLength < PreludeLength)
            {
                var take = Math.Min(PreludeLength - _pendingLength, data.Length);
                Hold(data[..take]);
                data = data[take..];
                if (_pendingLength < PreludeLength)
                {
                    return;
                }
            }

            var total = MessageLength(_pending.AsSpan(0, _pendingLength));
            if (total <= 0)
            {
                return;
            }

            var need = Math.Min(total - _pendingLength, data.Length);
            Hold(data[..need]);
            data = data[need..];
            if (_pendingLength == total)
            {
                Deliver(_pending.AsSpan(0, total), sink);
                _pendingLength = 0;
            }
        }
    }

    public void Dispose()
    {
        if (_pending.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_pending);
        }

        _pending = [];
        _pendingLength = 0;
    }

    /// <summary>The total length from a prelude; 0 when fewer than 12 bytes are available; -1 (and <see cref="Corrupted"/>) when invalid.</summary>
    private int MessageLength(ReadOnlySpan<byte> data)
    {
        if (data.Length < PreludeLength)
        {
            return 0;
        }

        var total = BinaryPrimitives.ReadUInt32BigEndian(data);
        var headers = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
        var crc = BinaryPrimitives.ReadUInt32BigEndian(data[8..]);
        if (Crc32.Compute(data[..8]) != crc || total < MinMessageLength || total > (uint)maxMessageBytes || headers > total - MinMessageLength)
        {
            Corrupted = true;
            _pendingLength = 0;
            return -1;
        }

        return (int)total;
    }

    private void Deliver(ReadOnlySpan<byte> message, IEventStreamSink sink)
    {
        var crc = BinaryPrimitives.ReadUInt32BigEndian(message[^4..]);
        if (Crc32.Compute(message[..^4]) != crc)
        {
            BadMessages++;
            return;
        }

        var headersLength = (int)BinaryPrimitives.ReadUInt32BigEndian(message[4..]);
        var headers = message.Slice(PreludeLength, headersLength);
        var payload = message[(PreludeLength + headersLength)..^4];
        Messages++;
        sink.OnMessage(new EventStreamMessage(headers, payload));
    }

    private void Hold(ReadOnlySpan<byte> data)
    {
        var needed = _pendingLength + data.Length;
        if (_pending.Length < needed)
        {
            var next = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(1024, _pending.Length * 2)));
            _pending.AsSpan(0, _pendingLength).CopyTo(next);
            if (_pending.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_pending);
            }

            _pending = next;
        }

        data.CopyTo(_pending.AsSpan(_pendingLength));
        _pendingLength = needed;
    }
}

/// <summary>Writes event-stream messages (for tests, benchmarks and the rewriters' own framing checks).</summary>
internal static class EventStreamWriter
{
    /// <summary>Encodes one message with string headers.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> payload, params (string Name, string Value)[] headers)
    {
        var headerBytes = 0;
        foreach (var (name, value) in headers)
        {
            headerBytes += 1 + System.Text.Encoding.UTF8.GetByteCount(name) + 1 + 2 + System.Text.Encoding.UTF8.GetByteCount(value);
        }

        var total = 12 + headerBytes + payload.Length + 4;
        var buffer = new byte[total];
        BinaryPrimitives.WriteUInt32BigEndian(buffer, (uint)total);
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(4), (uint)headerBytes);
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(8), Crc32.Compute(buffer.AsSpan(0, 8)));
        var pos = 12;
        foreach (var (name, value) in headers)
        {
            var n = System.Text.Encoding.UTF8.GetBytes(name, buffer.AsSpan(pos + 1));
            buffer[pos] = (byte)n;
            pos += 1 + n;
            buffer[pos++] = 7;
            var v = System.Text.Encoding.UTF8.GetBytes(value, buffer.AsSpan(pos + 2));
            BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(pos), (ushort)v);
            pos += 2 + v;
        }

        payload.CopyTo(buffer.AsSpan(pos));
        pos += payload.Length;
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(pos), Crc32.Compute(buffer.AsSpan(0, pos)));
        return buffer;
    }

    /// <summary>An <c>event</c> message as Bedrock sends it: <c>:event-type</c>, <c>:content-type</c>, <c>:message-type</c>.</summary>
    public static byte[] Event(string eventType, ReadOnlySpan<byte> json) =>
        Encode(json, (":event-type", eventType), (":content-type", "application/json"), (":message-type", "event"));

    /// <summary>An <c>exception</c> message (<c>:exception-type</c> such as <c>throttlingException</c>).</summary>
    public static byte[] Exception(string exceptionType, ReadOnlySpan<byte> json) =>
        Encode(json, (":exception-type", exceptionType), (":content-type", "application/json"), (":message-type", "exception"));
}
