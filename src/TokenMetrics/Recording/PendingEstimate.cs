using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Extensions.AI;

namespace TokenMetrics.Internal;

/// <summary>What a finished call captured (bounded) so that its usage can be estimated later, off the app's path.</summary>
internal abstract class PendingEstimate
{
    /// <summary>Gets the bytes held for the estimate, for the stage's memory bound.</summary>
    public abstract long Bytes { get; }

    /// <summary>Counts the captured prompt and answer; runs on the recorder's background side.</summary>
    public abstract (TokenEstimate? Input, TokenEstimate? Output) Count(ITokenEstimator estimator);

    /// <summary>Returns pooled buffers; called exactly once, whether or not <see cref="Count"/> ran.</summary>
    public abstract void Release();

    /// <summary>Counts the kept answer text, scaled to all the text seen when only part of it was kept.</summary>
    protected static TokenEstimate? CountOutput(ITokenEstimator estimator, TokenUsageTextAccumulator? text, string? model)
    {
        if (text is null || text.IsEmpty)
        {
            return null;
        }

        var estimate = estimator.CountText(text.GetText(out var coverage), model);
        return coverage >= 1 || coverage <= 0 ? estimate : estimate with { Tokens = (long)Math.Ceiling(estimate.Tokens / coverage) };
    }
}

/// <summary>An HTTP call's request body (the pooled copy, handed over) and answer text.</summary>
internal sealed class PendingHttpEstimate(byte[]? pooledBody, ReadOnlyMemory<byte> body, TokenUsageTextAccumulator? text, string? model) : PendingEstimate
{
    private byte[]? _pooledBody = pooledBody;

    public override long Bytes => body.Length + (text?.KeptBytes ?? 0);

    /// <summary>Gets the output already counted as the stream went (a stream ended at the output cap); the text is not counted then.</summary>
    public TokenEstimate? CountedOutput { get; init; }

    public override (TokenEstimate? Input, TokenEstimate? Output) Count(ITokenEstimator estimator)
    {
        TokenEstimate? input = body.IsEmpty ? null : estimator.CountRequest(body.Span, model);
        return (input, CountedOutput ?? CountOutput(estimator, text, model));
    }

    public override void Release()
    {
        text?.Reset();
        if (_pooledBody is not null)
        {
            ArrayPool<byte>.Shared.Return(_pooledBody);
            _pooledBody = null;
        }
    }
}

/// <summary>A chat-client call's messages (a snapshot of the list: apps append to it after the call) and answer text.</summary>
internal sealed class PendingChatEstimate : PendingEstimate
{
    private readonly ChatMessage[] _messages;
    private readonly ChatOptions? _options;
    private readonly TokenUsageTextAccumulator? _text;
    private readonly string? _model;

    public PendingChatEstimate(IEnumerable<ChatMessage> messages, ChatOptions? options, TokenUsageTextAccumulator? text, string? model)
    {
        _messages = messages.ToArray();
        _options = options?.Clone();
        _text = text;
        _model = model;
    }

    public override long Bytes => (_text?.KeptBytes ?? 0) + (_messages.Length * 64L);

    public override (TokenEstimate? Input, TokenEstimate? Output) Count(ITokenEstimator estimator) =>
        (estimator.CountMessages(_messages, _options, _model), CountOutput(estimator, _text, _model));

    public override void Release() => _text?.Reset();
}
