namespace TokenMetrics.Internal;

/// <summary>The content options of one recorder, applied to every captured text: redaction first, then the length limit.</summary>
internal sealed class ContentPolicy
{
    private readonly TokenUsageRecorder _recorder;
    private readonly Func<TokenUsageContentPart, string, string?>? _redactor;

    public ContentPolicy(TokenMetricsContentOptions options, TokenUsageRecorder recorder)
    {
        _recorder = recorder;
        _redactor = options.Redactor;
        Limit = options.MaxLength;
        Question = options.CaptureQuestion;
        Answer = options.CaptureAnswer;
        Reasoning = options.CaptureReasoning;
        ToolCalls = options.CaptureToolCalls;
    }

    /// <summary>Gets the length limit; also the size of each window a <see cref="ContentText"/> keeps.</summary>
    public int Limit { get; }

    public bool Question { get; }

    public bool Answer { get; }

    public bool Reasoning { get; }

    public bool ToolCalls { get; }

    /// <summary>Redacts and cuts a whole text.</summary>
    public string? Finish(TokenUsageContentPart part, string? text)
    {
        if (string.IsNullOrEmpty(text) || Redact(part, text) is not { Length: > 0 } redacted)
        {
            return null;
        }

        return TextTruncation.Truncate(redacted, Limit);
    }

    /// <summary>Redacts and joins the head and tail of a text whose middle was never kept.</summary>
    public string? FinishCut(TokenUsageContentPart part, string head, string tail)
    {
        if (Redact(part, head) is not { } h || Redact(part, tail) is not { } t)
        {
            return null;
        }

        var half = Limit / 2;
        return string.Concat(TextTruncation.Head(h, half), TextTruncation.Marker, TextTruncation.Tail(t, half));
    }

    private string? Redact(TokenUsageContentPart part, string text)
    {
        if (_redactor is null)
        {
            return text;
        }

        try
        {
            return _redactor(part, text);
        }
        catch (Exception ex)
        {
            // Dropped, never kept unredacted.
            _recorder.ReportCallbackFailure(nameof(TokenMetricsContentOptions.Redactor), ex);
            return null;
        }
    }
}
