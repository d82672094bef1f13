using System.Buffers.Binary;
using System.Text.Json;

namespace TokenMetrics.Testing.Internal;

/// <summary><c>POST /v1/embeddings</c>: a list of deterministic vectors (floats, or base64 when <c>encoding_format</c> is <c>base64</c>) with <c>usage {prompt_tokens,total_tokens}</c>.</summary>
internal static class OpenAIEmbeddings
{
    private static readonly string[] PromptMembers = ["input", "dimensions"];

    public static async Task HandleAsync(MockRequestContext context)
    {
        var request = OpenAIRequestInfo.Read(context, PromptMembers, CountPromptTokens);
        var inputs = Inputs(request.Body);
        var dimensions = request.Body.TryGetProperty("dimensions", out var d) && d.TryGetInt32(out var requested) && requested > 0 ? requested : 8;
        if (context.Scenario.HugeBodyBytes is int huge && huge > 0)
        {
            // About 10 bytes per float in JSON.
            dimensions = Math.Max(dimensions, (huge / 10 / Math.Max(1, inputs.Count)) + 1);
        }

        var base64 = request.Body.TryGetProperty("encoding_format", out var format) && format.ValueKind == JsonValueKind.String && format.GetString() == "base64";
        var body = JsonBytes.Write((request, inputs, dimensions, base64), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            for (var i = 0; i < s.inputs.Count; i++)
            {
                w.WriteStartObject();
                w.WriteString("object", "embedding");
                w.WriteNumber("index", i);
                var vector = Vector(s.inputs[i], s.dimensions);
                if (s.base64)
                {
                    var bytes = new byte[vector.Length * sizeof(float)];
                    for (var j = 0; j < vector.Length; j++)
                    {
                        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(j * sizeof(float)), vector[j]);
                    }

                    w.WriteString("embedding", Convert.ToBase64String(bytes));
                }
                else
                {
                    w.WriteStartArray("embedding");
                    foreach (var value in vector)
                    {
                        w.WriteNumberValue(value);
                    }

                    w.WriteEndArray();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteText("model", s.request.ResponseModel);
            w.WriteStartObject("usage");
            w.WriteNumber("prompt_tokens", s.request.PromptTokens);
            w.WriteNumber("total_tokens", s.request.PromptTokens);
            w.WriteEndObject();
            w.WriteEndObject();
        });
        var writer = context.CreateWriter();
        await using var writerScope = writer.ConfigureAwait(false);
        await writer.WriteBodyAsync(200, "application/json", body, honourCut: true).ConfigureAwait(false);
    }

    private static List<string> Inputs(JsonElement body)
    {
        var inputs = new List<string>();
        if (body.TryGetProperty("input", out var input))
        {
            if (input.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in input.EnumerateArray())
                {
                    inputs.Add(item.ValueKind == JsonValueKind.String ? item.GetString() ?? string.Empty : item.GetRawText());
                }
            }
            else
            {
                inputs.Add(input.ValueKind == JsonValueKind.String ? input.GetString() ?? string.Empty : input.GetRawText());
            }
        }

        return inputs;
    }

    private static int CountPromptTokens(JsonElement body)
    {
        var tokens = 0;
        if (body.TryGetProperty("input", out var input) && input.ValueKind == JsonValueKind.Array && input.GetArrayLength() > 0 && input[0].ValueKind == JsonValueKind.Number)
        {
            return input.GetArrayLength();
        }

        foreach (var text in Inputs(body))
        {
            tokens += OpenAIRequestInfo.TextTokens(text);
        }

        return tokens;
    }

    /// <summary>A unit-length vector derived from the text's hash.</summary>
    private static float[] Vector(string text, int dimensions)
    {
        var vector = new float[dimensions];
        var hash = Deterministic.Hash(text);
        double norm = 0;
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = (hash[i % hash.Length] - 127.5f) / 127.5f;
            norm += vector[i] * vector[i];
        }

        var scale = norm > 0 ? (float)(1 / Math.Sqrt(norm)) : 0f;
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] *= scale;
        }

        return vector;
    }
}
