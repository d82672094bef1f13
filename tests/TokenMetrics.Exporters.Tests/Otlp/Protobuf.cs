using System.Buffers.Binary;
using System.Text;

namespace TokenMetrics.Exporters.Tests.Otlp;

/// <summary>A minimal protobuf wire-format reader: enough of OTLP metrics (opentelemetry/proto/metrics/v1) to find data points.</summary>
internal static class Protobuf
{
    /// <summary>The fields of one message: (field number, wire type, varint/fixed value or length-delimited bytes).</summary>
    public static List<(int Field, int WireType, ulong Number, ReadOnlyMemory<byte> Bytes)> Read(ReadOnlyMemory<byte> message)
    {
        var fields = new List<(int, int, ulong, ReadOnlyMemory<byte>)>();
        var span = message.Span;
        var i = 0;
        while (i < span.Length)
        {
            var key = Varint(span, ref i);
            var field = (int)(key >> 3);
            var wire = (int)(key & 7);
            switch (wire)
            {
                case 0:
                    fields.Add((field, wire, Varint(span, ref i), default));
                    break;
                case 1:
                    fields.Add((field, wire, BinaryPrimitives.ReadUInt64LittleEndian(span[i..]), default));
                    i += 8;
                    break;
                case 2:
                    var length = (int)Varint(span, ref i);
                    fields.Add((field, wire, 0, message.Slice(i, length)));
                    i += length;
                    break;
                case 5:
                    fields.Add((field, wire, BinaryPrimitives.ReadUInt32LittleEndian(span[i..]), default));
                    i += 4;
                    break;
                default:
                    throw new FormatException($"wire type {wire}");
            }
        }

        return fields;
    }

    public static IEnumerable<ReadOnlyMemory<byte>> Messages(ReadOnlyMemory<byte> message, int field) =>
        Read(message).Where(f => f.Field == field && f.WireType == 2).Select(f => f.Bytes);

    public static string? String(ReadOnlyMemory<byte> message, int field) =>
        Read(message).Where(f => f.Field == field && f.WireType == 2).Select(f => Encoding.UTF8.GetString(f.Bytes.Span)).FirstOrDefault();

    public static ulong? Fixed64(ReadOnlyMemory<byte> message, int field) =>
        Read(message).Where(f => f.Field == field && f.WireType == 1).Select(f => (ulong?)f.Number).FirstOrDefault();

    /// <summary>A packed repeated double (or the unpacked form).</summary>
    public static List<double> Doubles(ReadOnlyMemory<byte> message, int field)
    {
        var result = new List<double>();
        foreach (var f in Read(message).Where(f => f.Field == field))
        {
            if (f.WireType == 1)
            {
                result.Add(BitConverter.UInt64BitsToDouble(f.Number));
            }
            else
            {
                for (var j = 0; j < f.Bytes.Length; j += 8)
                {
                    result.Add(BinaryPrimitives.ReadDoubleLittleEndian(f.Bytes.Span[j..]));
                }
            }
        }

        return result;
    }

    /// <summary>KeyValue attributes (field 1 key, field 2 AnyValue: 1 string, 3 int).</summary>
    public static Dictionary<string, string> Attributes(ReadOnlyMemory<byte> message, int field)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var kv in Messages(message, field))
        {
            var key = String(kv, 1)!;
            var any = Messages(kv, 2).First();
            var value = Read(any).First();
            result[key] = value.Field switch
            {
                1 => Encoding.UTF8.GetString(value.Bytes.Span),
                2 => (value.Number != 0).ToString(),
                3 => ((long)value.Number).ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => $"<field {value.Field}>",
            };
        }

        return result;
    }

    private static ulong Varint(ReadOnlySpan<byte> span, ref int i)
    {
        ulong result = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = span[i++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }
    }
}
