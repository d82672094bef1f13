using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics;

/// <summary>Sends batches of usage records somewhere: logs, metrics, a database, a webhook.</summary>
/// <remarks>
/// <para>Called from TokenMetrics' background dispatcher, never on the app's request path, one batch at a time per exporter.
/// Exporters should not throw; if one does, or exceeds <see cref="TokenMetricsOptions.ExportTimeout"/>, the batch counts as
/// failed for that exporter and the others are unaffected. Exporters must not modify the records.</para>
/// <para>Implement <see cref="IAsyncDisposable"/> or <see cref="IDisposable"/> to flush on shutdown.</para>
/// </remarks>
public interface ITokenUsageExporter
{
    /// <summary>Exports one batch.</summary>
    /// <param name="batch">The records, oldest first. Valid only during the call.</param>
    /// <param name="cancellationToken">Cancelled when the export times out or the pipeline shuts down.</param>
    /// <returns>Whether the batch was delivered.</returns>
    ValueTask<TokenUsageExportResult> ExportAsync(IReadOnlyList<TokenUsageRecord> batch, CancellationToken cancellationToken);
}

/// <summary>The outcome of one <see cref="ITokenUsageExporter.ExportAsync"/> call.</summary>
public enum TokenUsageExportResult
{
    /// <summary>Every record of the batch was delivered.</summary>
    Success = 0,

    /// <summary>The batch was not (or not wholly) delivered.</summary>
    Failure = 1,
}

/// <summary>The outcome of a flush or shutdown.</summary>
public enum TokenMetricsFlushResult
{
    /// <summary>Everything queued before the call was handed to every exporter, and every exporter succeeded.</summary>
    Success = 0,

    /// <summary>Everything was handed over, but since the previous flush at least one export failed (those records were spooled or
    /// dropped) or a record was dropped before it reached an exporter (its queue, overflow and spool full).</summary>
    Failed = 1,

    /// <summary>The timeout expired before everything was handed over.</summary>
    TimedOut = 2,
}
