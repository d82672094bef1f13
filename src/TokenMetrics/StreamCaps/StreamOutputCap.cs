using System.Net.Http;

namespace TokenMetrics.Internal;

/// <summary>The output cap of one streamed call: counts the answer text of each event with the tokenizer as the stream goes
/// and tells the vendor's reader when to end the stream. Created only when a cap is set, so uncapped streams do no work.</summary>
/// <remarks>The reader calls <see cref="BeginEvent"/>, observes the event (its answer text reaches <see cref="Count"/> through
/// <see cref="TokenUsageTextAccumulator"/>), then <see cref="EndEvent"/>. Each event's text is counted on its own: the cost is
/// bounded by the event, and since vendors cut deltas at token boundaries the sum matches the answer's count (a split word can
/// only count high, which errs on the cap's side). The event that would take the output past the cap is withheld and the stream
/// ends before it, so the app never reads more than the cap.</remarks>
internal sealed class StreamOutputCap
{
    private readonly TiktokenEncoding _encoding;
    private long _eventTokens;

    public StreamOutputCap(long limit, string? model)
    {
        Limit = limit;
        var name = TiktokenModels.GetEncodingName(model, out var approximate);
        _encoding = TiktokenEncoding.GetEncoding(name);
        Method = approximate ? name + TiktokenTokenEstimator.ApproximationSuffix : name;
    }

    /// <summary>Gets the most output tokens the app reads.</summary>
    public long Limit { get; }

    /// <summary>Gets the estimate method recorded with the counted output (the encoding's name).</summary>
    public string Method { get; }

    /// <summary>Gets the output tokens of the events forwarded to the app.</summary>
    public long Tokens { get; private set; }

    /// <summary>Gets a value indicating whether the stream was ended at the cap.</summary>
    public bool Reached { get; private set; }

    /// <summary>Gets the input tokens the app was told at the cut (estimated when the app asked for usage and the vendor had
    /// not reported it yet), or <see langword="null"/>; the record then says the same.</summary>
    public long? InputTokens { get; private set; }

    /// <summary>Gets or sets how the input is estimated when a vendor end of stream must carry usage.</summary>
    public Func<long?>? InputEstimator { get; set; }

    /// <summary>Estimates the input tokens once (only on the cut, and only when the app asked for usage).</summary>
    public long? EstimateInputTokens()
    {
        try
        {
            return InputTokens ??= InputEstimator?.Invoke();
        }
        catch (Exception)
        {
            // The end of stream still goes out; its usage just says 0 input tokens.
            return null;
        }
    }

    /// <summary>Returns the cap in force for a request: its own <see cref="TokenMetricsHandlerOptions.MaxStreamOutputTokensKey"/>
    /// (0 or less: none), else the client's <see cref="TokenMetricsHandlerOptions.MaxStreamOutputTokens"/>.</summary>
    public static long? Resolve(HttpRequestMessage request, TokenMetricsHandlerOptions options)
    {
        if (request.Options.TryGetValue(TokenMetricsHandlerOptions.MaxStreamOutputTokensKey, out var own))
        {
            return own > 0 ? own : null;
        }

        return options.MaxStreamOutputTokens;
    }

    /// <summary>Starts counting one event.</summary>
    public void BeginEvent() => _eventTokens = 0;

    /// <summary>Counts answer text of the current event.</summary>
    /// <param name="text">UTF-8 text, or the raw content of a JSON string when <paramref name="escaped"/>.</param>
    /// <param name="escaped">Whether JSON escapes are still in the text.</param>
    public void Count(ReadOnlySpan<byte> text, bool escaped)
    {
        _eventTokens += escaped && text.IndexOf((byte)'\\') >= 0
            ? _encoding.CountTokens(JsonText.UnescapeFragments(text).AsSpan())
            : _encoding.CountTokens(text);
    }

    /// <summary>Ends the current event: <see langword="true"/> when it fits under the cap and goes to the app; otherwise the
    /// cap is reached and the reader ends the stream instead of forwarding it.</summary>
    public bool EndEvent()
    {
        if (Reached)
        {
            return false;
        }

        var total = Tokens + _eventTokens;
        _eventTokens = 0;
        if (total > Limit)
        {
            Reached = true;
            return false;
        }

        Tokens = total;
        return true;
    }
}
