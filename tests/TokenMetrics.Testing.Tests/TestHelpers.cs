using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace TokenMetrics.Testing.Tests;

internal static class TestHelpers
{
    public const string DefaultAnswer = "This is a deterministic answer from the TokenMetrics mock server.";

    public static HttpClient CreateClient(MockLlmServer server) => new() { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

    public static string ChatBody(bool stream = false, bool? includeUsage = null, string model = "gpt-4o-mini", string user = "Hello there", string? tools = null)
    {
        var builder = new StringBuilder();
        builder.Append("{\"model\":").Append(JsonSerializer.Serialize(model));
        builder.Append(",\"messages\":[{\"role\":\"system\",\"content\":\"You are terse.\"},{\"role\":\"user\",\"content\":").Append(JsonSerializer.Serialize(user)).Append("}]");
        if (tools is not null)
        {
            builder.Append(",\"tools\":").Append(tools);
        }

        if (stream)
        {
            builder.Append(",\"stream\":true");
        }

        if (includeUsage is bool include)
        {
            builder.Append(",\"stream_options\":{\"include_usage\":").Append(include ? "true" : "false").Append('}');
        }

        return builder.Append('}').ToString();
    }

    public static HttpRequestMessage Post(string path, string json, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    public static async Task<(HttpResponseMessage Response, byte[] Body)> SendAsync(HttpClient client, string path, string json, params (string Name, string Value)[] headers)
    {
        using var request = Post(path, json, headers);
        var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        return (response, body);
    }

    /// <summary>Splits an SSE body into events (separated by a blank line) and keeps their exact text.</summary>
    public static List<string> Events(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body);
        Assert.EndsWith("\n\n", text);
        return text[..^2].Split("\n\n").ToList();
    }

    /// <summary>The <c>data:</c> payload of each event.</summary>
    public static List<string> Data(byte[] body) =>
        Events(body).Select(static e => e.Split('\n').Single(static l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..]).ToList();

    /// <summary>The JSON payloads (everything but <c>[DONE]</c>).</summary>
    public static List<JsonElement> Json(byte[] body) =>
        Data(body).Where(static d => d != "[DONE]").Select(static d => JsonDocument.Parse(d).RootElement.Clone()).ToList();

    public static string ContentOf(IEnumerable<JsonElement> chunks)
    {
        var builder = new StringBuilder();
        foreach (var chunk in chunks)
        {
            foreach (var choice in chunk.GetProperty("choices").EnumerateArray())
            {
                if (choice.TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
                {
                    builder.Append(content.GetString());
                }
            }
        }

        return builder.ToString();
    }

    public static int ContentChunkCount(IEnumerable<JsonElement> chunks) =>
        chunks.Count(static c => c.GetProperty("choices").EnumerateArray().Any(static ch =>
            ch.TryGetProperty("delta", out var d) && d.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String && content.GetString()!.Length > 0));

    /// <summary>Reads a body incrementally, recording when each piece arrived, until the end or an error.</summary>
    public static async Task<(byte[] Bytes, Exception? Error)> ReadUntilEndOrErrorAsync(HttpResponseMessage response)
    {
        using var stream = await response.Content.ReadAsStreamAsync();
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk)) > 0)
            {
                buffer.Write(chunk, 0, read);
            }

            return (buffer.ToArray(), null);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            return (buffer.ToArray(), ex);
        }
    }

    public static bool IsJsonContent(HttpResponseMessage response) =>
        response.Content.Headers.ContentType is MediaTypeHeaderValue { MediaType: "application/json" };
}
