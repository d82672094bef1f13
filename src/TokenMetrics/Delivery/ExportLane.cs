using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace TokenMetrics.Internal;

/// <summary>One exporter's own queue, dispatcher, resilience pipeline and spool, so a slow or failing backend never holds up another.</summary>
/// <remarks>
/// <para>When the queue is full, <see cref="TryEnqueue"/> puts the record in a bounded overflow instead (never blocking the app's
/// thread); a background task moves it back into the queue if there is room again, else to the spool (or, with no spool, waits
/// in memory for room). A record is dropped only when the overflow is full too, or the spool is full or unwritable; drops are
/// counted and logged at most once per <see cref="DropReportInterval"/>.</para>
/// <para>Exporters are called on the thread pool, so one that blocks synchronously and ignores its token is timed out like an
/// async one; such abandoned calls are counted, and past <see cref="MaxAbandonedExports"/> the exporter is not called again until
/// one of them returns (its batches go to the spool meanwhile), so a stuck exporter cannot take threads without limit.</para>
/// </remarks>
internal sealed partial class ExportLane : IDisposable
{
    /// <summary>The most export calls of one exporter left running after their timeout before the lane stops calling it.</summary>
    internal const int MaxAbandonedExports = 4;

    /// <summary>How often drops are logged at most (each report gives the count since the previous one).</summary>
    internal static readonly TimeSpan DropReportInterval = TimeSpan.FromSeconds(10);

    private readonly Channel<(TokenUsageRecord Record, int Size)> _channel;
    private readonly Channel<(TokenUsageRecord Record, int Size)> _overflow;
    private readonly TokenMetricsOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline<TokenUsageExportResult> _pipeline;
    private readonly TokenUsageSpool? _spool;
    private readonly CancellationTokenSource _abort = new();
    private readonly object _signalLock = new();
    private readonly SemaphoreSlim _replayGate = new(1, 1);
    private TaskCompletionSource _progress = NewSignal();
    private TaskCompletionSource _flushRequested = NewSignal();
    private TaskCompletionSource _replayRequested = NewSignal();
    private TaskCompletionSource _batchReady = NewSignal();
    private Task _loop = Task.CompletedTask;
    private Task _replayLoop = Task.CompletedTask;
    private Task _overflowLoop = Task.CompletedTask;
    private long _queuedBytes;
    private int _pending;
    private int _batchWanted = int.MaxValue;
    private long _overflowCount;
    private long _overflowBytes;
    private long _overflowed;
    private long _overflowSpilledSinceFlush;
    private long _timedOut;
    private int _abandoned;
    private int _dropReportScheduled;
    private long _droppedReported;
    private long _lastDropReport;
    private long _enqueued;
    private long _processed;
    private long _exported;
    private long _spilled;
    private long _replayed;
    private long _dropped;
    private long _skipped;
    private long _failedBatches;
    private long _failedBatchesAtLastFlush;
    private long _droppedAtLastFlush;
    private int _completed;

    public ExportLane(ITokenUsageExporter exporter, string name, TokenMetricsOptions options, TimeProvider timeProvider, ILogger logger)
    {
        Exporter = exporter;
        Name = name;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        _channel = Channel.CreateBounded<(TokenUsageRecord, int)>(new BoundedChannelOptions(options.MaxQueueSize)
        {
            // Wait mode makes TryWrite report a full queue, so every drop is counted (DropWrite would hide it).
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
        });
        _overflow = Channel.CreateUnbounded<(TokenUsageRecord, int)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
        _lastDropReport = timeProvider.GetTimestamp() - (long)(DropReportInterval.TotalSeconds * timeProvider.TimestampFrequency);
        _pipeline = BuildPipeline(options, timeProvider);
        if (options.SpoolDirectory is { } root)
        {
            try
            {
                _spool = TokenUsageSpool.Open(root, name, options.MaxSpoolBytes);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Fail open: the app keeps running; batches that cannot be exported are then dropped and counted.
                TokenMetricsEventSource.Log.InternalError("spool " + name, ex);
                LogSpoolUnavailable(_logger, name, ex);
            }
        }
    }

    public ITokenUsageExporter Exporter { get; }

