using System.Collections.Concurrent;
using System.Text.Json;

namespace TokenMetrics.Providers.Json;

/// <summary>Model names read from JSON, one string per distinct name: an app uses a handful of models, and a new string for
/// the same name on every call (request and response) is allocation the record does not need.</summary>
/// <remarks>Bounded in entries and length: past either bound a name is read as a new string, as before.</remarks>
internal static class ModelNames
{
    private const int MaxEntries = 512;
    private const int MaxChars = 128;
    private static readonly ConcurrentDictionary<string, string> Names = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> Lookup = Names.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Reads the current JSON string token as a model name; <see langword="null"/> when the token is not a string.</summary>
    public static string? Read(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            return null;
        }

        // UTF-8 never takes fewer bytes than UTF-16 chars, so a value of at most MaxChars bytes fits the buffer.
        if ((reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length) > MaxChars)
        {
            return reader.GetString();
        }

        Span<char> buffer = stackalloc char[MaxChars];
        var chars = buffer[..reader.CopyString(buffer)];
        if (Lookup.TryGetValue(chars, out var name))
        {
            return name;
        }

        name = new string(chars);
        if (Names.Count < MaxEntries)
        {
            _ = Names.TryAdd(name, name);
        }

        return name;
    }
}
