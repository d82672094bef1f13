using System.Text.Json;
using TokenMetrics.Internal;

namespace TokenMetrics.Providers.Json;

/// <summary>Model names read from JSON, one string per distinct name (the shared <see cref="Utf8StringCache"/>, up to 512 names):
/// an app uses a handful of models, and a new string for the same name on every call (request and response) is allocation the
/// record does not need.</summary>
internal static class ModelNames
{
    private static readonly Utf8StringCache Names = new(maxEntries: 512);

    /// <summary>Reads the current JSON string token as a model name; <see langword="null"/> when the token is not a string.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The name.</returns>
    public static string? Read(ref Utf8JsonReader reader) => reader.TokenType == JsonTokenType.String ? Names.Read(ref reader) : null;

    /// <summary>Reads a model name from the bytes of a JSON string without escapes.</summary>
    /// <param name="utf8">The string's bytes, without quotes.</param>
    /// <returns>The name; <see langword="null"/> when the bytes are not valid UTF-8.</returns>
    public static string? FromPlain(ReadOnlySpan<byte> utf8) => Names.GetUtf8(utf8);
}
