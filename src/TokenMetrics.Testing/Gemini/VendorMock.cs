using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace TokenMetrics.Testing.Internal;

/// <summary>Shared pieces of the non-OpenAI mock vendors: prompt-token counting, arguments from a schema, and raw streamed
/// writes (NDJSON, JSON arrays, SSE with vendor framing) that honour the scenario's split writes and chunk delays.</summary>
/// <remarks>Raw streams do not apply <c>Gzip</c> (only the shared SSE writer does).</remarks>
internal sealed class VendorMock
{
    private readonly MockRequestContext _context;

    public VendorMock(MockRequestContext context)
    {
        _context = context;
    }

    private HttpResponse Response => _context.Http.Response;

    /// <summary>Prompt tokens: the scenario's, else <c>ceil(bytes / 4) + 3</c> per message plus 3 (the OpenAI mock's rule).</summary>
    public static int PromptTokens(ResolvedScenario scenario, IEnumerable<string> messageTexts) =>
        scenario.PromptTokens ?? OpenAIRequestInfo.MessageTokens(messageTexts);

    public async Task StartAsync(string contentType)
    {
        Response.StatusCode = StatusCodes.Status200OK;
        Response.ContentType = contentType;
        await Response.StartAsync(_context.CancellationToken).ConfigureAwait(false);
    }

    public async Task WriteAsync(byte[] bytes)
    {
        var split = _context.Scenario.SplitWritesBytes ?? bytes.Length;
        for (var offset = 0; offset < bytes.Length; offset += split)
        {
            await Response.Body.WriteAsync(bytes.AsMemory(offset, Math.Min(split, bytes.Length - offset)), _context.CancellationToken).ConfigureAwait(false);
            await Response.Body.FlushAsync(_context.CancellationToken).ConfigureAwait(false);
        }
    }

    public Task WriteAsync(string text) => WriteAsync(Encoding.UTF8.GetBytes(text));

    public Task DelayAsync() =>
        _context.Scenario.ChunkDelay > TimeSpan.Zero ? Task.Delay(_context.Scenario.ChunkDelay, _context.CancellationToken) : Task.CompletedTask;

    /// <summary>Ends a cut stream: aborts the connection or completes the body cleanly, as the scenario asks.</summary>
    public async Task CutAsync()
    {
        if (_context.Scenario.CutAbortsConnection)
        {
            await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
            _context.Http.Abort();
            return;
        }

        await Response.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>Deterministic arguments from a JSON schema: each property gets a value of its type.</summary>
    public static string BuildArguments(JsonElement schema)
    {
        var builder = new StringBuilder("{");
        if (schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
        {
            var first = true;
            foreach (var property in properties.EnumerateObject())
            {
                if (!first)
                {
                    builder.Append(',');
                }

                first = false;
                var type = property.Value.ValueKind == JsonValueKind.Object && property.Value.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String
                    ? t.GetString()?.ToLowerInvariant()
                    : "string";
                builder.Append(Encoding.UTF8.GetString(JsonBytes.Quote(property.Name))).Append(':');
                builder.Append(type switch
                {
                    "integer" => "1",
                    "number" => "1.5",
                    "boolean" => "true",
                    "array" => "[]",
                    "object" => "{}",
                    _ => Encoding.UTF8.GetString(JsonBytes.Quote("mock-" + property.Name.ToLower(CultureInfo.InvariantCulture))),
                });
            }
        }

        return builder.Append('}').ToString();
    }

    /// <summary>The text of a JSON string, or of the <c>text</c> members inside arrays and objects.</summary>
    public static void CollectText(JsonElement element, StringBuilder into)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                into.Append(element.GetString());
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    CollectText(item, into);
                }

                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.NameEquals("text") || property.NameEquals("content") || property.NameEquals("parts"))
                    {
                        CollectText(property.Value, into);
                    }
                }

                break;
        }
    }
}
