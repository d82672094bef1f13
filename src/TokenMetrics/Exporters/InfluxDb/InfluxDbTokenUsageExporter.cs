using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TokenMetrics.Internal;

namespace TokenMetrics;

/// <summary>Writes usage records to InfluxDB as line protocol over HTTP (v1 <c>/write</c> or v2 <c>/api/v2/write</c>).</summary>
/// <remarks>
/// <para>One point per record in <see cref="InfluxDbExporterOptions.Measurement"/> (default <c>tokenmetrics_usage</c>).
/// Tags: <c>provider</c>, <c>operation</c>, <c>model</c> (requested model), <c>status</c>, <c>source</c> and, unless disabled,
/// <c>consumer</c>; <c>feature</c> when set, <c>currency</c> when priced. Integer fields: <c>input_tokens</c>, <c>output_tokens</c>, <c>total_tokens</c>, <c>cached_input_tokens</c>,
/// <c>cache_write_input_tokens</c>, <c>reasoning_tokens</c> (each only when known), <c>http_status</c>. Float fields:
/// <c>duration_ms</c>, <c>time_to_first_chunk_ms</c>, <c>cost</c> (only when priced, never 0 for an unknown price). Boolean:
/// <c>streaming</c>. Strings: <c>record_id</c> (always), <c>response_model</c>, <c>session_id</c>, <c>error_type</c>,
/// <c>estimation_method</c>, <c>priced_model</c>. Captured content is never written.</para>
/// <para>The timestamp is the record's <see cref="TokenUsageRecord.Timestamp"/>. At nanosecond precision a 0–99 ns offset derived
/// from the record id is added: two calls in the same 100 ns tick with equal tags stay two points, while a replayed record lands on
/// the very same point and overwrites it (InfluxDB keeps one point per series and time), so retries never double-count.
/// <c>record_id</c> lets you spot duplicates at coarser precisions.</para>
/// <para>One attempt per call: 2xx succeeds; 408, 429 and 5xx throw a transient <see cref="TokenUsageExportException"/> with the
/// server's <c>Retry-After</c>; other statuses throw a permanent one. Credentials never appear in messages or logs.</para>
/// </remarks>
public sealed partial class InfluxDbTokenUsageExporter : ITokenUsageExporter
{
    private static readonly long UnixEpochTicks = DateTimeOffset.UnixEpoch.UtcTicks;

    private readonly HttpClient _httpClient;
    private readonly InfluxDbExporterOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Uri _writeUri;
    private readonly AuthenticationHeaderValue? _authorization;
    private readonly string _target;

