using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics;

/// <summary>Feeds the export pipeline's records into a <see cref="TokenMetricsPrometheus"/> aggregator, which a scrape endpoint renders.</summary>
/// <remarks>In memory and never failing; replays of recently seen record ids are ignored
/// (<see cref="PrometheusExporterOptions.DeduplicationWindow"/>).</remarks>
public sealed class PrometheusTokenUsageExporter : ITokenUsageExporter
{
    private readonly TokenMetricsPrometheus _metrics;

    /// <summary>Initializes a new instance of the <see cref="PrometheusTokenUsageExporter"/> class.</summary>
    /// <param name="metrics">The aggregator to feed.</param>
    public PrometheusTokenUsageExporter(TokenMetricsPrometheus metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _metrics = metrics;
    }

    /// <summary>Gets the aggregator.</summary>
    public TokenMetricsPrometheus Metrics => _metrics;

    /// <inheritdoc/>
    public ValueTask<TokenUsageExportResult> ExportAsync(IReadOnlyList<TokenUsageRecord> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        _metrics.Record(batch);
        return ValueTask.FromResult(TokenUsageExportResult.Success);
    }
}
