using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;

namespace TokenMetrics.Cli.Commands;

/// <summary><c>tokenmetrics extract [--provider auto|NAME] [--request REQUEST.json] [--json] BODY_FILE</c>: the usage TokenMetrics
/// extracts from a captured response body (JSON, SSE, NDJSON or AWS event stream) — "why is my usage zero?".</summary>
/// <remarks>The body goes through the real <see cref="TokenMetricsHandler"/> and the registered protocols, exactly as in an app,
/// so what it prints is what the app would record.</remarks>
internal static class ExtractCommand
{
    public static Command Create()
    {
        var provider = new Option<string>("--provider", "-p")
        {
            Description = "The vendor whose format the body is in: auto (sniffed from the body), " + string.Join(", ", ProviderEndpoints.Names) + ".",
            DefaultValueFactory = _ => "auto",
            HelpName = "NAME",
        };
        var request = new Option<FileInfo?>("--request", "-r")
        {
            Description = "The request body that produced the answer: gives the model, and the prompt to estimate from when the body reports no usage.",
            HelpName = "REQUEST.json",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };
        var body = new Argument<FileInfo>("BODY_FILE") { Description = "The raw response body as captured (for example with curl -o)." };
        var command = new Command("extract", "Show the token usage TokenMetrics extracts from a captured LLM response body.") { provider, request, json, body };
        command.Validators.Add(result =>
        {
            if (result.GetValue(provider) is { } name && name != "auto" && !ProviderEndpoints.IsKnown(name))
            {
                result.AddError($"Unknown provider '{name}'. Known: auto, {string.Join(", ", ProviderEndpoints.Names)}.");
            }
        });
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(provider)!, parse.GetValue(request), parse.GetValue(json), parse.GetValue(body)!, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, ct));
        return command;
    }

    internal static async Task<int> RunAsync(string provider, FileInfo? requestFile, bool asJson, FileInfo bodyFile, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!bodyFile.Exists)
        {
            await error.WriteLineAsync($"tokenmetrics extract: {bodyFile.FullName} does not exist.").ConfigureAwait(false);
            return 2;
        }

        var bytes = await File.ReadAllBytesAsync(bodyFile.FullName, cancellationToken).ConfigureAwait(false);
        var requestBytes = requestFile is null ? null : await File.ReadAllBytesAsync(requestFile.FullName, cancellationToken).ConfigureAwait(false);
        var record = await ExtractAsync(provider, bytes, requestBytes, cancellationToken).ConfigureAwait(false);
        if (asJson)
        {
            await output.WriteLineAsync(ToJson(record)).ConfigureAwait(false);
        }
        else
        {
            var u = record.Usage;
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"""
                provider                  {record.Provider ?? "-"}
                model                     {record.ResponseModel ?? record.RequestModel ?? "-"}
                input_tokens              {N(u.InputTokenCount)}
                output_tokens             {N(u.OutputTokenCount)}
                total_tokens              {N(u.TotalTokenCount)}
                cached_input_tokens       {N(u.CachedInputTokenCount)}
                cache_write_input_tokens  {N(u.CacheWriteInputTokenCount)}
                reasoning_tokens          {N(u.ReasoningTokenCount)}
                source                    {Source(record.Source)}{(record.EstimationMethod is null ? string.Empty : $" ({record.EstimationMethod})")}
                status                    {record.Status.ToString().ToLowerInvariant()}{(record.ErrorType is null ? string.Empty : $" ({record.ErrorType})")}
                """)).ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary>Runs <paramref name="body"/> through a metered HttpClient whose "server" answers with it, and returns the record.</summary>
    internal static async Task<TokenUsageRecord> ExtractAsync(string provider, byte[] body, byte[]? requestBody, CancellationToken cancellationToken)
    {
        var format = BodyFormat.Sniff(body);
        var name = provider == "auto" ? ProviderEndpoints.Sniff(body, format) : provider;
        var model = ModelOf(requestBody);
        var services = new ServiceCollection();
        services.AddTokenMetrics(o => o.ExportInterval = TimeSpan.FromMilliseconds(10)).RemoveMeterExporter().AddDefaultProviders().AddInMemoryExporter(out var records);
        var container = services.BuildServiceProvider();
        await using (container.ConfigureAwait(false))
        {
            var recorder = container.GetRequiredService<TokenUsageRecorder>();
            var answer = new CannedAnswer(body, format.MediaType);
            using var client = new HttpClient(new TokenMetricsHandler(recorder, container.GetServices<ITokenUsageProtocol>(), answer, new TokenMetricsHandlerOptions { RequestStreamUsage = false }));
            using var request = new HttpRequestMessage(HttpMethod.Post, ProviderEndpoints.Url(name, model, format))
            {
                Content = new ByteArrayContent(requestBody ?? Encoding.UTF8.GetBytes(model is null ? "{}" : $"{{\"model\":{JsonSerializer.Serialize(model, CliJson.Default.String)}}}")),
            };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false))
            {
                _ = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            }

            _ = await recorder.FlushAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            return records.Records.Count > 0
                ? records.Records[^1]
                : new TokenUsageRecord { Provider = name, Source = TokenUsageSource.Missing, Status = TokenUsageStatus.Error, ErrorType = "not recognised as an LLM call" };
        }
    }

    internal static string ToJson(TokenUsageRecord record)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            var u = record.Usage;
            w.WriteStartObject();
            w.WriteString("provider", record.Provider);
            w.WriteString("model", record.ResponseModel ?? record.RequestModel);
            Count(w, "input_tokens", u.InputTokenCount);
            Count(w, "output_tokens", u.OutputTokenCount);
            Count(w, "total_tokens", u.TotalTokenCount);
            Count(w, "cached_input_tokens", u.CachedInputTokenCount);
            Count(w, "cache_write_input_tokens", u.CacheWriteInputTokenCount);
            Count(w, "reasoning_tokens", u.ReasoningTokenCount);
            w.WriteString("source", Source(record.Source));
            w.WriteString("estimation_method", record.EstimationMethod);
            w.WriteString("status", record.Status.ToString().ToLowerInvariant());
            w.WriteString("error_type", record.ErrorType);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Count(Utf8JsonWriter w, string name, long? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static string Source(TokenUsageSource source) => source switch
    {
        TokenUsageSource.Reported => "reported",
        TokenUsageSource.Estimated => "estimated",
        _ => "missing",
    };

    private static string N(long? value) => value?.ToString("N0", CultureInfo.InvariantCulture) ?? "-";

    private static string? ModelOf(byte[]? requestBody)
    {
        if (requestBody is null)
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(requestBody);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed class CannedAnswer(byte[] body, string mediaType) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request });
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class CliJson : System.Text.Json.Serialization.JsonSerializerContext;
