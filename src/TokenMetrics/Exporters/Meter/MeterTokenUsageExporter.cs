using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading;
using System.Threading.Tasks;
using TokenMetrics.Internal;

namespace TokenMetrics;

/// <summary>Records usage on a <see cref="Meter"/> with the OpenTelemetry GenAI semantic conventions.</summary>
/// <remarks>
/// <para>Instruments: <c>gen_ai.client.token.usage</c> (histogram, <c>{token}</c>, <c>gen_ai.token.type</c> = <c>input</c> or
/// <c>output</c>), <c>gen_ai.client.operation.duration</c> (histogram, <c>s</c>, <c>error.type</c> on failures) and
/// <c>gen_ai.client.operation.time_to_first_chunk</c> (streamed calls only), with the spec's advised buckets and the attributes
/// <c>gen_ai.operation.name</c>, <c>gen_ai.provider.name</c>, <c>gen_ai.request.model</c>, <c>gen_ai.response.model</c>,
/// <c>server.address</c>, <c>server.port</c>. TokenMetrics adds <c>tokenmetrics.usage.source</c> so estimated counts can be told apart.</para>
/// <para>Counts outside the spec live under <c>tokenmetrics.*</c>: <c>tokenmetrics.usage.cached_input_tokens</c>,
/// <c>tokenmetrics.usage.cache_write_input_tokens</c>, <c>tokenmetrics.usage.reasoning_tokens</c>,
/// <c>tokenmetrics.operations</c> (calls by status) and <c>tokenmetrics.cost</c> (counter of <see langword="double"/>, unit
/// <c>{currency}</c>, attribute <c>tokenmetrics.currency</c>; priced records only). User, consumer, session and feature become
/// attributes only when opted in through <see cref="TokenUsageMetricLabelOptions"/>, each bounded (allow-list or first-N then
/// <c>other</c>; user ids optionally HMAC-hashed); dimensions with <see cref="TokenUsageDimension.ApplyToMetric"/> add their
/// (bounded) labels too. Captured content never reaches a metric.</para>
/// <para>An app that also uses Microsoft.Extensions.AI's <c>UseOpenTelemetry()</c> gets <c>gen_ai.client.token.usage</c> from its
/// <c>OpenTelemetryChatClient</c> too. Records of calls that went through one (seen by <c>UseTokenMetrics()</c> beneath it, or declared
/// with <see cref="TokenMetricsChatClient.RecordGenAIMetrics"/>) skip the three <c>gen_ai.*</c> instruments here, so collecting both
/// meters never counts a call twice; the <c>tokenmetrics.*</c> instruments still count them.</para>
/// </remarks>
public sealed class MeterTokenUsageExporter : ITokenUsageExporter, IDisposable
{
    private static readonly long[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
    private static readonly double[] SecondBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

    private readonly Meter? _ownedMeter;
    private readonly Histogram<long> _tokenUsage;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _timeToFirstChunk;
    private readonly Counter<long> _cached;
    private readonly Counter<long> _cacheWrite;
    private readonly Counter<long> _reasoning;
    private readonly Counter<long> _operations;
    private readonly AttributionLabels? _labels;
    private readonly Counter<double> _cost;

    /// <summary>Initializes a new instance of the <see cref="MeterTokenUsageExporter"/> class.</summary>
    /// <param name="meterName">The meter name; defaults to <see cref="TokenMetricsDiagnostics.MeterName"/>.</param>
    /// <param name="meterFactory">Creates the meter under dependency injection; when <see langword="null"/> the exporter owns its meter.</param>
    public MeterTokenUsageExporter(string? meterName = null, IMeterFactory? meterFactory = null)
        : this(meterName, meterFactory, null)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="MeterTokenUsageExporter"/> class with attribution labels.</summary>
    /// <param name="meterName">The meter name; defaults to <see cref="TokenMetricsDiagnostics.MeterName"/>.</param>
    /// <param name="meterFactory">Creates the meter under dependency injection; when <see langword="null"/> the exporter owns its meter.</param>
    /// <param name="labels">Which attribution values become labels, and their guards; <see langword="null"/> for none.</param>
    /// <exception cref="System.ComponentModel.DataAnnotations.ValidationException">The label options are invalid (for example hashing without a key).</exception>
    public MeterTokenUsageExporter(string? meterName, IMeterFactory? meterFactory, TokenUsageMetricLabelOptions? labels)
    {
        _labels = AttributionLabels.Create(labels);
        var options = new MeterOptions(meterName ?? TokenMetricsDiagnostics.MeterName) { Version = ThisAssembly.Version };
        var meter = meterFactory?.Create(options) ?? (_ownedMeter = new Meter(options));
        _tokenUsage = meter.CreateHistogram("gen_ai.client.token.usage", "{token}", "Number of input and output tokens used.", advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = TokenBuckets });
        _duration = meter.CreateHistogram("gen_ai.client.operation.duration", "s", "GenAI operation duration.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondBuckets });
        _timeToFirstChunk = meter.CreateHistogram("gen_ai.client.operation.time_to_first_chunk", "s", "Time to receive the first chunk of a streamed response.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondBuckets });
        _cached = meter.CreateCounter<long>("tokenmetrics.usage.cached_input_tokens", "{token}", "Input tokens served from the vendor's prompt cache (included in input).");
        _cacheWrite = meter.CreateCounter<long>("tokenmetrics.usage.cache_write_input_tokens", "{token}", "Input tokens written to the vendor's prompt cache (included in input).");
        _reasoning = meter.CreateCounter<long>("tokenmetrics.usage.reasoning_tokens", "{token}", "Reasoning tokens (included in output).");
        _operations = meter.CreateCounter<long>("tokenmetrics.operations", "{operation}", "LLM calls by status and usage source.");

        // Currencies are not UCUM units and the currency differs per record, so the unit is an annotation and the currency an attribute.
        _cost = meter.CreateCounter<double>("tokenmetrics.cost", "{currency}", "Cost of priced LLM calls, in the currency of tokenmetrics.currency.");
    }

    /// <inheritdoc/>
    public ValueTask<TokenUsageExportResult> ExportAsync(IReadOnlyList<TokenUsageRecord> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        foreach (var r in batch)
        {
            Record(r);
        }

        return ValueTask.FromResult(TokenUsageExportResult.Success);
    }

    /// <inheritdoc/>
    public void Dispose() => _ownedMeter?.Dispose();

    // An app calls one or two ports (443): the tag's boxed value is reused instead of boxing the port for every record.
    private static object? s_lastPort;

    private static object BoxedPort(int port)
    {
        var last = Volatile.Read(ref s_lastPort);
        if (last is int known && known == port)
        {
            return last;
        }

        object boxed = port;
        Volatile.Write(ref s_lastPort, boxed);
        return boxed;
    }

    private void Record(TokenUsageRecord r)
    {
        var tags = new TagList
        {
            { "gen_ai.operation.name", r.Operation ?? "chat" },
            { "gen_ai.provider.name", r.Provider ?? "_OTHER" },
        };
        if (r.RequestModel is not null)
        {
            tags.Add("gen_ai.request.model", r.RequestModel);
        }

        if (r.ResponseModel is not null)
        {
            tags.Add("gen_ai.response.model", r.ResponseModel);
        }

        if (r.ServerAddress is not null)
        {
            tags.Add("server.address", r.ServerAddress);
            if (r.ServerPort is { } port)
            {
                tags.Add("server.port", BoxedPort(port));
            }
        }

        _labels?.AddTo(ref tags, r);
        if (r.MetricTags is { } dimensionLabels)
        {
            foreach (var label in dimensionLabels)
            {
                tags.Add(label);
            }
        }

        // An OpenTelemetryChatClient in the pipeline already recorded the gen_ai.* instruments for this call.
        var genAI = !r.GenAIMetricsRecordedElsewhere;
        if (genAI && _duration.Enabled)
        {
            var durationTags = tags;
            if (r.Status != TokenUsageStatus.Ok)
            {
                durationTags.Add("error.type", r.ErrorType ?? "_OTHER");
            }

            _duration.Record(r.Duration.TotalSeconds, durationTags);
        }

        if (genAI && r.IsStreaming && r.TimeToFirstChunk is { } ttfc && _timeToFirstChunk.Enabled)
        {
            _timeToFirstChunk.Record(ttfc.TotalSeconds, tags);
        }

        var source = TokenUsageNames.Source(r.Source);
        if (_operations.Enabled)
        {
            var opTags = tags;
            opTags.Add("tokenmetrics.status", TokenUsageNames.Status(r.Status));
            opTags.Add("tokenmetrics.usage.source", source);
            _operations.Add(1, opTags);
        }

        if (r.Source == TokenUsageSource.Missing)
        {
            // The spec: without counts, report no token usage rather than zeros.
            return;
        }

        tags.Add("tokenmetrics.usage.source", source);
        if (genAI && _tokenUsage.Enabled)
        {
            if (r.Usage.InputTokenCount is { } input)
            {
                var t = tags;
                t.Add("gen_ai.token.type", "input");
                _tokenUsage.Record(input, t);
            }

            if (r.Usage.OutputTokenCount is { } output)
            {
                var t = tags;
                t.Add("gen_ai.token.type", "output");
                _tokenUsage.Record(output, t);
            }
        }

        if (r.Usage.CachedInputTokenCount is { } cached && cached > 0)
        {
            _cached.Add(cached, tags);
        }

        if (r.Usage.CacheWriteInputTokenCount is { } cacheWrite && cacheWrite > 0)
        {
            _cacheWrite.Add(cacheWrite, tags);
        }

        if (r.Usage.ReasoningTokenCount is { } reasoning && reasoning > 0)
        {
            _reasoning.Add(reasoning, tags);
        }

        // Cost: priced records only (an unknown price is absent, never 0). A double, what metric backends take; exact sums are
        // the stores' job (decimal).
        if (r.Cost is { } cost && _cost.Enabled)
        {
            var costTags = tags;
            costTags.Add("tokenmetrics.currency", r.Currency ?? "_OTHER");
            _cost.Add((double)cost, costTags);
        }
    }
}
