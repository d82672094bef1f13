using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics;

/// <summary>Keeps exported records in memory: for tests, samples and small tools.</summary>
/// <remarks>Thread-safe. Bounded by <see cref="Capacity"/>: the oldest records are discarded first.</remarks>
public sealed class InMemoryTokenUsageExporter : ITokenUsageExporter
{
    private readonly object _lock = new();
    private readonly Queue<TokenUsageRecord> _records = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets or sets the most records kept.</summary>
    /// <value>The default is 100,000.</value>
    public int Capacity { get; set; } = 100_000;

    /// <summary>Gets a snapshot of the records, oldest first.</summary>
    public IReadOnlyList<TokenUsageRecord> Records
    {
        get
        {
            lock (_lock)
            {
                return _records.ToArray();
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask<TokenUsageExportResult> ExportAsync(IReadOnlyList<TokenUsageRecord> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        TaskCompletionSource changed;
        lock (_lock)
        {
            foreach (var record in batch)
            {
                _records.Enqueue(record);
                while (_records.Count > Capacity)
                {
                    _records.Dequeue();
                }
            }

            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
        return ValueTask.FromResult(TokenUsageExportResult.Success);
    }

    /// <summary>Removes every record.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _records.Clear();
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> records were exported.</summary>
    /// <param name="count">The number of records.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <returns>The records; fewer than <paramref name="count"/> when the timeout expired.</returns>
    public async Task<IReadOnlyList<TokenUsageRecord>> WaitForRecordsAsync(int count, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_records.Count >= count)
                {
                    return _records.ToArray();
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return Records;
            }
        }
    }
}
