using System.Buffers;

namespace TokenMetrics.Internal;

/// <summary>Reads response-body dimensions beside the vendor's usage reader, from the same bytes: a JSON body is kept (bounded)
/// and evaluated at its end; a <c>text/event-stream</c> is parsed event by event and each path keeps the value of the last event
/// that has it (Higress rule <c>replace</c>). Created only when a dimension reads the response body.</summary>
internal sealed class ResponseBodyTap : ISseEventSink, IDisposable
{
    private readonly HttpDimensionPlan _plan;
    private readonly int _maxBodyBytes;
    private readonly SseEventReader? _sse;
    private readonly string?[] _found;
    private byte[]? _body;
    private int _length;
    private bool _overflow;
    private bool _failed;

    public ResponseBodyTap(HttpDimensionPlan plan, bool sse, int maxBodyBytes, int maxEventBytes)
    {
        _plan = plan;
        _maxBodyBytes = maxBodyBytes;
        _found = new string?[plan.Dimensions.Length];
        _sse = sse ? new SseEventReader(maxEventBytes) : null;
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        if (_failed || data.IsEmpty)
        {
            return;
        }

        try
        {
            if (_sse is not null)
            {
                _sse.Feed(data, this);
            }
            else
            {
                Collect(data);
            }
        }
        catch (Exception)
        {
            // Fail open: the dimension falls back to its default; the call and its usage are unaffected.
            _failed = true;
        }
    }

    /// <summary>Ends the body and writes the values found into <paramref name="values"/> (only where found).</summary>
    public void Complete(string?[] values)
    {
        if (_failed)
        {
            return;
        }

        try
        {
            if (_sse is not null)
            {
                _sse.Complete(this);
            }
            else if (!_overflow && _body is not null)
            {
                Evaluate(_body.AsSpan(0, _length));
            }
        }
        catch (Exception)
        {
            return;
        }

        for (var i = 0; i < _found.Length; i++)
        {
            if (_found[i] is { } value)
            {
                values[i] = TextTruncation.Truncate(value, _plan.MaxValueLength);
            }
        }
    }

    void ISseEventSink.OnEvent(SseEvent sseEvent)
    {
        var data = sseEvent.Data;
        if (!sseEvent.HasData || data.IsEmpty || data.SequenceEqual("[DONE]"u8))
        {
            return;
        }

        Evaluate(data);
    }

    void ISseEventSink.OnPassthrough(ReadOnlySpan<byte> raw)
    {
    }

    public void Dispose()
    {
        _sse?.Dispose();
        if (_body is not null)
        {
            ArrayPool<byte>.Shared.Return(_body);
            _body = null;
        }
    }

    private void Evaluate(ReadOnlySpan<byte> json)
    {
        for (var i = 0; i < _found.Length; i++)
        {
            if (_plan.Dimensions[i].Source == TokenUsageDimensionSource.ResponseBody && _plan.Paths[i]?.Evaluate(json) is { } value)
            {
                _found[i] = value;
            }
        }
    }

    private void Collect(ReadOnlySpan<byte> data)
    {
        if (_overflow)
        {
            return;
        }

        var needed = _length + data.Length;
        if (needed > _maxBodyBytes)
        {
            _overflow = true;
            return;
        }

        if (_body is null || _body.Length < needed)
        {
            var next = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(4096, (_body?.Length ?? 0) * 2)));
            _body?.AsSpan(0, _length).CopyTo(next);
            if (_body is not null)
            {
                ArrayPool<byte>.Shared.Return(_body);
            }

            _body = next;
        }

        data.CopyTo(_body.AsSpan(_length));
        _length = needed;
    }
}