    public string Name { get; }

    // Enqueued moves just after a record is accepted, so for a moment the difference can dip below zero.
    public long Queued => Math.Max(0, Interlocked.Read(ref _enqueued) - Interlocked.Read(ref _processed));

    public long Enqueued => Interlocked.Read(ref _enqueued);

    public long Processed => Interlocked.Read(ref _processed);

    public long FailedBatches => Interlocked.Read(ref _failedBatches);

    /// <summary>Whether a batch failed or a record was dropped since the last call.</summary>
    public bool TakeFailuresSinceLastFlush()
    {
        var failed = Interlocked.Read(ref _failedBatches);
        var dropped = Interlocked.Read(ref _dropped);
        var failedBefore = Interlocked.Exchange(ref _failedBatchesAtLastFlush, failed);
        return (Interlocked.Exchange(ref _droppedAtLastFlush, dropped) < dropped) | (failedBefore < failed);
    }

    public void Start()
    {
        _loop = Task.Run(RunAsync);
        _overflowLoop = Task.Run(OverflowLoopAsync);
        if (_spool is not null)
        {
            _replayLoop = Task.Run(ReplayLoopAsync);
        }
    }

    public TokenUsageExporterStatistics GetStatistics() => new(
        Interlocked.Read(ref _exported),
        Interlocked.Read(ref _failedBatches))
    {
        Enqueued = Interlocked.Read(ref _enqueued),
        Spilled = Interlocked.Read(ref _spilled),
        Replayed = Interlocked.Read(ref _replayed),
        Dropped = Interlocked.Read(ref _dropped),
        Queued = Queued,
        SpoolBytes = _spool?.Bytes ?? 0,
        SpoolFiles = _spool?.ListFiles().Length ?? 0,
        CorruptSpoolFiles = _spool?.CorruptFiles ?? 0,
        Overflowed = Interlocked.Read(ref _overflowed),
        TimedOutExports = Interlocked.Read(ref _timedOut),
        AbandonedExports = Volatile.Read(ref _abandoned),
        Skipped = Interlocked.Read(ref _skipped),
    };

    /// <summary>Counts a record not offered to this exporter because it is switched off (a runtime setting).</summary>
    public void Skip() => Interlocked.Increment(ref _skipped);

    /// <summary>Queues a record: never blocks; allocates nothing unless the queue is full.</summary>
    public void TryEnqueue(TokenUsageRecord record)
    {
        var size = EstimateSize(record);
        if (TryWriteQueue(record, size))
        {
            Interlocked.Increment(ref _enqueued);
            return;
        }

        if (TryWriteOverflow(record, size))
        {
            Interlocked.Increment(ref _enqueued);
            Interlocked.Increment(ref _overflowed);
            return;
        }

        CountDropped(1, "queue and overflow full, or shut down");
    }

    /// <summary>After a flush: replays what bursts sent to the spool, so a flush on a healthy backend means delivered.</summary>
    public async Task<TokenMetricsFlushResult> ReplayOverflowAsync(long deadline)
    {
        if (_spool is null || Interlocked.Exchange(ref _overflowSpilledSinceFlush, 0) == 0)
        {
            return TokenMetricsFlushResult.Success;
        }

        try
        {
            if (!await _replayGate.WaitAsync(Remaining(deadline), _abort.Token).ConfigureAwait(false))
            {
                return TokenMetricsFlushResult.TimedOut;
            }
        }
        catch (OperationCanceledException)
        {
            return TokenMetricsFlushResult.TimedOut;
        }

        try
        {
            return await ReplayFilesAsync().ConfigureAwait(false) ? TokenMetricsFlushResult.Success : TokenMetricsFlushResult.Failed;
        }
        finally
        {
            _replayGate.Release();
        }
    }

