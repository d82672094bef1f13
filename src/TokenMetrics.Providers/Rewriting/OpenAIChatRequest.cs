using System.Collections.Generic;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TokenMetrics.Providers.Rewriting;

/// <summary>An OpenAI Chat Completions request body, parsed once for a rewriter: model mapping and context cleanup applied,
/// every field checked against what the target vendor can express.</summary>
internal sealed class OpenAIChatRequest
{
    private OpenAIChatRequest(JsonObject body, string requestModel, string routedModel)
    {
        Body = body;
        RequestModel = requestModel;
        RoutedModel = routedModel;
    }

    /// <summary>Gets the request (after context cleanup; <c>model</c> still the app's).</summary>
    public JsonObject Body { get; }

    /// <summary>Gets the model the app asked for.</summary>
    public string RequestModel { get; }

    /// <summary>Gets the model after mapping (what the vendor is asked for).</summary>
    public string RoutedModel { get; }

    /// <summary>Gets a value indicating whether the app asked for a stream.</summary>
    public bool Stream => Body["stream"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    /// <summary>Gets a value indicating whether the app asked for stream usage (so the final usage chunk must be written for it).</summary>
    public bool IncludeUsage => Body["stream_options"] is JsonObject o && o["include_usage"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    /// <summary>Gets the messages.</summary>
    public JsonArray Messages => Body["messages"] as JsonArray ?? [];

    /// <summary>Parses and prepares a request body.</summary>
    /// <exception cref="NotSupportedException">The body is not a Chat Completions request.</exception>
    public static OpenAIChatRequest Parse(ReadOnlySpan<byte> json, TokenMetricsRewriteOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        JsonObject body;
        try
        {
            body = JsonNode.Parse(json) as JsonObject ?? throw new NotSupportedException("The request body is not a JSON object.");
        }
        catch (JsonException ex)
        {
            throw new NotSupportedException("The request body is not valid JSON: " + ex.Message, ex);
        }

        var model = (string?)body["model"] ?? throw new NotSupportedException("The request has no 'model'.");
        ContextCleanup.Apply(body, options.ContextCleanupCommands);
        return new OpenAIChatRequest(body, model, ModelMapper.Map(model, options.ModelMapping));
    }

    /// <summary>Throws <see cref="NotSupportedException"/> naming the first top-level field (with a non-null, non-default value)
    /// that <paramref name="supported"/> does not contain.</summary>
    public void EnsureOnly(ISet<string> supported, string vendor)
    {
        ArgumentNullException.ThrowIfNull(supported);
        foreach (var (name, value) in Body)
        {
            if (value is null || supported.Contains(name))
            {
                continue;
            }

            throw new NotSupportedException($"Rewriting to {vendor}: the request field '{name}' is not supported.");
        }
    }

    /// <summary>Reads a number field, or <see langword="null"/>.</summary>
    public double? Number(string name) => Body[name] is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    /// <summary>Reads <c>max_completion_tokens</c> or <c>max_tokens</c>.</summary>
    public int? MaxTokens() =>
        Body["max_completion_tokens"] is JsonValue a && a.TryGetValue<int>(out var x) ? x
        : Body["max_tokens"] is JsonValue b && b.TryGetValue<int>(out var y) ? y : null;

    /// <summary>Reads <c>stop</c> (a string or an array) as a new JSON array, or <see langword="null"/> when there is none.</summary>
    public JsonArray? StopSequences()
    {
        var stop = Stop();
        if (stop.Count == 0)
        {
            return null;
        }

        var sequences = new JsonArray();
        foreach (var s in stop)
        {
            sequences.Add((JsonNode?)JsonValue.Create(s));
        }

        return sequences;
    }

    /// <summary>Reads <c>stop</c> (a string or an array) as a list.</summary>
    public List<string> Stop()
    {
        var result = new List<string>();
        switch (Body["stop"])
        {
            case JsonValue v when v.TryGetValue<string>(out var s):
                result.Add(s);
                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    if ((string?)item is { } s2)
                    {
                        result.Add(s2);
                    }
                }

                break;
        }

        return result;
    }
}
