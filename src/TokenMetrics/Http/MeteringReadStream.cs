using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics.Internal;

/// <summary>A read-only pass-through: every read is served from the inner stream unchanged, and the bytes read are shown to the meter.</summary>
internal sealed class MeteringReadStream(Stream inner, HttpCallMeter meter) : MeteredStreamBase(inner, meter)
{
    public override bool CanTimeout => Inner.CanTimeout;

    public override int ReadTimeout
    {
        get => Inner.ReadTimeout;
        set => Inner.ReadTimeout = value;
    }

    public override int Read(Span<byte> buffer)
    {
        int n;
        try
        {
            n = Inner.Read(buffer);
        }
        catch (Exception ex)
        {
            Meter.OnReadFailed(ex);
            throw;
        }

        Observe(buffer[..n], buffer.Length);
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ValueTask<int> read;
        try
        {
            read = Inner.ReadAsync(buffer, cancellationToken);
        }
        catch (Exception ex)
        {
            // Thrown before the inner read started: the app gets it through the task, as from the async method this was.
            return AwaitRead(ValueTask.FromException<int>(ex), buffer);
        }

        if (!read.IsCompletedSuccessfully)
        {
            return AwaitRead(read, buffer);
        }

        // Already read (bytes buffered, in-memory bodies): no state machine.
        var n = read.Result;
        Observe(buffer.Span[..n], buffer.Length);
        return new ValueTask<int>(n);
    }

    private async ValueTask<int> AwaitRead(ValueTask<int> read, Memory<byte> buffer)
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

        Observe(buffer.Span[..n], buffer.Length);
        return n;
    }

    private void Observe(ReadOnlySpan<byte> read, int requested)
    {
        if (read.Length > 0)
        {
            Meter.OnBytes(read);
        }
        else if (requested > 0)
        {
            Meter.OnEnd();
        }
    }
}