    /// <summary>Waits until what was enqueued before the call was exported, spilled or dropped.</summary>
    public async Task<bool> WaitProcessedAsync(long target, long deadline)
    {
        while (Processed < target)
        {
            Task progress;
            lock (_signalLock)
            {
                progress = _progress.Task;
                _flushRequested.TrySetResult();
            }

            if (Processed >= target)
            {
                break;
            }

            if (_loop.IsCompleted && Processed < target)
            {
                return false;
            }

            var remaining = deadline == long.MaxValue ? Timeout.InfiniteTimeSpan : _timeProvider.GetElapsedTime(_timeProvider.GetTimestamp(), deadline);
            if (remaining != Timeout.InfiniteTimeSpan && remaining <= TimeSpan.Zero)
            {
                return false;
            }

            try
            {
                await progress.WaitAsync(remaining, _timeProvider).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Stops accepting, exports what is queued until the deadline, then spills (or drops) the rest.</summary>
    public async Task<bool> ShutdownAsync(long deadline)
    {
        if (Interlocked.Exchange(ref _completed, 1) == 1)
        {
            return true;
        }

        // The overflow first (into the queue or the spool), then the queue, all within one deadline.
        _overflow.Writer.TryComplete();
        lock (_signalLock)
        {
            _flushRequested.TrySetResult();
        }

        var drained = await WaitOrAbortAsync(_overflowLoop, deadline).ConfigureAwait(false);
        _channel.Writer.TryComplete();
        drained &= await WaitOrAbortAsync(_loop, deadline).ConfigureAwait(false);

        // Whatever is left is never lost silently: spooled for the next start when there is a spool, else dropped and counted.
        var rest = new List<TokenUsageRecord>();
        while (_channel.Reader.TryRead(out var item))
        {
            rest.Add(item.Record);
        }

        while (_overflow.Reader.TryRead(out var item))
        {
            Interlocked.Decrement(ref _overflowCount);
            Interlocked.Add(ref _overflowBytes, -item.Size);
            rest.Add(item.Record);
        }

        if (rest.Count > 0)
        {
            Spill(rest);
            Interlocked.Add(ref _processed, rest.Count);
        }

        await _abort.CancelAsync().ConfigureAwait(false);
        try
        {
            await _replayLoop.WaitAsync(TimeSpan.FromSeconds(1), _timeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        await DisposeExporterAsync().ConfigureAwait(false);
        ReportDrops();
        return drained;
    }

    public void Dispose()
    {
        _abort.Dispose();
        _replayGate.Dispose();
    }

    /// <summary>Waits for a loop until the deadline; past it, cancels the lane's work and gives the loop a second to put back its batch.</summary>
    private async Task<bool> WaitOrAbortAsync(Task loop, long deadline)
    {
        try
        {
            await loop.WaitAsync(Remaining(deadline), _timeProvider).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            await _abort.CancelAsync().ConfigureAwait(false);
            try
            {
                await loop.WaitAsync(TimeSpan.FromSeconds(1), _timeProvider).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }

            return false;
        }
    }

    private TimeSpan Remaining(long deadline)
    {
        if (deadline == long.MaxValue)
        {
            return Timeout.InfiniteTimeSpan;
        }

        var now = _timeProvider.GetTimestamp();
        return now >= deadline ? TimeSpan.Zero : _timeProvider.GetElapsedTime(now, deadline);
    }

    private async Task RunAsync()
    {
        var batch = new List<TokenUsageRecord>(Math.Min(_options.MaxExportBatchSize, 1024));
        var reader = _channel.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_abort.Token).ConfigureAwait(false))
            {
                Fill(reader, batch);
                if (batch.Count < _options.MaxExportBatchSize && !reader.Completion.IsCompleted)
                {
                    Task flush;
                    lock (_signalLock)
                    {
                        flush = _flushRequested.Task;
                    }

                    if (!flush.IsCompleted)
                    {
                        // Wait for a full batch, an explicit flush, or the interval, whichever comes first: a burst must not
                        // find the dispatcher asleep on a partial batch while the queue fills up.
                        var ready = NewSignal();
                        Volatile.Write(ref _batchReady, ready);
                        var wanted = _options.MaxExportBatchSize - batch.Count;
                        Interlocked.Exchange(ref _batchWanted, wanted);
                        if (Volatile.Read(ref _pending) < wanted)
                        {
                            using var delayCts = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
                            var delay = Task.Delay(_options.ExportInterval, _timeProvider, delayCts.Token);
                            await Task.WhenAny(delay, flush, ready.Task).ConfigureAwait(false);
                            await delayCts.CancelAsync().ConfigureAwait(false);
                        }

                        Interlocked.Exchange(ref _batchWanted, int.MaxValue);
                        _abort.Token.ThrowIfCancellationRequested();
                    }

                    Fill(reader, batch);
                }

                lock (_signalLock)
                {
                    if (_flushRequested.Task.IsCompleted)
                    {
                        _flushRequested = NewSignal();
                    }
                }

                // A copy: a call abandoned after its timeout may still read its batch while this list is reused.
                var exported = await ExportAsync(batch.ToArray()).ConfigureAwait(false);
                if (exported)
                {
                    Interlocked.Add(ref _exported, batch.Count);
                    RequestReplay();
                }
                else
                {
                    Interlocked.Increment(ref _failedBatches);
                    Spill(batch);
                }

                Interlocked.Add(ref _processed, batch.Count);
                batch.Clear();
                SignalProgress();
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            if (batch.Count > 0)
            {
                // The batch in flight when shutdown ran out of time.
                Spill(batch);
                Interlocked.Add(ref _processed, batch.Count);
            }
        }
        catch (Exception ex)
        {
            // Never expected; fenced so a bug cannot crash the process through an unobserved task.
            TokenMetricsEventSource.Log.InternalError(nameof(ExportLane), ex);
            Spill(batch);
            Interlocked.Add(ref _processed, batch.Count);
        }
        finally
        {
            SignalProgress();
        }
    }

    private void Fill(ChannelReader<(TokenUsageRecord Record, int Size)> reader, List<TokenUsageRecord> batch)
    {
        while (batch.Count < _options.MaxExportBatchSize && reader.TryRead(out var item))
        {
            Interlocked.Add(ref _queuedBytes, -item.Size);
            Interlocked.Decrement(ref _pending);
            batch.Add(item.Record);
        }
    }

    /// <summary>One export through retry, circuit breaker and timeouts; never throws.</summary>
    private async Task<bool> ExportAsync(IReadOnlyList<TokenUsageRecord> batch)
    {
        try
        {
            using (TokenMetricsSuppression.Begin())
            {
                var result = await _pipeline.ExecuteAsync(
                    static (state, ct) => state.Lane.InvokeAsync(state.Batch, ct),
                    (Lane: this, Batch: batch),
                    _abort.Token).ConfigureAwait(false);
                return result == TokenUsageExportResult.Success;
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is BrokenCircuitException or ExporterStuckException)
        {
            return false; // the backend is known down, or the exporter stuck: straight to the spool
        }
        catch (Exception ex)
        {
            TokenMetricsEventSource.Log.ExporterFailed(Name, ex);
            LogExporterFailed(_logger, Name, batch.Count, ex);
            return false;
        }
    }

    /// <summary>One attempt. The exporter runs on the thread pool, so that one blocking synchronously (ignoring its token)
    /// cannot hold the lane: the wait ends with the attempt's timeout, and the call is abandoned, counted and bounded.</summary>
    private async ValueTask<TokenUsageExportResult> InvokeAsync(IReadOnlyList<TokenUsageRecord> batch, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _abandoned) >= MaxAbandonedExports)
        {
            throw new ExporterStuckException();
        }

        var exporter = Exporter;
        var call = Task.Run(() => exporter.ExportAsync(batch, cancellationToken).AsTask(), CancellationToken.None);
        try
        {
            return await call.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (!_abort.IsCancellationRequested)
            {
                Interlocked.Increment(ref _timedOut);
            }

            if (!call.IsCompleted)
            {
                Abandon(call);
            }

            throw;
        }
    }

    private void Abandon(Task call)
    {
        if (Interlocked.Increment(ref _abandoned) == MaxAbandonedExports)
        {
            LogExporterStuck(_logger, Name, MaxAbandonedExports);
        }

        _ = call.ContinueWith(
            static (task, state) =>
            {
                _ = task.Exception; // observed: a late failure of an abandoned call is nobody's business
                Interlocked.Decrement(ref ((ExportLane)state!)._abandoned);
            },
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Spools a batch, or drops it (counted) when there is no spool or it is full or unwritable.</summary>
    /// <returns>Whether the batch was spooled.</returns>
    private bool Spill(List<TokenUsageRecord> batch)
    {
        if (batch.Count == 0)
        {
            return true;
        }

        try
        {
            if (_spool is not null && _spool.TryWrite(batch, _timeProvider))
            {
                Interlocked.Add(ref _spilled, batch.Count);
                return true;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TokenMetricsEventSource.Log.InternalError("spool " + Name, ex);
        }

        CountDropped(batch.Count, _spool is null ? "no spool is configured" : "spool full or unwritable");
        return false;
    }

    private bool TryWriteQueue(TokenUsageRecord record, int size)
    {
        if (Interlocked.Add(ref _queuedBytes, size) > _options.MaxQueueBytes || !_channel.Writer.TryWrite((record, size)))
        {
            Interlocked.Add(ref _queuedBytes, -size);
            return false;
        }

        // Wakes the dispatcher when it waits for a fuller batch and now has one.
        if (Interlocked.Increment(ref _pending) >= Volatile.Read(ref _batchWanted))
        {
            Volatile.Read(ref _batchReady).TrySetResult();
        }

        return true;
    }

    private bool TryWriteOverflow(TokenUsageRecord record, int size)
    {
        if (Interlocked.Increment(ref _overflowCount) > _options.MaxOverflowSize)
        {
            Interlocked.Decrement(ref _overflowCount);
            return false;
        }

        if (Interlocked.Add(ref _overflowBytes, size) > _options.MaxQueueBytes || !_overflow.Writer.TryWrite((record, size)))
        {
            Interlocked.Add(ref _overflowBytes, -size);
            Interlocked.Decrement(ref _overflowCount);
            return false;
        }

        return true;
    }

    /// <summary>Moves overflowed records back into the queue when there is room, else to the spool in batches; with no spool
    /// they wait here (bounded by the overflow's size) for room in the queue.</summary>
    private async Task OverflowLoopAsync()
    {
        var reader = _overflow.Reader;
        var toSpool = new List<TokenUsageRecord>();
        (TokenUsageRecord Record, int Size)? waiting = null;
        try
        {
            while (await reader.WaitToReadAsync(_abort.Token).ConfigureAwait(false))
            {
                while (reader.TryRead(out var item))
                {
                    Interlocked.Decrement(ref _overflowCount);
                    Interlocked.Add(ref _overflowBytes, -item.Size);
                    if (TryWriteQueue(item.Record, item.Size))
                    {
                        continue;
                    }

                    if (_spool is not null)
                    {
                        toSpool.Add(item.Record);
                        if (toSpool.Count >= _options.MaxExportBatchSize)
                        {
                            SpillOverflow(toSpool);
                        }

                        continue;
                    }

                    waiting = item;
                    if (!await WaitForRoomAsync(item).ConfigureAwait(false))
                    {
                        toSpool.Add(item.Record); // the queue was shut: counted below with the rest
                    }

                    waiting = null;
                }

                SpillOverflow(toSpool);
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            if (waiting is { } item)
            {
                toSpool.Add(item.Record);
            }

            SpillOverflow(toSpool);
        }
        catch (Exception ex)
        {
            // Never expected; fenced so a bug cannot crash the process through an unobserved task.
            TokenMetricsEventSource.Log.InternalError("overflow " + Name, ex);
            SpillOverflow(toSpool);
        }
    }

    /// <summary>Waits (no spool) until the queue takes the record; <see langword="false"/> when the queue was shut.</summary>
    private async Task<bool> WaitForRoomAsync((TokenUsageRecord Record, int Size) item)
    {
        while (true)
        {
            Task progress;
            lock (_signalLock)
            {
                progress = _progress.Task;
            }

            if (TryWriteQueue(item.Record, item.Size))
            {
                return true;
            }

            if (Volatile.Read(ref _completed) != 0 && _loop.IsCompleted)
            {
                return false;
            }

            // Each exported batch frees room (records and bytes); the interval bounds the wait if a signal is missed.
            await Task.WhenAny(progress, Task.Delay(_options.ExportInterval, _timeProvider, _abort.Token)).ConfigureAwait(false);
            _abort.Token.ThrowIfCancellationRequested();
        }
    }

    private void SpillOverflow(List<TokenUsageRecord> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }

        if (Spill(batch))
        {
            Interlocked.Add(ref _overflowSpilledSinceFlush, batch.Count);
            RequestReplay();
        }

        Interlocked.Add(ref _processed, batch.Count);
        batch.Clear();
        SignalProgress();
    }

    /// <summary>Counts dropped records and makes sure they are logged, at most once per <see cref="DropReportInterval"/>.</summary>
    private void CountDropped(long count, string reason)
    {
        Interlocked.Add(ref _dropped, count);
        if (TokenMetricsEventSource.Log.IsEnabled())
        {
            TokenMetricsEventSource.Log.RecordDropped(Name + ": " + reason);
        }

        if (Interlocked.CompareExchange(ref _dropReportScheduled, 1, 0) == 0)
        {
            var due = _lastDropReport + (long)(DropReportInterval.TotalSeconds * _timeProvider.TimestampFrequency) - _timeProvider.GetTimestamp();
            _ = ReportDropsLaterAsync(due <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((double)due / _timeProvider.TimestampFrequency));
        }
    }

    private async Task ReportDropsLaterAsync(TimeSpan delay)
    {
        try
        {
            // Off the caller's thread (Record() may be the one dropping): the logger could be slow.
            await Task.Delay(delay, _timeProvider).ConfigureAwait(false);
            await Task.Yield();
            ReportDrops();
        }
        catch (Exception ex)
        {
            TokenMetricsEventSource.Log.InternalError("drop report " + Name, ex);
        }
    }

    private void ReportDrops()
    {
        _lastDropReport = _timeProvider.GetTimestamp();
        Volatile.Write(ref _dropReportScheduled, 0);
        var total = Interlocked.Read(ref _dropped);
        var count = total - Interlocked.Exchange(ref _droppedReported, total);
        if (count > 0)
        {
            LogRecordsDropped(_logger, Name, count, total);
        }
    }

    private void RequestReplay()
    {
        if (_spool is null)
        {
            return;
        }

        lock (_signalLock)
        {
            _replayRequested.TrySetResult();
        }
    }

    private async Task ReplayLoopAsync()
    {
        try
        {
            while (!_abort.IsCancellationRequested)
            {
                try
                {
                    await ReplayOnceAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // One bad pass (a file another process deleted, a disk error) must not end replay for good.
                    TokenMetricsEventSource.Log.InternalError("replay " + Name, ex);
                }

                Task requested;
                lock (_signalLock)
                {
                    if (_replayRequested.Task.IsCompleted)
                    {
                        _replayRequested = NewSignal();
                    }

                    requested = _replayRequested.Task;
                }

                using var delayCts = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
                await Task.WhenAny(Task.Delay(_options.ReplayInterval, _timeProvider, delayCts.Token), requested).ConfigureAwait(false);
                await delayCts.CancelAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            TokenMetricsEventSource.Log.InternalError("replay " + Name, ex);
        }
    }

    /// <summary>Exports spooled batches, oldest first; stops at the first failure (the backend is still down).</summary>
    internal async Task ReplayOnceAsync()
    {
        if (_spool is null || !await _replayGate.WaitAsync(0).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            _ = await ReplayFilesAsync().ConfigureAwait(false);
        }
        finally
        {
            _replayGate.Release();
        }
    }

    /// <summary>The body of a replay, under the gate; <see langword="false"/> when a batch failed.</summary>
    private async Task<bool> ReplayFilesAsync()
    {
        try
        {
            foreach (var file in _spool!.ListFiles())
            {
                if (_abort.IsCancellationRequested)
                {
                    return false;
                }

                var batch = _spool.TryRead(file);
                if (batch is null)
                {
                    continue; // quarantined and counted, or taken by another process sharing the directory
                }

                if (!await ExportAsync(batch).ConfigureAwait(false))
                {
                    return false;
                }

                // Counted before the file goes, and both only after the exporter returned: statistics never run ahead of delivery.
                Interlocked.Add(ref _replayed, batch.Count);
                _spool.Delete(file);
            }

            return true;
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            return false;
        }
    }

    private void SignalProgress()
    {
        lock (_signalLock)
        {
            var done = _progress;
            _progress = NewSignal();
            done.TrySetResult();
        }
    }

    private async Task DisposeExporterAsync()
    {
        try
        {
            switch (Exporter)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
        catch (Exception ex)
        {
            TokenMetricsEventSource.Log.ExporterFailed(Name, ex);
        }
    }

    private static ResiliencePipeline<TokenUsageExportResult> BuildPipeline(TokenMetricsOptions options, TimeProvider timeProvider)
    {
        var shouldHandle = new PredicateBuilder<TokenUsageExportResult>()
            .HandleResult(TokenUsageExportResult.Failure)
            .Handle<Exception>(IsTransient);
        // Outermost: the total budget of one batch, attempts and retry delays included.
        var builder = new ResiliencePipelineBuilder<TokenUsageExportResult> { TimeProvider = timeProvider }.AddTimeout(options.ExportTotalTimeout);
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<TokenUsageExportResult>
            {
                ShouldHandle = shouldHandle,
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = TimeSpan.FromSeconds(30),
                DelayGenerator = static args => ValueTask.FromResult(args.Outcome.Exception is TokenUsageExportException { RetryAfter: { } after } ? after : (TimeSpan?)null),
            });
        }

        return builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<TokenUsageExportResult>
            {
                ShouldHandle = new PredicateBuilder<TokenUsageExportResult>().HandleResult(TokenUsageExportResult.Failure).Handle<Exception>(),
                FailureRatio = 0.5,
                MinimumThroughput = 4,
                SamplingDuration = TimeSpan.FromSeconds(30),
                BreakDuration = options.CircuitBreakDuration,
            })
            .AddTimeout(options.ExportTimeout)
            .Build();
    }

    /// <summary>Whether retrying may help: timeouts, I/O, 408/429/5xx; not client errors or bugs in the exporter.</summary>
    private static bool IsTransient(Exception exception) => exception switch
    {
        TokenUsageExportException e => e.IsTransient,
        TimeoutRejectedException or IOException or TimeoutException => true,
        HttpRequestException { StatusCode: null } => true,
        HttpRequestException { StatusCode: { } status } => status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500,
        OperationCanceledException => true,
        _ => false,
    };

    /// <summary>A cheap upper-bound estimate of a record's memory, for the byte limit of the queue.</summary>
    private static int EstimateSize(TokenUsageRecord r) =>
        512 + 2 * ((r.Provider?.Length ?? 0) + (r.RequestModel?.Length ?? 0) + (r.ResponseModel?.Length ?? 0) + (r.RoutedModel?.Length ?? 0)
            + (r.ResponseId?.Length ?? 0) + (r.Endpoint?.Length ?? 0) + (r.UserId?.Length ?? 0) + (r.SessionId?.Length ?? 0) + (r.Consumer?.Length ?? 0))
        + (r.Tags?.Count ?? 0) * 96 + ((r.Usage.InputTokenDetails?.Count ?? 0) + (r.Usage.OutputTokenDetails?.Count ?? 0)) * 48
        + (r.Content is { } content ? 128 + (2 * content.CharCount) : 0);

    /// <summary>The exporter has too many calls that never returned: it is not called until one does.</summary>
    private sealed class ExporterStuckException : Exception
    {
        public ExporterStuckException()
            : base("The exporter has too many calls still running after their timeout.")
        {
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "TokenMetrics exporter {Exporter} failed to export {Count} records.")]
    private static partial void LogExporterFailed(ILogger logger, string exporter, int count, Exception exception);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "TokenMetrics exporter {Exporter} dropped {Count} records ({Total} in all): its queue and overflow, or its spool, were full or unavailable.")]
    private static partial void LogRecordsDropped(ILogger logger, string exporter, long count, long total);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "TokenMetrics exporter {Exporter} has {Count} export calls still running after their timeout; it is not called again until one returns, and its batches go to the spool.")]
    private static partial void LogExporterStuck(ILogger logger, string exporter, int count);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "TokenMetrics spool for exporter {Exporter} is unavailable; failed batches will be dropped.")]
    private static partial void LogSpoolUnavailable(ILogger logger, string exporter, Exception exception);
}
