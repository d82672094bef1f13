using System.Globalization;
using System.Text;

namespace TokenMetrics;

/// <summary>Writes InfluxDB line protocol: <c>measurement,tag=value field=value timestamp</c>, escaped per the spec.</summary>
/// <remarks>
/// <para>Measurement: commas and spaces are escaped. Tag keys, tag values and field keys: commas, equals signs and spaces are
/// escaped. String field values: double quotes and backslashes are escaped. Integers carry the <c>i</c> suffix.</para>
/// <para>Line protocol cannot carry line breaks in names, tags or fields, so CR and LF become spaces. InfluxDB reads a backslash
/// that ends a name or tag value, or stands directly before a comma, equals sign or space, as the start of an escape, so such a
/// backslash is written as <c>/</c>. Every other character, including quotes, backslashes elsewhere and non-ASCII, is kept.</para>
/// </remarks>
internal static class InfluxLineProtocol
{
    /// <summary>Appends an escaped measurement name.</summary>
    /// <param name="line">The line being built.</param>
    /// <param name="measurement">The name.</param>
    public static void AppendMeasurement(StringBuilder line, string measurement)
    {
        ArgumentNullException.ThrowIfNull(line);
        ArgumentNullException.ThrowIfNull(measurement);
        AppendEscaped(line, measurement, escapeEquals: false);
    }

    /// <summary>Appends <c>,key=value</c>; nothing when <paramref name="value"/> is null or empty (InfluxDB has no empty tags).</summary>
    /// <param name="line">The line being built.</param>
    /// <param name="key">The tag key.</param>
    /// <param name="value">The tag value.</param>
    public static void AppendTag(StringBuilder line, string key, string? value)
    {
        ArgumentNullException.ThrowIfNull(line);
        ArgumentNullException.ThrowIfNull(key);
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        line.Append(',');
        AppendEscaped(line, key, escapeEquals: true);
        line.Append('=');
        AppendEscaped(line, value, escapeEquals: true);
    }

    /// <summary>Appends an escaped field key (without the separator).</summary>
    /// <param name="line">The line being built.</param>
    /// <param name="key">The field key.</param>
    public static void AppendFieldKey(StringBuilder line, string key)
    {
        ArgumentNullException.ThrowIfNull(line);
        ArgumentNullException.ThrowIfNull(key);
        AppendEscaped(line, key, escapeEquals: true);
    }

    /// <summary>Appends a quoted string field value.</summary>
    /// <param name="line">The line being built.</param>
    /// <param name="value">The value.</param>
    public static void AppendStringValue(StringBuilder line, string value)
    {
        ArgumentNullException.ThrowIfNull(line);
        ArgumentNullException.ThrowIfNull(value);
        line.Append('"');
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => line.Append("\\\""),
                '\\' => line.Append(@"\\"),
                '\r' or '\n' => line.Append(' '),
                _ => line.Append(c),
            };
        }

        line.Append('"');
    }

    /// <summary>Appends an integer field value (<c>123i</c>).</summary>
    /// <param name="line">The line being built.</param>
    /// <param name="value">The value.</param>
    public static void AppendIntegerValue(StringBuilder line, long value)
    {
        ArgumentNullException.ThrowIfNull(line);
        line.Append(value.ToString(CultureInfo.InvariantCulture)).Append('i');
    }

    /// <summary>Appends a float field value.</summary>
    /// <param name="line">The line being built.</param>
    /// <param name="value">The value; must be finite.</param>
    public static void AppendFloatValue(StringBuilder line, double value)
    {
        ArgumentNullException.ThrowIfNull(line);
        line.Append((double.IsFinite(value) ? value : 0).ToString("R", CultureInfo.InvariantCulture));
    }

    private static void AppendEscaped(StringBuilder line, string value, bool escapeEquals)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i] is '\r' or '\n' ? ' ' : value[i];
            if (c == '\\')
            {
                var next = i + 1 < value.Length ? (value[i + 1] is '\r' or '\n' ? ' ' : value[i + 1]) : '\0';
                line.Append(next is '\0' or ',' or ' ' || (escapeEquals && next == '=') ? '/' : '\\');
                continue;
            }

            if (c is ',' or ' ' || (escapeEquals && c == '='))
            {
                line.Append('\\');
            }

            line.Append(c);
        }
    }
}
