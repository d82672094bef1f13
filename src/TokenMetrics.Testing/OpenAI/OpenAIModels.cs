using System.Text.Json;

namespace TokenMetrics.Testing.Internal;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>, so SDK probes work.</summary>
internal static class OpenAIModels
{
    private static readonly string[] Models = ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "o4-mini", "text-embedding-3-small", "gpt-3.5-turbo-instruct"];

    public static async Task ListAsync(MockRequestContext context)
    {
        var body = JsonBytes.Write(0, static (w, _) =>
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            foreach (var model in Models)
            {
                WriteModel(w, model);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
        var writer = context.CreateWriter();
        await using var writerScope = writer.ConfigureAwait(false);
        await writer.WriteBodyAsync(200, "application/json", body, honourCut: false).ConfigureAwait(false);
    }

    public static async Task GetAsync(MockRequestContext context)
    {
        var id = Uri.UnescapeDataString(context.Request.Path["/v1/models/".Length..]);
        var body = JsonBytes.Write(id, static (w, id) => WriteModel(w, id));
        var writer = context.CreateWriter();
        await using var writerScope = writer.ConfigureAwait(false);
        await writer.WriteBodyAsync(200, "application/json", body, honourCut: false).ConfigureAwait(false);
    }

    private static void WriteModel(Utf8JsonWriter w, string id)
    {
        w.WriteStartObject();
        w.WriteText("id", id);
        w.WriteString("object", "model");
        w.WriteNumber("created", 1_704_067_200);
        w.WriteString("owned_by", "system");
        w.WriteEndObject();
    }
}
