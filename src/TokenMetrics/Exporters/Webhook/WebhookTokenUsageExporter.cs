using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TokenMetrics.Internal;

namespace TokenMetrics;

/// <summary>Posts batches of usage records as signed JSON to an HTTP endpoint.</summary>
/// <remarks>
/// <para>Body: <c>{"records":[...]}</c>, each record in the canonical <see cref="TokenUsageJson"/> shape (snake_case, nulls omitted).
/// Headers: <c>X-TokenMetrics-Timestamp</c>, <c>X-TokenMetrics-Signature: v1=&lt;hex&gt;</c> (see <see cref="TokenMetricsWebhook"/>)
/// and <c>Idempotency-Key</c>, a hash of the record ids, equal for a retried batch. Receivers de-duplicate by record <c>id</c>.</para>
/// <para>One attempt per call: 2xx succeeds; 408, 429 and 5xx throw a transient <see cref="TokenUsageExportException"/> carrying
/// <c>Retry-After</c>; other statuses a permanent one. The secret never appears in messages or logs.</para>
/// </remarks>
public sealed partial class WebhookTokenUsageExporter : ITokenUsageExporter
{
    private readonly HttpClient _httpClient;
    private readonly WebhookExporterOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly string _target;

    /// <summary>Initializes a new instance of the <see cref="WebhookTokenUsageExporter"/> class.</summary>
    /// <param name="httpClient">The client; redirects should be off (the DI registration does that).</param>
    /// <param name="options">The options.</param>
    /// <param name="timeProvider">The clock for the timestamp header; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">The logger; none when <see langword="null"/>.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are invalid.</exception>
    public WebhookTokenUsageExporter(HttpClient httpClient, WebhookExporterOptions options, TimeProvider? timeProvider = null, ILogger<WebhookTokenUsageExporter>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        ExporterOptions.ThrowIfInvalid(nameof(WebhookExporterOptions), options.Validate());
        _httpClient = httpClient;
        _options = options;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _target = "Webhook " + options.Endpoint!.GetLeftPart(UriPartial.Path);
    }

    /// <inheritdoc/>
    public async ValueTask<TokenUsageExportResult> ExportAsync(IReadOnlyList<TokenUsageRecord> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        for (var start = 0; start < batch.Count; start += _options.MaxRecordsPerRequest)
        {
            await PostAsync(batch, start, Math.Min(_options.MaxRecordsPerRequest, batch.Count - start), cancellationToken).ConfigureAwait(false);
        }

        return TokenUsageExportResult.Success;
    }

    private async Task PostAsync(IReadOnlyList<TokenUsageRecord> batch, int start, int count, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        using var ids = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> id = stackalloc byte[16];
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("records");
            for (var i = start; i < start + count; i++)
            {
                var record = batch[i];
                TokenUsageJson.Write(writer, record.Content is null || _options.IncludeContent ? record : record with { Content = null });
                _ = batch[i].Id.TryWriteBytes(id);
                ids.AppendData(id);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        var body = buffer.ToArray();
        var timestamp = _timeProvider.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, _options.Endpoint) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(TokenMetricsWebhook.TimestampHeader, timestamp);
        request.Headers.Add(TokenMetricsWebhook.SignatureHeader, TokenMetricsWebhook.ComputeSignature(_options.Secret!, timestamp, body));
        request.Headers.Add("Idempotency-Key", Convert.ToHexStringLower(ids.GetHashAndReset().AsSpan(0, 16)));
        await HttpExport.SendAsync(_httpClient, request, _target, _timeProvider, cancellationToken).ConfigureAwait(false);
        LogPosted(_logger, count, _target);
    }

    [LoggerMessage(EventId = 310, Level = LogLevel.Debug, Message = "Posted {Count} records to {Target}")]
    private static partial void LogPosted(ILogger logger, int count, string target);
}
