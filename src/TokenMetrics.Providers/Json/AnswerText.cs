using System.Text.Json;

namespace TokenMetrics.Providers.Json;

/// <summary>Says whether the property name the reader is on names answer text.</summary>
internal delegate bool TextKey(ref Utf8JsonReader reader);

/// <summary>Collects the answer text of a non-streamed body, only for estimation (the body is already here, so it is cheap).</summary>
internal static class AnswerText
{
    /// <summary>Appends every string value, anywhere in the array the reader is on, of a property that <paramref name="isTextKey"/>
    /// accepts; skips a value that is not an array.</summary>
    public static void Collect(ref Utf8JsonReader reader, TokenUsageTextAccumulator output, TextKey isTextKey)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return;
        }

        var depth = reader.CurrentDepth;
        var take = false;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == depth))
        {
            if (reader.TokenType == JsonTokenType.PropertyName)
            {
                take = isTextKey(ref reader);
            }
            else if (take && reader.TokenType == JsonTokenType.String)
            {
                output.AppendJsonEscaped(reader.ValueSpan);
                take = false;
            }
            else
            {
                take = false;
            }
        }
    }
}
