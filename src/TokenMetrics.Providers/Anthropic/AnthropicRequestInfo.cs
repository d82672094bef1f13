using System.Text.Json;
using TokenMetrics.Providers.Json;

namespace TokenMetrics.Providers.Anthropic;

/// <summary>The few top-level members of a Messages request that metering needs: <c>model</c> and <c>stream</c>.</summary>
internal readonly record struct AnthropicRequestInfo(string? Model, bool Stream)
{
    public static AnthropicRequestInfo Parse(ReadOnlySpan<byte> json)
    {
        string? model = null;
        var stream = false;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return default;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("model"u8))
                {
                    reader.Read();
                    model = ModelNames.Read(ref reader) ?? model;
                }
                else if (reader.ValueTextEquals("stream"u8))
                {
                    reader.Read();
                    stream = reader.TokenType == JsonTokenType.True;
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

        return new AnthropicRequestInfo(model, stream);
    }
}
