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
    /// <summary>The most of a body read before deciding what it is: its format and vendor are told from these bytes.</summary>
    internal const int HeadBytes = 1 << 20;

    /// <summary>The last bytes of a file looked at when the head alone does not tell the vendor (usage is written last).</summary>
    internal const int TailBytes = 256 << 10;

    /// <summary>The largest request file read (the handler inspects at most 4 MiB of a request anyway).</summary>
    private const long MaxRequestBytes = 16 << 20;

    public static Command Create()
    {
        var provider = new Option<string>("--provider", "-p")
        {
            Description = "The vendor whose format the body is in: auto (told from the body's shape; asks for this option when it cannot tell), " + string.Join(", ", ProviderEndpoints.Names) + ".",
            DefaultValueFactory = _ => "auto",
            HelpName = "NAME",
        };
        var request = new Option<FileInfo?>("--request", "-r")
        {
            Description = "The request body that produced the answer: gives the model, and the prompt to estimate from when the body reports no usage.",
            HelpName = "REQUEST.json",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };
        var body = new Argument<string>("BODY_FILE") { Description = "The raw response body as captured (for example with curl -o); - reads standard input." };
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

    internal static async Task<int> RunAsync(string provider, FileInfo? requestFile, bool asJson, string bodyPath, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        TokenUsageRecord record;
        try
        {
            var requestBytes = requestFile is null ? null : await ReadRequestAsync(requestFile, cancellationToken).ConfigureAwait(false);
            var stdin = bodyPath == "-";
            if (!stdin && !File.Exists(bodyPath))
            {
                throw new CliException(ExitCodes.InputError, Directory.Exists(bodyPath) ? $"{bodyPath} is a directory, not a body file." : $"{Path.GetFullPath(bodyPath)} does not exist.");
            }

            var stream = stdin ? Console.OpenStandardInput() : new FileStream(bodyPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
            await using (stream.ConfigureAwait(false))
            {
                record = await ExtractAsync(provider, stream, requestBytes, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (CliException ex)
        {
            await error.WriteLineAsync($"tokenmetrics extract: {OneLine.Of(ex.Message)}").ConfigureAwait(false);
            return ex.ExitCode;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"tokenmetrics extract: {bodyPath}: {OneLine.Of(ex.Message)}").ConfigureAwait(false);
            return ExitCodes.InputError;
        }

        if (asJson)
        {
            await output.WriteLineAsync(ToJson(record)).ConfigureAwait(false);
        }
        else
        {
            var u = record.Usage;
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"""
                provider                  {record.Provider ?? "-"}
                model                     {ModelOf(record) ?? "unknown (the body names none; --request gives the request's)"}
                input_tokens              {N(u.InputTokenCount)}
                output_tokens             {N(u.OutputTokenCount)}
                total_tokens              {N(u.TotalTokenCount)}
                cached_input_tokens       {N(u.CachedInputTokenCount)}
                cache_write_input_tokens  {N(u.CacheWriteInputTokenCount)}
                reasoning_tokens          {N(u.ReasoningTokenCount)}
                source                    {Source(record.Source)}{(record.EstimationMethod is null ? string.Empty : $" ({record.EstimationMethod})")}
                status                    {record.Status.ToString().ToLowerInvariant()}{(record.ErrorType is null ? string.Empty : $" ({record.ErrorType})")}
                cost                      {CostText(record)}
                """)).ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }

    /// <summary>Runs a captured body held in memory (tests, small bodies) through the real handler; see the stream overload.</summary>
    internal static Task<TokenUsageRecord> ExtractAsync(string provider, byte[] body, byte[]? requestBody, CancellationToken cancellationToken) =>
        ExtractAsync(provider, new MemoryStream(body, writable: false), requestBody, cancellationToken);

    /// <summary>Runs <paramref name="body"/> through a metered HttpClient whose "server" answers with it, streaming (memory stays
    /// bounded whatever the body's size), and returns the record.</summary>
    /// <exception cref="CliException">The body's format or vendor cannot be told (<see cref="ExitCodes.NotRecognised"/>).</exception>
    internal static async Task<TokenUsageRecord> ExtractAsync(string provider, Stream body, byte[]? requestBody, CancellationToken cancellationToken)
    {
        var head = new byte[HeadBytes];
        var headLength = await ReadUpToAsync(body, head, cancellationToken).ConfigureAwait(false);
        if (headLength == 0)
        {
            throw new CliException(ExitCodes.NotRecognised, "the body is empty: nothing to extract.");
        }

        var format = BodyFormat.Sniff(head.AsSpan(0, headLength))
            ?? throw new CliException(ExitCodes.NotRecognised, "not recognised: the body is not JSON, server-sent events, NDJSON or an AWS event stream (binary or random data?).");
        var tail = provider == "auto" && headLength == HeadBytes ? await ReadTailAsync(body, cancellationToken).ConfigureAwait(false) : [];
        var name = provider != "auto"
            ? provider
            : ProviderEndpoints.Sniff(head.AsSpan(0, headLength), tail, format)
              ?? throw new CliException(ExitCodes.NotRecognised, $"cannot tell which vendor's answer this {format.Name} body is; pass --provider NAME ({string.Join(", ", ProviderEndpoints.Names)}).");
        var model = ModelOf(requestBody);
        var services = new ServiceCollection();
        services.AddTokenMetrics(o => o.ExportInterval = TimeSpan.FromMilliseconds(10)).RemoveMeterExporter().AddDefaultProviders().AddInMemoryExporter(out var records);
        var container = services.BuildServiceProvider();
        await using (container.ConfigureAwait(false))
        {
            var recorder = container.GetRequiredService<TokenUsageRecorder>();
            var answer = new CannedAnswer(new ReplayStream(head, headLength, body), format.MediaType);
            using var client = new HttpClient(new TokenMetricsHandler(recorder, container.GetServices<ITokenUsageProtocol>(), answer, new TokenMetricsHandlerOptions { RequestStreamUsage = false }));
            using var request = new HttpRequestMessage(HttpMethod.Post, ProviderEndpoints.Url(name, model, format))
            {
                Content = new ByteArrayContent(requestBody ?? SyntheticRequest(model, format)),
            };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false))
            {
                // Read as an app would, without keeping it: the readers hold only their bounded windows.
                await response.Content.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
            }

            _ = await recorder.FlushAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            var record = records.Records.Count > 0
                ? records.Records[^1]
                : throw new CliException(ExitCodes.NotRecognised, $"no {name} protocol took this body as an LLM call; try another --provider.");

            // The URL's stand-in model is never the body's: the record says unknown.
            return record with
            {
                RequestModel = record.RequestModel == ProviderEndpoints.UnnamedModel ? null : record.RequestModel,
                RoutedModel = record.RoutedModel == ProviderEndpoints.UnnamedModel ? null : record.RoutedModel,
                ResponseModel = record.ResponseModel == ProviderEndpoints.UnnamedModel ? null : record.ResponseModel,
            };
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
            w.WriteString("model", ModelOf(record));
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
            if (record.Cost is { } cost)
            {
                w.WriteNumber("cost", cost);
            }
            else
            {
                w.WriteNull("cost");
            }

            w.WriteString("currency", record.Currency);
            w.WriteString("priced_model", record.PricedModel);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The cost line: amount, currency and the price entry used; "unknown" (never 0) when the model has no price.</summary>
    internal static string CostText(TokenUsageRecord record) => record.Cost is { } cost
        ? string.Create(CultureInfo.InvariantCulture, $"{cost} {record.Currency}{(record.PricedModel is null ? string.Empty : $" (priced as {record.PricedModel})")}")
        : record.Source == TokenUsageSource.Missing ? "-" : "unknown (no price for this model)";

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

    private static string? ModelOf(TokenUsageRecord record) => record.ResponseModel ?? record.RequestModel;

    // Without a request file: names the model only when known, and tells the vendor whether the body is a stream (Ollama's
    // default is to stream); it holds no prompt, so nothing is estimated from it.
    private static byte[] SyntheticRequest(string? model, BodyFormat format) => Encoding.UTF8.GetBytes(model is null
        ? $"{{\"stream\":{(format.IsStream ? "true" : "false")}}}"
        : $"{{\"model\":{JsonSerializer.Serialize(model, CliJson.Default.String)},\"stream\":{(format.IsStream ? "true" : "false")}}}");

    private static async Task<byte[]> ReadRequestAsync(FileInfo file, CancellationToken cancellationToken)
    {
        if (!file.Exists)
        {
            throw new CliException(ExitCodes.InputError, $"{file.FullName} does not exist.");
        }

        if (file.Length > MaxRequestBytes)
        {
            throw new CliException(ExitCodes.InputError, $"{file.FullName} is {file.Length:N0} bytes; a request file is read only up to {MaxRequestBytes >> 20} MiB.");
        }

        return await File.ReadAllBytesAsync(file.FullName, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int> ReadUpToAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            filled += read;
        }

        return filled;
    }

    // Only a seekable input (a file) has a tail to look at before it is read; the position is put back.
    private static async Task<byte[]> ReadTailAsync(Stream body, CancellationToken cancellationToken)
    {
        if (!body.CanSeek || body.Length - body.Position <= 0)
        {
            return [];
        }

        var position = body.Position;
        var length = (int)Math.Min(TailBytes, body.Length - position);
        var tail = new byte[length];
        body.Seek(-length, SeekOrigin.End);
        var read = await ReadUpToAsync(body, tail, cancellationToken).ConfigureAwait(false);
        body.Position = position;
        return tail.AsSpan(0, read).ToArray();
    }

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

    private sealed class CannedAnswer(Stream body, string mediaType) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var content = new StreamContent(body, 1 << 16);
            content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request });
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class CliJson : System.Text.Json.Serialization.JsonSerializerContext;
