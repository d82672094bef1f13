using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics.Internal;

/// <summary>Estimates usage off the app's path: records finished with a pending estimate wait here, on the recorder's
/// background side, until the estimator has counted what the call captured; only then are they delivered to the exporters.</summary>
/// <remarks>
/// <para>Counting a large prompt can take a second (a 4 MB one-word prompt); the app's last read, or the chat client's
/// return, must not wait for it. Records stay in order: while estimates are queued, records without one queue behind them.</para>
/// <para>Bounded in records and captured bytes; past the bound the caller records without an estimate (never blocks).
/// One drain at a time runs on the thread pool, without the app's execution context.</para>
/// </remarks>
internal sealed class EstimationStage(TokenUsageRecorder recorder, Action<TokenUsageRecord> deliver, int maxItems, long maxBytes)
{
    private readonly object _gate = new();
    private readonly Queue<Item> _queue = new();
    private int _count;
    private long _bytes;
    private bool _draining;

    /// <summary>Gets the number of records waiting here (with or without an estimate).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Delivers a finished record: at once, or behind the estimates queued before it.</summary>
    public void Submit(TokenUsageRecord record)
    {
        if (Volatile.Read(ref _count) == 0)
        {
            deliver(record);
            return;
        }

        lock (_gate)
        {
            if (_count == 0)
            {
                deliver(record);
                return;
            }

            EnqueueLocked(new Item(record, null, null, 0));
        }
    }

    /// <summary>Queues a record whose usage is still to be estimated; <see langword="false"/> when the stage is full.</summary>
    public bool TrySubmit(TokenUsageRecord record, PendingEstimate estimate)
    {
        var bytes = estimate.Bytes;
        lock (_gate)
        {
            if (_count >= maxItems || _bytes + bytes > maxBytes)
            {
                return false;
            }

            _bytes += bytes;
            EnqueueLocked(new Item(record, estimate, null, bytes));
        }

        return true;
    }

    /// <summary>Waits until every record queued before this call has been delivered.</summary>
    /// <returns><see langword="true"/> when drained in time.</returns>
    public async Task<bool> DrainAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        TaskCompletionSource marker;
        lock (_gate)
        {
            if (_count == 0)
            {
                return true;
            }

            marker = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            EnqueueLocked(new Item(null, null, marker, 0));
        }

        try
        {
            await marker.Task.WaitAsync(timeout, recorder.TimeProvider, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private void EnqueueLocked(Item item)
    {
        _queue.Enqueue(item);
        _count++;
        if (!_draining)
        {
            _draining = true;
            ThreadPool.UnsafeQueueUserWorkItem(static stage => stage.Drain(), this, preferLocal: false);
        }
    }

    private void Drain()
    {
        while (true)
        {
            Item item;
            lock (_gate)
            {
                if (!_queue.TryDequeue(out item))
                {
                    _draining = false;
                    return;
                }
            }

            var record = item.Record;
            if (record is not null && item.Estimate is not null)
            {
                record = Estimate(record, item.Estimate);
            }

            item.Marker?.TrySetResult();
            lock (_gate)
            {
                // Delivered under the lock: a record submitted right after this one drains cannot overtake it.
                if (record is not null)
                {
                    deliver(record);
                }

                _count--;
                _bytes -= item.Bytes;
            }
        }
    }

    private TokenUsageRecord Estimate(TokenUsageRecord record, PendingEstimate estimate)
    {
        try
        {
            var (input, output) = estimate.Count(recorder.Estimator);
            var (usage, source, method) = TokenUsageRecorder.FromEstimates(input, output);
            return source == TokenUsageSource.Estimated ? record with { Usage = usage, Source = source, EstimationMethod = method } : record;
        }
        catch (Exception ex)
        {
            recorder.ReportInternalError(nameof(ITokenEstimator), ex);
            return record;
        }
        finally
        {
            estimate.Release();
        }
    }

    private readonly record struct Item(TokenUsageRecord? Record, PendingEstimate? Estimate, TaskCompletionSource? Marker, long Bytes);
}
