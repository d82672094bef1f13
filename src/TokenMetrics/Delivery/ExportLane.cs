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
internal sealed partial class ExportLane : IDisposable
{
    private readonly Channel<(TokenUsageRecord Record, int Size)> _channel;
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
    private Task _loop = Task.CompletedTask;
    private Task _replayLoop = Task.CompletedTask;
    private long _queuedBytes;
    private long _enqueued;
    private long _processed;
    private long _exported;
    private long _spilled;
    private long _replayed;
    private long _dropped;
    private long _failedBatches;
    private long _failedBatchesAtLastFlush;
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

    public long Queued => Interlocked.Read(ref _enqueued) - Interlocked.Read(ref _processed);

    public long Enqueued => Interlocked.Read(ref _enqueued);

    public long Processed => Interlocked.Read(ref _processed);

    public long FailedBatches => Interlocked.Read(ref _failedBatches);

    /// <summary>Whether a batch failed since the last call.</summary>
    public bool TakeFailuresSinceLastFlush()
    {
        var now = Interlocked.Read(ref _failedBatches);
        return Interlocked.Exchange(ref _failedBatchesAtLastFlush, now) < now;
    }

    public void Start()
    {
        _loop = Task.Run(RunAsync);
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
    };

    public void TryEnqueue(TokenUsageRecord record)
    {
        var size = EstimateSize(record);
        if (Interlocked.Add(ref _queuedBytes, size) > _options.MaxQueueBytes || !_channel.Writer.TryWrite((record, size)))
        {
            Interlocked.Add(ref _queuedBytes, -size);
            Interlocked.Increment(ref _dropped);
            TokenMetricsEventSource.Log.RecordDropped(Name + ": queue full or shut down");
            return;
        }

        Interlocked.Increment(ref _enqueued);
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

        _channel.Writer.TryComplete();
        lock (_signalLock)
        {
            _flushRequested.TrySetResult();
        }

        var drained = true;
        try
        {
            await _loop.WaitAsync(Remaining(deadline), _timeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            drained = false;
            await _abort.CancelAsync().ConfigureAwait(false);
            try
            {
                await _loop.WaitAsync(TimeSpan.FromSeconds(1), _timeProvider).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }

        // Whatever is left is never lost silently: spooled for the next start when there is a spool, else dropped and counted.
        var rest = new List<TokenUsageRecord>();
        while (_channel.Reader.TryRead(out var item))
        {
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
        return drained;
    }

    public void Dispose()
    {
        _abort.Dispose();
        _replayGate.Dispose();
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
                        // Wait for a fuller batch, an explicit flush, or the interval, whichever comes first.
                        using var delayCts = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
                        var delay = Task.Delay(_options.ExportInterval, _timeProvider, delayCts.Token);
                        await Task.WhenAny(delay, flush).ConfigureAwait(false);
                        await delayCts.CancelAsync().ConfigureAwait(false);
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

                var exported = await ExportAsync(batch).ConfigureAwait(false);
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
            batch.Add(item.Record);
        }
    }

    /// <summary>One export through retry, circuit breaker and timeouts; never throws.</summary>
    private async Task<bool> ExportAsync(List<TokenUsageRecord> batch)
    {
        try
        {
            using (TokenMetricsSuppression.Begin())
            {
                // WaitAsync: an exporter that ignores its token still cannot hold the lane past the timeout.
                var result = await _pipeline.ExecuteAsync(
                    static async (state, ct) => await state.Exporter.ExportAsync(state.Batch, ct).AsTask().WaitAsync(ct).ConfigureAwait(false),
                    (Exporter, Batch: batch),
                    _abort.Token).ConfigureAwait(false);
                return result == TokenUsageExportResult.Success;
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            throw;
        }
        catch (BrokenCircuitException)
        {
            return false; // the backend is known down: straight to the spool
        }
        catch (Exception ex)
        {
            TokenMetricsEventSource.Log.ExporterFailed(Name, ex);
            LogExporterFailed(_logger, Name, batch.Count, ex);
            return false;
        }
    }

    private void Spill(List<TokenUsageRecord> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }

        try
        {
            if (_spool is not null && _spool.TryWrite(batch, _timeProvider))
            {
                Interlocked.Add(ref _spilled, batch.Count);
                return;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TokenMetricsEventSource.Log.InternalError("spool " + Name, ex);
        }

        Interlocked.Add(ref _dropped, batch.Count);
        TokenMetricsEventSource.Log.RecordDropped(Name + (_spool is null ? ": export failed and no spool is configured" : ": spool full or unwritable"));
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
                await ReplayOnceAsync().ConfigureAwait(false);
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
            foreach (var file in _spool.ListFiles())
            {
                if (_abort.IsCancellationRequested)
                {
                    return;
                }

                var batch = _spool.TryRead(file);
                if (batch is null)
                {
                    continue; // quarantined, counted
                }

                if (!await ExportAsync(batch).ConfigureAwait(false))
                {
                    return;
                }

                _spool.Delete(file);
                Interlocked.Add(ref _replayed, batch.Count);
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
        }
        finally
        {
            _replayGate.Release();
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
        + (r.Tags?.Count ?? 0) * 96 + ((r.Usage.InputTokenDetails?.Count ?? 0) + (r.Usage.OutputTokenDetails?.Count ?? 0)) * 48;

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "TokenMetrics exporter {Exporter} failed to export {Count} records.")]
    private static partial void LogExporterFailed(ILogger logger, string exporter, int count, Exception exception);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "TokenMetrics spool for exporter {Exporter} is unavailable; failed batches will be dropped.")]
    private static partial void LogSpoolUnavailable(ILogger logger, string exporter, Exception exception);
}
