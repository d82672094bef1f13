using System.Collections.Concurrent;
using System.Text.Json;

namespace TokenMetrics.Internal;

/// <summary>Short JSON string values read as one shared string per distinct text: an app names a handful of models, a gateway log
/// repeats a few dozen routes and consumers millions of times, and a new string for each is allocation nothing needs.</summary>
/// <remarks>Bounded in entries and length: past either bound a value is read as a new string (still correct, just not shared).
/// Thread-safe.</remarks>
internal sealed class Utf8StringCache
{
    /// <summary>Longer values are read as new strings every time (ids and content are unique anyway).</summary>
    public const int MaxChars = 128;

    private readonly int _maxEntries;
    private readonly ConcurrentDictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    /// <summary>Initializes a cache that remembers up to <paramref name="maxEntries"/> values.</summary>
    /// <param name="maxEntries">The most distinct values kept.</param>
    public Utf8StringCache(int maxEntries)
    {
        _maxEntries = maxEntries;
        _lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Gets the number of values remembered.</summary>
    public int Count => _strings.Count;

    /// <summary>Reads the current string (or property name) token, unescaped; <see langword="null"/> when the token is neither.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value, shared with earlier equal values while the cache has room.</returns>
    public string? Read(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName))
        {
            return null;
        }

        // UTF-8 never takes fewer bytes than UTF-16 chars, so a value of at most MaxChars bytes fits the buffer.
        if ((reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length) > MaxChars)
        {
            return reader.GetString();
        }

        Span<char> buffer = stackalloc char[MaxChars];
        return Get(buffer[..reader.CopyString(buffer)]);
    }

    /// <summary>The shared string for UTF-8 text that needs no unescaping (a JSON string without escapes).</summary>
    /// <param name="utf8">The text.</param>
    /// <returns>The string, or <see langword="null"/> when <paramref name="utf8"/> is not valid UTF-8.</returns>
    public string? GetUtf8(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxChars)
        {
            return JsonText.DecodeValidUtf8(utf8);
        }

        Span<char> buffer = stackalloc char[MaxChars];
        return System.Text.Unicode.Utf8.ToUtf16(utf8, buffer, out _, out var written, replaceInvalidSequences: false) == System.Buffers.OperationStatus.Done
            ? Get(buffer[..written])
            : null;
    }

    /// <summary>The shared string for <paramref name="chars"/>.</summary>
    /// <param name="chars">The text.</param>
    /// <returns>The string.</returns>
    public string Get(ReadOnlySpan<char> chars)
    {
        if (_lookup.TryGetValue(chars, out var known))
        {
            return known;
        }

        var value = new string(chars);
        if (_strings.Count < _maxEntries)
        {
            _ = _strings.TryAdd(value, value);
        }

        return value;
    }
}
