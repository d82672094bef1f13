using System.Buffers.Binary;
using System.Text;

namespace TokenMetrics.Testing.Internal;

/// <summary>Encodes <c>application/vnd.amazon.eventstream</c> messages: prelude (total length, headers length, CRC-32 of the
/// first 8 bytes; big-endian), string headers (type 7), payload, CRC-32 of everything before it.</summary>
internal static class EventStreamFrames
{
    private static readonly uint[] Table = CreateTable();

    public static byte[] Event(string eventType, byte[] json) =>
        Encode(json, (":event-type", eventType), (":content-type", "application/json"), (":message-type", "event"));

    public static byte[] Exception(string exceptionType, byte[] json) =>
        Encode(json, (":exception-type", exceptionType), (":content-type", "application/json"), (":message-type", "exception"));

    public static byte[] Encode(byte[] payload, params (string Name, string Value)[] headers)
    {
        var headerBytes = headers.Sum(h => 1 + Encoding.UTF8.GetByteCount(h.Name) + 3 + Encoding.UTF8.GetByteCount(h.Value));
        var total = 12 + headerBytes + payload.Length + 4;
        var buffer = new byte[total];
        BinaryPrimitives.WriteUInt32BigEndian(buffer, (uint)total);
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(4), (uint)headerBytes);
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(8), Crc(buffer.AsSpan(0, 8)));
        var pos = 12;
        foreach (var (name, value) in headers)
        {
            var n = Encoding.UTF8.GetBytes(name, buffer.AsSpan(pos + 1));
            buffer[pos] = (byte)n;
            pos += 1 + n;
            buffer[pos++] = 7;
            var v = Encoding.UTF8.GetBytes(value, buffer.AsSpan(pos + 2));
            BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(pos), (ushort)v);
            pos += 2 + v;
        }

        payload.CopyTo(buffer, pos);
        pos += payload.Length;
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(pos), Crc(buffer.AsSpan(0, pos)));
        return buffer;
    }

    public static uint Crc(ReadOnlySpan<byte> data)
    {
        var c = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        }

        return ~c;
    }

    private static uint[] CreateTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[i] = c;
        }

        return table;
    }
}
