using System.Text;
using System.Text.Json;

namespace TokenMetrics.Internal;

/// <summary>A small gjson-like path over a UTF-8 JSON document: dotted property names and array indexes
/// (<c>choices.0.message.content</c>), and <c>@reverse</c> to count an array from its end (<c>messages.@reverse.0.content</c>).</summary>
/// <remarks>Evaluated with <see cref="Utf8JsonReader"/> in one forward pass (plus one count pass per <c>@reverse</c>); only the
/// value found is allocated. A string gives its text, a number or literal its JSON text, an object or array its raw JSON.
/// Malformed or cut JSON gives no value, never an exception.</remarks>
internal sealed class JsonPathValue
{
    private const string Reverse = "@reverse";
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 256, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
    private readonly Segment[] _segments;

    private JsonPathValue(string path, Segment[] segments)
    {
        Path = path;
        _segments = segments;
    }

    /// <summary>Gets the path as configured.</summary>
    public string Path { get; }

    /// <summary>Parses <paramref name="path"/>; returns <see langword="null"/> with an explanation when it is not a valid path.</summary>
    /// <param name="path">The path.</param>
    /// <param name="error">Why it is invalid.</param>
    /// <returns>The compiled path, or <see langword="null"/>.</returns>
    public static JsonPathValue? TryParse(string? path, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(path))
        {
            error = "is empty";
            return null;
        }

        var parts = path.Split('.');
        var segments = new System.Collections.Generic.List<Segment>(parts.Length);
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            if (part.Length == 0)
            {
                error = $"has an empty segment at position {i}";
                return null;
            }

            if (part == Reverse)
            {
                if (i + 1 >= parts.Length || !int.TryParse(parts[i + 1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var fromEnd))
                {
                    error = "must follow @reverse with an index (messages.@reverse.0.content)";
                    return null;
                }

                segments.Add(new Segment(null, fromEnd, FromEnd: true));
                i++;
                continue;
            }

            if (part[0] == '@')
            {
                error = $"uses the unsupported modifier '{part}' (only @reverse)";
                return null;
            }

            var isIndex = int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index);
            segments.Add(new Segment(Encoding.UTF8.GetBytes(part), isIndex ? index : -1, FromEnd: false));
        }

        return new JsonPathValue(path, segments.ToArray());
    }

    /// <summary>Returns the value at the path in <paramref name="json"/>, or <see langword="null"/> when absent, null or unreadable.</summary>
    /// <param name="json">A complete JSON document.</param>
    /// <returns>The value's text.</returns>
    public string? Evaluate(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, ReaderOptions);
            if (!reader.Read())
            {
                return null;
            }

            foreach (var segment in _segments)
            {
                if (!Step(ref reader, segment))
                {
                    return null;
                }
            }

            return ValueText(ref reader, json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Moves <paramref name="reader"/> from the start of a container to the start of the selected child.</summary>
    private static bool Step(ref Utf8JsonReader reader, Segment segment)
    {
        if (reader.TokenType == JsonTokenType.StartObject && segment.Name is not null)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var match = reader.ValueTextEquals(segment.Name);
                if (!reader.Read())
                {
                    return false;
                }

                if (match)
                {
                    return true;
                }

                reader.Skip();
            }

            return false;
        }

        if (reader.TokenType != JsonTokenType.StartArray || segment.Index < 0)
        {
            return false;
        }

        var target = segment.Index;
        if (segment.FromEnd)
        {
            // Count the elements on a copy of the reader (a struct: copying it saves the position), then index from the start.
            var counter = reader;
            var count = 0;
            while (counter.Read() && counter.TokenType != JsonTokenType.EndArray)
            {
                counter.Skip();
                count++;
            }

            target = count - 1 - segment.Index;
            if (target < 0)
            {
                return false;
            }
        }

        for (var i = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; i++)
        {
            if (i == target)
            {
                return true;
            }

            reader.Skip();
        }

        return false;
    }

    private static string? ValueText(ref Utf8JsonReader reader, ReadOnlySpan<byte> json)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False:
                return Encoding.UTF8.GetString(reader.ValueSpan);
            case JsonTokenType.StartObject or JsonTokenType.StartArray:
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                return Encoding.UTF8.GetString(json[start..(int)reader.BytesConsumed]);
            default:
                return null;
        }
    }

    private readonly record struct Segment(byte[]? Name, int Index, bool FromEnd);
}