    /// <summary>Initializes a new instance of the <see cref="InfluxDbTokenUsageExporter"/> class.</summary>
    /// <param name="httpClient">The client; redirects should be off (the DI registration does that) so credentials never follow one.</param>
    /// <param name="options">The options.</param>
    /// <param name="timeProvider">The clock for <c>Retry-After</c> dates; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">The logger; none when <see langword="null"/>.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are invalid.</exception>
    public InfluxDbTokenUsageExporter(HttpClient httpClient, InfluxDbExporterOptions options, TimeProvider? timeProvider = null, ILogger<InfluxDbTokenUsageExporter>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        ExporterOptions.ThrowIfInvalid(nameof(InfluxDbExporterOptions), options.Validate());
        _httpClient = httpClient;
        _options = options;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? (ILogger)NullLogger.Instance;

        var baseUri = options.Endpoint!.AbsoluteUri.EndsWith('/') ? options.Endpoint : new Uri(options.Endpoint.AbsoluteUri + "/");
        string query;
        if (options.ApiVersion == InfluxDbApiVersion.V1)
        {
            query = "write?db=" + Uri.EscapeDataString(options.Database!) +
                (string.IsNullOrEmpty(options.RetentionPolicy) ? string.Empty : "&rp=" + Uri.EscapeDataString(options.RetentionPolicy)) +
                "&precision=" + V1Precision(options.Precision);
            if (!string.IsNullOrEmpty(options.Username))
            {
                _authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(options.Username + ":" + options.Password)));
            }
        }
        else
        {
            query = "api/v2/write?org=" + Uri.EscapeDataString(options.Organization!) + "&bucket=" + Uri.EscapeDataString(options.Bucket!) +
                "&precision=" + V2Precision(options.Precision);
            _authorization = new AuthenticationHeaderValue("Token", options.Token);
        }

        _writeUri = new Uri(baseUri, query);
        _target = "InfluxDB " + baseUri.GetLeftPart(UriPartial.Authority);
    }

    /// <inheritdoc/>
    public async ValueTask<TokenUsageExportResult> ExportAsync(IReadOnlyList<TokenUsageRecord> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var text = new StringBuilder(256 * Math.Min(batch.Count, _options.MaxPointsPerRequest));
        var points = 0;
        foreach (var record in batch)
        {
            AppendPoint(text, record);
            if (++points == _options.MaxPointsPerRequest)
            {
                await WriteAsync(text, points, cancellationToken).ConfigureAwait(false);
                text.Clear();
                points = 0;
            }
        }

        if (points > 0)
        {
            await WriteAsync(text, points, cancellationToken).ConfigureAwait(false);
        }

        return TokenUsageExportResult.Success;
    }

    /// <summary>Formats one record as a line-protocol line (with its trailing newline).</summary>
    /// <param name="record">The record.</param>
    /// <returns>The line.</returns>
    internal string FormatPoint(TokenUsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var text = new StringBuilder(256);
        AppendPoint(text, record);
        return text.ToString();
    }

    private static string V1Precision(InfluxDbPrecision precision) => precision switch
    {
        InfluxDbPrecision.Microseconds => "u",
        InfluxDbPrecision.Milliseconds => "ms",
        InfluxDbPrecision.Seconds => "s",
        _ => "n",
    };

    private static string V2Precision(InfluxDbPrecision precision) => precision switch
    {
        InfluxDbPrecision.Microseconds => "us",
        InfluxDbPrecision.Milliseconds => "ms",
        InfluxDbPrecision.Seconds => "s",
        _ => "ns",
    };

    private static void AppendField(StringBuilder text, ref bool first, string key)
    {
        text.Append(first ? ' ' : ',');
        first = false;
        InfluxLineProtocol.AppendFieldKey(text, key);
        text.Append('=');
    }

    private static void AppendIntegerField(StringBuilder text, ref bool first, string key, long? value)
    {
        if (value is { } v)
        {
            AppendField(text, ref first, key);
            InfluxLineProtocol.AppendIntegerValue(text, v);
        }
    }

    private static void AppendStringField(StringBuilder text, ref bool first, string key, string? value)
    {
        if (value is not null)
        {
            AppendField(text, ref first, key);
            InfluxLineProtocol.AppendStringValue(text, value);
        }
    }

            private long Timestamp(TokenUsageRecord record)
    {
        var ticks = record.Timestamp.UtcTicks - UnixEpochTicks;
        switch (_options.Precision)
        {
            case InfluxDbPrecision.Microseconds:
                return ticks / 10;
            case InfluxDbPrecision.Milliseconds:
                return ticks / TimeSpan.TicksPerMillisecond;
            case InfluxDbPrecision.Seconds:
                return ticks / TimeSpan.TicksPerSecond;
            default:
                Span<byte> id = stackalloc byte[16];
                _ = record.Id.TryWriteBytes(id);
                return (ticks * 100) + (id[15] % 100);
        }
    }

    private void AppendPoint(StringBuilder text, TokenUsageRecord r)
    {
        // Tags sorted by key, as InfluxDB recommends.
        InfluxLineProtocol.AppendMeasurement(text, _options.Measurement);
        if (_options.IncludeConsumer)
        {
            InfluxLineProtocol.AppendTag(text, "consumer", r.Consumer);
        }

        // Currency and feature are low-cardinality tags (a few ISO codes, the app's own feature names), so cost sums group by them.
        InfluxLineProtocol.AppendTag(text, "currency", r.Cost is null ? null : r.Currency);
        InfluxLineProtocol.AppendTag(text, "feature", r.Feature);
        InfluxLineProtocol.AppendTag(text, "model", r.RequestModel ?? r.ResponseModel);
        InfluxLineProtocol.AppendTag(text, "operation", r.Operation);
        InfluxLineProtocol.AppendTag(text, "provider", r.Provider);
        InfluxLineProtocol.AppendTag(text, "source", TokenUsageNames.Source(r.Source));
        InfluxLineProtocol.AppendTag(text, "status", TokenUsageNames.Status(r.Status));

        var first = true;
        var u = r.Usage;
        AppendIntegerField(text, ref first, "input_tokens", u.InputTokenCount);
        AppendIntegerField(text, ref first, "output_tokens", u.OutputTokenCount);
        AppendIntegerField(text, ref first, "total_tokens", u.GetTotalOrSum());
        AppendIntegerField(text, ref first, "cached_input_tokens", u.CachedInputTokenCount);
        AppendIntegerField(text, ref first, "cache_write_input_tokens", u.CacheWriteInputTokenCount);
        AppendIntegerField(text, ref first, "reasoning_tokens", u.ReasoningTokenCount);
        AppendField(text, ref first, "duration_ms");
        InfluxLineProtocol.AppendFloatValue(text, Math.Round(r.Duration.TotalMilliseconds, 3));
        if (r.TimeToFirstChunk is { } ttfc)
        {
            AppendField(text, ref first, "time_to_first_chunk_ms");
            InfluxLineProtocol.AppendFloatValue(text, Math.Round(ttfc.TotalMilliseconds, 3));
        }

        if (r.Cost is { } cost)
        {
            // A float field (InfluxDB has no decimal), written from the decimal's own digits; absent when the price is unknown.
            AppendField(text, ref first, "cost");
            text.Append(cost.ToString(CultureInfo.InvariantCulture));
        }

        AppendField(text, ref first, "streaming");
        text.Append(r.IsStreaming ? "true" : "false");
        AppendIntegerField(text, ref first, "http_status", r.HttpStatusCode);
        AppendStringField(text, ref first, "record_id", r.Id.ToString("N", CultureInfo.InvariantCulture));
        AppendStringField(text, ref first, "response_model", r.ResponseModel);
        AppendStringField(text, ref first, "session_id", r.SessionId);
        AppendStringField(text, ref first, "error_type", r.ErrorType);
        AppendStringField(text, ref first, "estimation_method", r.EstimationMethod);
        AppendStringField(text, ref first, "priced_model", r.PricedModel);
        text.Append(' ').Append(Timestamp(r).ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    private async Task WriteAsync(StringBuilder text, int points, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(text.ToString());
        using var request = new HttpRequestMessage(HttpMethod.Post, _writeUri);
        if (_options.UseGzip)
        {
            using var compressed = new MemoryStream();
            using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            {
                gzip.Write(body);
            }

            request.Content = new ByteArrayContent(compressed.ToArray());
            request.Content.Headers.ContentEncoding.Add("gzip");
        }
        else
        {
            request.Content = new ByteArrayContent(body);
        }

        request.Content.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
        request.Headers.Authorization = _authorization;
        await HttpExport.SendAsync(_httpClient, request, _target, _timeProvider, cancellationToken).ConfigureAwait(false);
        LogWritten(_logger, points, _target);
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Debug, Message = "Wrote {Points} points to {Target}")]
    private static partial void LogWritten(ILogger logger, int points, string target);
}
