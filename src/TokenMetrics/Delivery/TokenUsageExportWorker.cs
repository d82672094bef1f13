using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace TokenMetrics.Internal;

/// <summary>Fans records out to one <see cref="ExportLane"/> per exporter and coordinates flush and shutdown.</summary>
internal sealed class TokenUsageExportWorker : IDisposable
{
    private readonly ExportLane[] _lanes;
    private readonly TimeProvider _timeProvider;
    private int _completed;
    private long _droppedAfterShutdown;

    public TokenUsageExportWorker(IEnumerable<ITokenUsageExporter> exporters, TokenMetricsOptions options, TimeProvider timeProvider, ILogger logger)
    {
        _timeProvider = timeProvider;
        var list = exporters.ToList();
        _lanes = list.Select((e, i) => new ExportLane(e, UniqueName(e, i, list), options, timeProvider, logger)).ToArray();
        foreach (var lane in _lanes)
        {
            lane.Start();
        }
    }

    public IReadOnlyList<ITokenUsageExporter> Exporters => _lanes.Select(l => l.Exporter).ToArray();

    internal IReadOnlyList<ExportLane> Lanes => _lanes;

    public long Dropped => _lanes.Sum(l => l.GetStatistics().Dropped) + Interlocked.Read(ref _droppedAfterShutdown);

    /// <summary>Gets the records waiting in every lane; a loop, not LINQ: it is read by a gauge and by waits that poll it.</summary>
    public long Queued
    {
        get
        {
            long queued = 0;
            foreach (var lane in _lanes)
            {
                queued += lane.Queued;
            }

            return queued;
        }
    }

    public bool IsShutDown => Volatile.Read(ref _completed) != 0;

    /// <summary>Hands the record to every lane, except those of the exporters switched off (counted there as skipped).</summary>
    public void Enqueue(TokenUsageRecord record, IReadOnlySet<string>? disabledExporters = null)
    {
        if (Volatile.Read(ref _completed) != 0)
        {
            Interlocked.Increment(ref _droppedAfterShutdown);
            TokenMetricsEventSource.Log.RecordDropped("recorded after shutdown");
            return;
        }

        foreach (var lane in _lanes)
        {
            if (disabledExporters is { Count: > 0 } && disabledExporters.Contains(lane.Name))
            {
                lane.Skip();
                continue;
            }

            lane.TryEnqueue(record);
        }
    }

    public Dictionary<string, TokenUsageExporterStatistics> GetExporterStatistics() =>
        _lanes.ToDictionary(l => l.Name, l => l.GetStatistics(), StringComparer.Ordinal);

    public async Task<TokenMetricsFlushResult> FlushAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Deadline(timeout);
        var targets = _lanes.Select(l => (Lane: l, Target: l.Enqueued)).ToArray();
        var waits = targets.Select(t => t.Lane.WaitProcessedAsync(t.Target, deadline)).ToArray();
        var results = await Task.WhenAll(waits).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (results.Any(done => !done))
        {
            return TokenMetricsFlushResult.TimedOut;
        }

        // Records a burst sent to the spool are not failures: deliver them now, so Success means delivered.
        var replays = await Task.WhenAll(_lanes.Select(l => l.ReplayOverflowAsync(deadline))).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (replays.Contains(TokenMetricsFlushResult.TimedOut))
        {
            return TokenMetricsFlushResult.TimedOut;
        }

        // Failed when any batch failed since the previous flush: the records in it were spooled or dropped, not delivered.
        var failed = replays.Contains(TokenMetricsFlushResult.Failed);
        foreach (var lane in _lanes)
        {
            failed |= lane.TakeFailuresSinceLastFlush();
        }

        return failed ? TokenMetricsFlushResult.Failed : TokenMetricsFlushResult.Success;
    }

    public async Task<TokenMetricsFlushResult> ShutdownAsync(TimeSpan timeout)
    {
        if (Interlocked.Exchange(ref _completed, 1) == 1)
        {
            return TokenMetricsFlushResult.Success;
        }

        var deadline = Deadline(timeout);
        var failedBefore = _lanes.Select(l => l.FailedBatches).ToArray();
        var drained = await Task.WhenAll(_lanes.Select(l => l.ShutdownAsync(deadline))).ConfigureAwait(false);
        if (drained.Any(d => !d))
        {
            return TokenMetricsFlushResult.TimedOut;
        }

        return _lanes.Where((l, i) => l.FailedBatches > failedBefore[i]).Any() ? TokenMetricsFlushResult.Failed : TokenMetricsFlushResult.Success;
    }

    public void Dispose()
    {
        foreach (var lane in _lanes)
        {
            lane.Dispose();
        }
    }

    private long Deadline(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : _timeProvider.GetTimestamp() + (long)(timeout.TotalSeconds * _timeProvider.TimestampFrequency);

    private static string UniqueName(ITokenUsageExporter exporter, int index, List<ITokenUsageExporter> all)
    {
        var name = exporter.GetType().Name;
        return all.Count(e => e.GetType().Name == name) > 1 ? $"{name}#{index}" : name;
    }
}
