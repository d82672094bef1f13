using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics;

/// <summary>Exports records into an <see cref="ITokenUsageStore"/> (idempotent, so retries and replays never double-count).</summary>
public sealed class StoreTokenUsageExporter : ITokenUsageExporter
{
    private readonly ITokenUsageStore _store;

    /// <summary>Initializes a new instance of the <see cref="StoreTokenUsageExporter"/> class.</summary>
    /// <param name="store">The store.</param>
    public StoreTokenUsageExporter(ITokenUsageStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
    }

    /// <summary>Gets the store.</summary>
    public ITokenUsageStore Store => _store;

    /// <inheritdoc/>
    public async ValueTask<TokenUsageExportResult> ExportAsync(IReadOnlyList<TokenUsageRecord> batch, CancellationToken cancellationToken)
    {
        _ = await _store.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
        return TokenUsageExportResult.Success;
    }
}
