using System.Buffers;
using System.Text;
using System.Text.Json;

namespace TokenMetrics.Testing.Internal;

/// <summary>Compact JSON writing with the real APIs' string style: non-ASCII text stays raw UTF-8 (only quotes, backslashes and control characters are escaped).</summary>
internal static class JsonBytes
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false };

    public static byte[] Write<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer, state);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes a string property with minimal escaping (raw UTF-8 for everything else).</summary>
    public static void WriteText(this Utf8JsonWriter writer, string name, string? value)
    {
        writer.WritePropertyName(name);
        writer.WriteTextValue(value);
    }

    /// <summary>Writes a string value with minimal escaping (raw UTF-8 for everything else).</summary>
    public static void WriteTextValue(this Utf8JsonWriter writer, string? value)
    {
        if (value is null)
        {
            writer.WriteNullValue();
            return;
        }

        writer.WriteRawValue(Quote(value), skipInputValidation: true);
    }

    public static byte[] Quote(string value)
    {
        var builder = new StringBuilder(value.Length + 2);
        builder.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    builder.Append("\\\"");
                    break;
                case '\\':
                    builder.Append("\\\\");
                    break;
                case '\n':
                    builder.Append("\\n");
                    break;
                case '\r':
                    builder.Append("\\r");
                    break;
                case '\t':
                    builder.Append("\\t");
                    break;
                case < ' ':
                    builder.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        builder.Append('"');
        return Encoding.UTF8.GetBytes(builder.ToString());
    }
}
