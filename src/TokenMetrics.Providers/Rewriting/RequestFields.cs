using System.Text.Json;

namespace TokenMetrics.Providers.Rewriting;

/// <summary>Reads the few top-level request members metering needs (<c>model</c>, <c>stream</c>) without deserializing the body.</summary>
internal static class RequestFields
{
    /// <summary>Returns the top-level <c>model</c> string and <c>stream</c> boolean (<see langword="null"/> when absent).</summary>
    public static (string? Model, bool? Stream) Read(ReadOnlySpan<byte> json, ReadOnlySpan<byte> modelName = default)
    {
        if (modelName.IsEmpty)
        {
            modelName = "model"u8;
        }

        string? model = null;
        bool? stream = null;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return (null, null);
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals(modelName))
                {
                    reader.Read();
                    model = reader.TokenType == JsonTokenType.String ? reader.GetString() : model;
                }
                else if (reader.ValueTextEquals("stream"u8))
                {
                    reader.Read();
                    stream = reader.TokenType switch
                    {
                        JsonTokenType.True => true,
                        JsonTokenType.False => false,
                        _ => stream,
                    };
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
        }

        return (model, stream);
    }
}
