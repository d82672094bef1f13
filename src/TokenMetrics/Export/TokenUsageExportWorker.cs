using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace TokenMetrics.Internal;

/// <summary>The bounded queue and background dispatcher between <see cref="TokenUsageRecorder"/> and the exporters.</summary>
internal sealed partial class TokenUsageExportWorker : IDisposable
{
    private readonly Channel<TokenUsageRecord> _channel;
    private readonly ExporterSlot[] _exporters;
    private readonly TokenMetricsOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Task _loop;
    private readonly CancellationTokenSource _abort = new();
    private readonly object _progressLock = new();
    private TaskCompletionSource _progress = NewSignal();
    private TaskCompletionSource _flushRequested = NewSignal();
    private long _enqueued;
    private long _dispatched;
    private long _dropped;
    private long _failedSinceFlushMark;
    private int _completed;

    public TokenUsageExportWorker(IEnumerable<ITokenUsageExporter> exporters, TokenMetricsOptions options, TimeProvider timeProvider, ILogger logger)
    {
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        _exporters = exporters.Select((e, i) => new ExporterSlot(e, UniqueName(e, i, exporters))).ToArray();
        _channel = Channel.CreateBounded<TokenUsageRecord>(new BoundedChannelOptions(options.MaxQueueSize)
        {
            // Wait mode makes TryWrite report a full queue, so every drop is counted (DropWrite would hide it).
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
        _loop = Task.Run(RunAsync);
    }

    public long Enqueued => Interlocked.Read(ref _enqueued);

    public long Dispatched => Interlocked.Read(ref _dispatched);

    public long Dropped => Interlocked.Read(ref _dropped);

    public long Queued => _channel.Reader.CanCount ? _channel.Reader.Count : Enqueued - Dispatched;

    public IReadOnlyList<ITokenUsageExporter> Exporters => _exporters.Select(e => e.Exporter).ToArray();

    public bool TryEnqueue(TokenUsageRecord record)
    {
        if (_channel.Writer.TryWrite(record))
        {
            Interlocked.Increment(ref _enqueued);
            return true;
        }

        Interlocked.Increment(ref _dropped);
        return false;
    }

    public Dictionary<string, TokenUsageExporterStatistics> GetExporterStatistics()
    {
        var result = new Dictionary<string, TokenUsageExporterStatistics>(_exporters.Length, StringComparer.Ordinal);
        foreach (var slot in _exporters)
        {
            result[slot.Name] = new TokenUsageExporterStatistics(Interlocked.Read(ref slot.Exported), Interlocked.Read(ref slot.Failed), Interlocked.Read(ref slot.FailedBatches));
        }

        return result;
    }

    public async Task<TokenMetricsFlushResult> FlushAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var target = Enqueued;
        var failuresBefore = Interlocked.Read(ref _failedSinceFlushMark);
        var start = _timeProvider.GetTimestamp();
        lock (_progressLock)
        {
            _flushRequested.TrySetResult();
        }

        while (Dispatched < target)
        {
            if (_loop.IsCompleted)
            {
                return TokenMetricsFlushResult.TimedOut;
            }

            Task progress;
            lock (_progressLock)
            {
                progress = _progress.Task;
                _flushRequested.TrySetResult();
            }

            if (Dispatched >= target)
            {
                break;
            }

            var remaining = timeout == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : timeout - _timeProvider.GetElapsedTime(start);
            if (remaining != Timeout.InfiniteTimeSpan && remaining <= TimeSpan.Zero)
            {
                return TokenMetricsFlushResult.TimedOut;
            }

            try
            {
                await progress.WaitAsync(remaining, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return TokenMetricsFlushResult.TimedOut;
            }
        }

        return Interlocked.Read(ref _failedSinceFlushMark) > failuresBefore ? TokenMetricsFlushResult.Failed : TokenMetricsFlushResult.Success;
    }

    public async Task<TokenMetricsFlushResult> ShutdownAsync(TimeSpan timeout)
    {
        if (Interlocked.Exchange(ref _completed, 1) == 1)
        {
            return TokenMetricsFlushResult.Success;
        }

        var failuresBefore = Interlocked.Read(ref _failedSinceFlushMark);
        _channel.Writer.TryComplete();
        lock (_progressLock)
        {
            _flushRequested.TrySetResult();
        }

        var result = TokenMetricsFlushResult.Success;
        try
        {
            await _loop.WaitAsync(timeout, _timeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            result = TokenMetricsFlushResult.TimedOut;
            await _abort.CancelAsync().ConfigureAwait(false);

            // The abort cancels the export in flight; give the loop a moment to count that batch, so the counters add up.
            try
            {
                await _loop.WaitAsync(TimeSpan.FromSeconds(1), _timeProvider).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }

        // Whatever is still queued after the timeout will never be exported: count it.
        while (_channel.Reader.TryRead(out _))
        {
            Interlocked.Increment(ref _dropped);
        }

        foreach (var slot in _exporters)
        {
            await DisposeExporterAsync(slot).ConfigureAwait(false);
        }

        if (result == TokenMetricsFlushResult.Success && Interlocked.Read(ref _failedSinceFlushMark) > failuresBefore)
        {
            result = TokenMetricsFlushResult.Failed;
        }

        return result;
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
                    lock (_progressLock)
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

                lock (_progressLock)
                {
                    if (_flushRequested.Task.IsCompleted)
                    {
                        _flushRequested = NewSignal();
                    }
                }

                await ExportAsync(batch).ConfigureAwait(false);
                Interlocked.Add(ref _dispatched, batch.Count);
                batch.Clear();
                SignalProgress();
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            // Shutdown timed out; remaining records are counted as dropped by ShutdownAsync.
        }
        catch (Exception ex)
        {
            // Never expected; fenced so a bug cannot crash the process through an unobserved task.
            TokenMetricsEventSource.Log.InternalError(nameof(TokenUsageExportWorker), ex);
            Interlocked.Add(ref _dropped, batch.Count);
        }
        finally
        {
            SignalProgress();
        }
    }

    private void Fill(ChannelReader<TokenUsageRecord> reader, List<TokenUsageRecord> batch)
    {
        while (batch.Count < _options.MaxExportBatchSize && reader.TryRead(out var record))
        {
            batch.Add(record);
        }
    }

    private async Task ExportAsync(List<TokenUsageRecord> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }

        foreach (var slot in _exporters)
        {
            var ok = false;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
            timeout.CancelAfter(_options.ExportTimeout);
            try
            {
                using (TokenMetricsSuppression.Begin())
                {
                    var exportTask = slot.Exporter.ExportAsync(batch, timeout.Token);
                    var result = exportTask.IsCompletedSuccessfully
                        ? exportTask.Result
                        : await exportTask.AsTask().WaitAsync(_options.ExportTimeout, _timeProvider, _abort.Token).ConfigureAwait(false);
                    ok = result == TokenUsageExportResult.Success;
                }
            }
            catch (Exception ex)
            {
                TokenMetricsEventSource.Log.ExporterFailed(slot.Name, ex);
                LogExporterFailed(_logger, slot.Name, batch.Count, ex);
            }

            if (ok)
            {
                Interlocked.Add(ref slot.Exported, batch.Count);
            }
            else
            {
                Interlocked.Add(ref slot.Failed, batch.Count);
                Interlocked.Increment(ref slot.FailedBatches);
                Interlocked.Increment(ref _failedSinceFlushMark);
            }
        }
    }

    private void SignalProgress()
    {
        lock (_progressLock)
        {
            var done = _progress;
            _progress = NewSignal();
            done.TrySetResult();
        }
    }

    public void Dispose() => _abort.Dispose();

    private static async Task DisposeExporterAsync(ExporterSlot slot)
    {
        try
        {
            switch (slot.Exporter)
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
            TokenMetricsEventSource.Log.ExporterFailed(slot.Name, ex);
        }
    }

    private static string UniqueName(ITokenUsageExporter exporter, int index, IEnumerable<ITokenUsageExporter> all)
    {
        var name = exporter.GetType().Name;
        return all.Count(e => e.GetType().Name == name) > 1 ? $"{name}#{index}" : name;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "TokenMetrics exporter {Exporter} failed to export {Count} records.")]
    private static partial void LogExporterFailed(ILogger logger, string exporter, int count, Exception exception);

    private sealed class ExporterSlot(ITokenUsageExporter exporter, string name)
    {
        public long Exported;
        public long Failed;
        public long FailedBatches;

        public ITokenUsageExporter Exporter { get; } = exporter;

        public string Name { get; } = name;
    }
}
