using System.Collections.Generic;
using System.Text;
using System.Text.Json;

namespace TokenMetrics.Cli.Ingest;

/// <summary>Turns short JSON string values into strings, handing back the same instance for the same text: a gateway log
/// repeats a few dozen models, routes, consumers and response types millions of times, and one string each is enough.</summary>
/// <remarks>Bounded: past <paramref name="capacity"/> distinct values it still decodes, it just stops remembering. Not thread-safe
/// (one per parser, one parser per reading thread).</remarks>
internal sealed class Utf8StringCache(int capacity = 4096)
{
    /// <summary>Longer values are decoded every time (ids and content are unique anyway).</summary>
    public const int MaxCachedLength = 128;

    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);

    /// <summary>Gets the number of values remembered.</summary>
    public int Count => _strings.Count;

    /// <summary>The string value the reader is on (an empty string reads as <see langword="null"/>, as a missing field).</summary>
    /// <param name="reader">A reader on a <see cref="JsonTokenType.String"/> token.</param>
    /// <returns>The value, shared with earlier equal values while the cache has room.</returns>
    public string? Read(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped || reader.HasValueSequence || reader.ValueSpan.Length > MaxCachedLength)
        {
            var text = reader.GetString();
            return string.IsNullOrEmpty(text) ? null : text;
        }

        return Get(reader.ValueSpan);
    }

    /// <summary>The string for unescaped, valid UTF-8 of at most <see cref="MaxCachedLength"/> bytes (<see langword="null"/> when empty).</summary>
    /// <param name="utf8">The bytes.</param>
    /// <returns>The string.</returns>
    public string? Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            return null;
        }

        Span<char> chars = stackalloc char[MaxCachedLength];
        var length = Encoding.UTF8.GetChars(utf8, chars);
        var lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(chars[..length], out var known))
        {
            return known;
        }

        var value = new string(chars[..length]);
        if (_strings.Count < capacity)
        {
            _strings[value] = value;
        }

        return value;
    }
}
