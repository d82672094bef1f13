using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Options;
using TokenMetrics.Internal;

namespace TokenMetrics;

/// <summary>An in-process Prometheus aggregator of usage records, rendered in the text exposition format 0.0.4.</summary>
/// <remarks>
/// <para>Fed by <see cref="PrometheusTokenUsageExporter"/> (the export pipeline) and read by a scrape: the ASP.NET Core endpoint
/// <c>MapTokenMetricsPrometheus()</c> in TokenMetrics.AspNetCore, or <see cref="WriteAsync"/> in any host.</para>
/// <para>Metrics (prefix <see cref="PrometheusExporterOptions.MetricPrefix"/>, default <c>tokenmetrics</c>); labels
/// <c>provider</c>, <c>model</c>, <c>operation</c>, <c>consumer</c> (opt-in), <c>status</c>, <c>source</c>:</para>
/// <list type="bullet">
/// <item><c>tokenmetrics_tokens_total</c> (counter, + <c>token_type</c> = <c>input</c>, <c>output</c>, <c>cached_input</c>,
/// <c>cache_write_input</c>, <c>reasoning</c>; cached and cache-write are subsets of input, reasoning of output: never sum all types).</item>
/// <item><c>tokenmetrics_calls_total</c> (counter): calls by status and usage source.</item>
/// <item><c>tokenmetrics_token_usage</c> (histogram, + <c>token_type</c> = <c>input</c> or <c>output</c>): tokens per call, GenAI buckets.</item>
/// <item><c>tokenmetrics_operation_duration_seconds</c> and <c>tokenmetrics_time_to_first_chunk_seconds</c> (histograms, GenAI buckets; the latter streamed calls only).</item>
/// <item><c>tokenmetrics_cost_total</c> (counter, + <c>currency</c>): summed cost of priced calls (exact decimal sums); an
/// unknown price adds nothing, never 0.</item>
/// <item><c>tokenmetrics_unpriced_calls_total</c> (counter): calls with usage but no known price, so the cost above is a lower bound.</item>
/// <item><c>tokenmetrics_series_overflow_total</c> (counter, label <c>metric</c>): observations routed to the overflow series by the cardinality guard.</item>
/// <item><c>tokenmetrics_duplicate_records_total</c> (counter): replayed records ignored because their id was seen recently.</item>
/// </list>
/// <para>Thread-safe. Records without usage (<see cref="TokenUsageSource.Missing"/>) count as calls but add no tokens.</para>
/// </remarks>
public sealed class TokenMetricsPrometheus
{
    /// <summary>The content type of the text exposition format 0.0.4.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private const string Other = "other";
    private static readonly double[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
    private static readonly double[] SecondBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    private readonly Lock _lock = new();
    private readonly PrometheusExporterOptions _options;
    private readonly MetricFamily _tokens;
    private readonly MetricFamily _calls;
    private readonly MetricFamily _tokenUsage;
    private readonly MetricFamily _duration;
    private readonly MetricFamily _timeToFirstChunk;
    private readonly MetricFamily _cost;
    private readonly MetricFamily _unpriced;
    private readonly MetricFamily[] _families;
    private readonly string _overflowName;
    private readonly string _duplicatesName;
    private readonly HashSet<Guid> _seen = [];
    private readonly Queue<Guid> _seenOrder = new();
    private long _duplicates;

    /// <summary>Initializes a new instance of the <see cref="TokenMetricsPrometheus"/> class.</summary>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="OptionsValidationException">The options are invalid.</exception>
    public TokenMetricsPrometheus(PrometheusExporterOptions? options = null)
    {
        _options = options ?? new PrometheusExporterOptions();
        ExporterOptions.ThrowIfInvalid(nameof(PrometheusExporterOptions), _options.Validate());
        var prefix = SanitizeMetricName(_options.MetricPrefix.Trim());
        string[] labels = _options.IncludeConsumer
            ? ["provider", "model", "operation", "consumer", "status", "source"]
            : ["provider", "model", "operation", "status", "source"];
        string[] typedLabels = [.. labels, "token_type"];
        var max = _options.MaxSeriesPerMetric;
        _tokens = new MetricFamily(prefix + "_tokens_total", "Tokens used by LLM calls, by token type (cached_input and cache_write_input are part of input, reasoning is part of output).", "counter", typedLabels, null, max);
        _calls = new MetricFamily(prefix + "_calls_total", "LLM calls, by status and usage source.", "counter", labels, null, max);
        _tokenUsage = new MetricFamily(prefix + "_token_usage", "Input and output tokens per LLM call (OpenTelemetry GenAI buckets).", "histogram", typedLabels, TokenBuckets, max);
        _duration = new MetricFamily(prefix + "_operation_duration_seconds", "Duration of LLM calls in seconds.", "histogram", labels, SecondBuckets, max);
        _timeToFirstChunk = new MetricFamily(prefix + "_time_to_first_chunk_seconds", "Time to the first chunk of streamed LLM calls in seconds.", "histogram", labels, SecondBuckets, max);
        _cost = new MetricFamily(prefix + "_cost_total", "Cost of priced LLM calls, in the currency of the currency label.", "counter", [.. labels, "currency"], null, max, amount: true);
        _unpriced = new MetricFamily(prefix + "_unpriced_calls_total", "LLM calls with usage but no known price (not in tokenmetrics_cost_total).", "counter", labels, null, max);
        _families = [_tokens, _calls, _tokenUsage, _duration, _timeToFirstChunk, _cost, _unpriced];
        _overflowName = prefix + "_series_overflow_total";
        _duplicatesName = prefix + "_duplicate_records_total";
    }

    /// <summary>Adds records to the aggregates.</summary>
    /// <param name="batch">The records.</param>
    /// <exception cref="ArgumentNullException"><paramref name="batch"/> is <see langword="null"/>.</exception>
    public void Record(IEnumerable<TokenUsageRecord> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (_lock)
        {
            foreach (var record in batch)
            {
                if (record is not null && FirstSighting(record.Id))
                {
                    RecordLocked(record);
                }
            }
        }
    }

    /// <summary>Writes every metric in the Prometheus text exposition format 0.0.4 (UTF-8) to <paramref name="destination"/>.</summary>
    /// <param name="destination">The stream, for example an HTTP response body; it is not closed.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the text is written.</returns>
    public async Task WriteAsync(Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var bytes = Utf8.GetBytes(GetText());
        await destination.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Renders every metric in the Prometheus text exposition format 0.0.4.</summary>
    /// <returns>The text, one line per sample, ending with a newline.</returns>
    public string GetText()
    {
        var text = new StringBuilder(4096);
        lock (_lock)
        {
            foreach (var family in _families)
            {
                family.Write(text);
            }

            AppendHeader(text, _overflowName, "Observations routed to the overflow series (label values \"other\") because a metric reached its series limit.", "counter");
            foreach (var family in _families)
            {
                text.Append(_overflowName).Append("{metric=\"").Append(family.Name).Append("\"} ")
                    .Append(family.Overflowed.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }

            AppendHeader(text, _duplicatesName, "Records ignored because a record with the same id was already counted (replays).", "counter");
            text.Append(_duplicatesName).Append(' ').Append(_duplicates.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        return text.ToString();
    }

    internal static string SanitizeMetricName(string name)
    {
        var builder = new StringBuilder(name.Length + 1);
        foreach (var c in name)
        {
            builder.Append(c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or ':' ? c : '_');
        }

        if (builder.Length == 0 || char.IsAsciiDigit(builder[0]))
        {
            builder.Insert(0, '_');
        }

        return builder.ToString();
    }

    internal static void AppendEscapedLabelValue(StringBuilder text, string value)
    {
        foreach (var c in value)
        {
            _ = c switch
            {
                '\\' => text.Append(@"\\"),
                '"' => text.Append("\\\""),
                '\n' => text.Append(@"\n"),
                _ => text.Append(c),
            };
        }
    }

    private static void AppendHeader(StringBuilder text, string name, string help, string type)
    {
        // HELP text escapes only backslash and newline; ours has neither, but keep the rule in one place.
        text.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", @"\\", StringComparison.Ordinal).Replace("\n", @"\n", StringComparison.Ordinal)).Append('\n');
        text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    private static string FormatDouble(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf" : double.IsNaN(value) ? "NaN" : value.ToString("R", CultureInfo.InvariantCulture);

            private bool FirstSighting(Guid id)
    {
        if (_options.DeduplicationWindow == 0)
        {
            return true;
        }

        if (!_seen.Add(id))
        {
            _duplicates++;
            return false;
        }

        _seenOrder.Enqueue(id);
        if (_seenOrder.Count > _options.DeduplicationWindow)
        {
            _ = _seen.Remove(_seenOrder.Dequeue());
        }

        return true;
    }

    private void RecordLocked(TokenUsageRecord r)
    {
        var baseLabels = new List<string>(7)
        {
            // Empty counts as absent: a label `model=""` is no model at all to PromQL.
            Cut(OrDefault(r.Provider, "unknown")),
            Cut(OrDefault(string.IsNullOrEmpty(r.RequestModel) ? r.ResponseModel : r.RequestModel, "unknown")),
            Cut(OrDefault(r.Operation, "chat")),
        };
        if (_options.IncludeConsumer)
        {
            baseLabels.Add(Cut(r.Consumer ?? string.Empty));
        }

        baseLabels.Add(TokenUsageNames.Status(r.Status));
        baseLabels.Add(TokenUsageNames.Source(r.Source));
        var labels = baseLabels.ToArray();

        _calls.Series(labels).Value++;
        _duration.Series(labels).Observe(r.Duration.TotalSeconds, SecondBuckets);
        if (r.IsStreaming && r.TimeToFirstChunk is { } ttfc)
        {
            _timeToFirstChunk.Series(labels).Observe(ttfc.TotalSeconds, SecondBuckets);
        }

        if (r.Source == TokenUsageSource.Missing)
        {
            return;
        }

        if (r.Cost is { } cost)
        {
            _cost.Series([.. baseLabels, Cut(OrDefault(r.Currency, "unknown"))]).Amount += cost;
        }
        else
        {
            _unpriced.Series(labels).Value++;
        }

        var u = r.Usage;
        AddTokens(baseLabels, "input", u.InputTokenCount, histogram: true);
        AddTokens(baseLabels, "output", u.OutputTokenCount, histogram: true);
        AddTokens(baseLabels, "cached_input", u.CachedInputTokenCount, histogram: false);
        AddTokens(baseLabels, "cache_write_input", u.CacheWriteInputTokenCount, histogram: false);
        AddTokens(baseLabels, "reasoning", u.ReasoningTokenCount, histogram: false);
    }

    private void AddTokens(List<string> baseLabels, string type, long? count, bool histogram)
    {
        if (count is not { } value || value < 0)
        {
            return;
        }

        string[] labels = [.. baseLabels, type];
        _tokens.Series(labels).Value += value;
        if (histogram)
        {
            _tokenUsage.Series(labels).Observe(value, TokenBuckets);
        }
    }

    private static string OrDefault(string? value, string fallback) => string.IsNullOrEmpty(value) ? fallback : value;

    private string Cut(string value) => value.Length <= _options.MaxLabelValueLength ? value : value[.._options.MaxLabelValueLength];

    private sealed class MetricFamily(string name, string help, string type, string[] labelNames, double[]? buckets, int maxSeries, bool amount = false)
    {
        private readonly Dictionary<LabelValues, SeriesState> _series = [];

        public string Name => name;

        public long Overflowed { get; private set; }

        public SeriesState Series(string[] values)
        {
            var key = new LabelValues(values);
            if (_series.TryGetValue(key, out var series))
            {
                return series;
            }

            if (_series.Count >= maxSeries)
            {
                Overflowed++;
                var other = new string[values.Length];
                for (var i = 0; i < values.Length; i++)
                {
                    // token_type (five values) and currency (a few ISO codes) are bounded and keep per-type and per-currency totals right.
                    other[i] = labelNames[i] is "token_type" or "currency" ? values[i] : Other;
                }

                key = new LabelValues(other);
                if (_series.TryGetValue(key, out series))
                {
                    return series;
                }
            }

            series = new SeriesState(buckets?.Length + 1 ?? 0);
            _series.Add(key, series);
            return series;
        }

        public void Write(StringBuilder text)
        {
            AppendHeader(text, name, help, type);
            var keys = new List<LabelValues>(_series.Keys);
            keys.Sort();
            foreach (var key in keys)
            {
                var series = _series[key];
                if (buckets is null)
                {
                    text.Append(name);
                    AppendLabels(text, key, null);
                    text.Append(' ').Append(amount ? series.Amount.ToString(CultureInfo.InvariantCulture) : series.Value.ToString(CultureInfo.InvariantCulture)).Append('\n');
                    continue;
                }

                long cumulative = 0;
                for (var i = 0; i <= buckets.Length; i++)
                {
                    cumulative += series.Buckets[i];
                    text.Append(name).Append("_bucket");
                    AppendLabels(text, key, i < buckets.Length ? FormatDouble(buckets[i]) : "+Inf");
                    text.Append(' ').Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }

                text.Append(name).Append("_sum");
                AppendLabels(text, key, null);
                text.Append(' ').Append(FormatDouble(series.Sum)).Append('\n');
                text.Append(name).Append("_count");
                AppendLabels(text, key, null);
                text.Append(' ').Append(series.Value.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        private void AppendLabels(StringBuilder text, LabelValues key, string? le)
        {
            text.Append('{');
            for (var i = 0; i < labelNames.Length; i++)
            {
                if (i > 0)
                {
                    text.Append(',');
                }

                text.Append(labelNames[i]).Append("=\"");
                AppendEscapedLabelValue(text, key.Values[i]);
                text.Append('"');
            }

            if (le is not null)
            {
                text.Append(",le=\"").Append(le).Append('"');
            }

            text.Append('}');
        }
    }

    private sealed class SeriesState(int bucketCount)
    {
        // Counter value, or observation count for histograms.
        public long Value { get; set; }

        public double Sum { get; private set; }

        // Summed money amount (cost counters): decimal, so the exposed total is exact.
        public decimal Amount { get; set; }

        public long[] Buckets { get; } = new long[bucketCount];

        public void Observe(double value, double[] bounds)
        {
            var i = 0;
            while (i < bounds.Length && value > bounds[i])
            {
                i++;
            }

            Buckets[i]++;
            Sum += value;
            Value++;
        }
    }

    private sealed class LabelValues(string[] values) : IEquatable<LabelValues>, IComparable<LabelValues>
    {
        private readonly int _hash = Hash(values);

        public string[] Values => values;

        public bool Equals(LabelValues? other)
        {
            if (other is null || other._hash != _hash || other.Values.Length != values.Length)
            {
                return false;
            }

            for (var i = 0; i < values.Length; i++)
            {
                if (!string.Equals(values[i], other.Values[i], StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }

        public override bool Equals(object? obj) => Equals(obj as LabelValues);

        public override int GetHashCode() => _hash;

        public int CompareTo(LabelValues? other)
        {
            if (other is null)
            {
                return 1;
            }

            for (var i = 0; i < Math.Min(values.Length, other.Values.Length); i++)
            {
                var c = string.CompareOrdinal(values[i], other.Values[i]);
                if (c != 0)
                {
                    return c;
                }
            }

            return values.Length.CompareTo(other.Values.Length);
        }

        private static int Hash(string[] values)
        {
            var hash = default(HashCode);
            foreach (var v in values)
            {
                hash.Add(v, StringComparer.Ordinal);
            }

            return hash.ToHashCode();
        }
    }
}
