using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics.Internal;

/// <summary>Serves the app the reader's transformed bytes (usage the app did not ask for withheld). Holds back at most the
/// incomplete event at the end of a read: the app's own SSE parser could not use those bytes before the event is complete anyway.</summary>
internal sealed class TransformingReadStream(Stream inner, HttpCallMeter meter) : MeteredStreamBase(inner, meter)
{
    private readonly PendingBuffer _pending = new();
    private byte[]? _readBuffer;
    private bool _eof;
    private int _reading;

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            if (_pending.Available > 0)
            {
                return _pending.CopyTo(buffer);
            }

            if (_eof)
            {
                return 0;
            }

            _readBuffer ??= ArrayPool<byte>.Shared.Rent(16 * 1024);
            int n;
            Volatile.Write(ref _reading, 1);
            try
            {
                n = Inner.Read(_readBuffer, 0, _readBuffer.Length);
            }
            catch (Exception ex)
            {
                Meter.OnReadFailed(ex);
                throw;
            }
            finally
            {
                Volatile.Write(ref _reading, 0);
            }

            if (Process(n))
            {
                // Synchronous reads let the handler close the upstream response (SocketsHttpHandler drains a little first).
                Inner.Dispose();
                Meter.OnEnd();
            }
        }
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return new ValueTask<int>(0);
        }

        // Reads served from what is held, and upstream reads that complete at once, need no state machine.
        while (true)
        {
            if (_pending.Available > 0)
            {
                return new ValueTask<int>(_pending.CopyTo(buffer.Span));
            }

            if (_eof)
            {
                return new ValueTask<int>(0);
            }

            _readBuffer ??= ArrayPool<byte>.Shared.Rent(16 * 1024);
            ValueTask<int> read;
            Volatile.Write(ref _reading, 1);
            try
            {
                read = Inner.ReadAsync(_readBuffer.AsMemory(), cancellationToken);
            }
            catch (Exception ex)
            {
                // Through the task, as from the async method this was.
                return ReadAsyncSlow(ValueTask.FromException<int>(ex), buffer, cancellationToken);
            }

            if (!read.IsCompletedSuccessfully)
            {
                return ReadAsyncSlow(read, buffer, cancellationToken);
            }

            var n = read.Result;
            Volatile.Write(ref _reading, 0);
            if (Process(n))
            {
                return EndAtCapAsync(buffer, cancellationToken);
            }
        }
    }

    private async ValueTask<int> ReadAsyncSlow(ValueTask<int> read, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int n;
        try
        {
            n = await read.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Meter.OnReadFailed(ex);
            throw;
        }
        finally
        {
            Volatile.Write(ref _reading, 0);
        }

        if (Process(n))
        {
            return await EndAtCapAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        return await ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<int> EndAtCapAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        await CancelUpstreamAsync().ConfigureAwait(false);
        Meter.OnEnd();
        return await ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    protected override void OnDisposed() => Release();

    /// <summary>Hands the bytes read to the meter; <see langword="true"/> when the stream was ended at the output cap (the app's
    /// end of stream is pending, nothing more is read upstream).</summary>
    private bool Process(int n)
    {
        _pending.Compact();
        if (n == 0)
        {
            _eof = true;
            Meter.Transform(ReadOnlySpan<byte>.Empty, _pending, final: true);
            Meter.OnEnd();
            return false;
        }

        if (Meter.Transform(_readBuffer.AsSpan(0, n), _pending, final: false))
        {
            _eof = true;
            return true;
        }

        return false;
    }

    /// <summary>Stops the upstream answer at the output cap. A read left pending and then cancelled makes SocketsHttpHandler
    /// close the connection at once, so the vendor stops generating; a plain dispose would first drain the rest of the answer
    /// (up to 1 MiB or 2 s). Bytes already buffered are read and dropped first (bounded); errors stay here.</summary>
    private async ValueTask CancelUpstreamAsync()
    {
        try
        {
            using var cts = new CancellationTokenSource();
            for (var i = 0; i < 64; i++)
            {
                var read = Inner.ReadAsync(_readBuffer.AsMemory(), cts.Token);
                if (!read.IsCompleted)
                {
                    await cts.CancelAsync().ConfigureAwait(false);
                }

                if (await read.ConfigureAwait(false) == 0)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or System.Net.Http.HttpRequestException or ObjectDisposedException)
        {
            // The cancelled read: the connection is gone, as intended.
        }
        finally
        {
            await Inner.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void Release()
    {
        // A read still in flight (Dispose from another thread) may write into the buffer: leave it to the GC then.
        if (_readBuffer is not null && Volatile.Read(ref _reading) == 0)
        {
            ArrayPool<byte>.Shared.Return(_readBuffer);
        }

        _readBuffer = null;
        _pending.Release();
    }

    /// <summary>A pooled FIFO byte buffer that the reader writes into and the app reads from.</summary>
    private sealed class PendingBuffer : IBufferWriter<byte>
    {
        private byte[] _buffer = [];
        private int _start;
        private int _end;

        public int Available => _end - _start;

        public void Advance(int count) => _end += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsMemory(_end);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsSpan(_end);
        }

        public int CopyTo(Span<byte> destination)
        {
            var n = Math.Min(destination.Length, Available);
            _buffer.AsSpan(_start, n).CopyTo(destination);
            _start += n;
            return n;
        }

        public void Compact()
        {
            if (_start == _end)
            {
                _start = _end = 0;
            }
        }

        public void Release()
        {
            if (_buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = [];
            _start = _end = 0;
        }

        private void Ensure(int sizeHint)
        {
            var need = Math.Max(sizeHint, 256);
            if (_buffer.Length - _end >= need)
            {
                return;
            }

            var live = _end - _start;
            if (_buffer.Length - live >= need && _start > 0)
            {
                _buffer.AsSpan(_start, live).CopyTo(_buffer);
                _start = 0;
                _end = live;
                return;
            }

            var next = ArrayPool<byte>.Shared.Rent(Math.Max(live + need, _buffer.Length * 2));
            _buffer.AsSpan(_start, live).CopyTo(next);
            if (_buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = next;
            _start = 0;
            _end = live;
        }
    }
}
