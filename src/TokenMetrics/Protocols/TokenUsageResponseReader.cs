using System.Buffers;
using TokenMetrics.Internal;

namespace TokenMetrics;

/// <summary>Reads one response body, pushed to it in order as the app reads it, and collects what the call reported.</summary>
/// <remarks>
/// <para>One instance per response; never used concurrently. The handler fences every call: an exception turns metering off
/// for that response and is counted, and the app's bytes are unaffected.</para>
/// <para>Bytes arrive decompressed: when the body is compressed the handler decompresses a copy for the reader.</para>
/// </remarks>
public abstract class TokenUsageResponseReader
{
    /// <summary>Gets or sets the usage reported so far (merged by the vendor's rule), or <see langword="null"/>.</summary>
    public TokenUsage? Usage { get; protected set; }

    /// <summary>Gets or sets the model the vendor says answered.</summary>
    public string? ResponseModel { get; protected set; }

    /// <summary>Gets or sets the vendor's response identifier.</summary>
    public string? ResponseId { get; protected set; }

    /// <summary>Gets or sets a value indicating whether the vendor's terminal event (<c>[DONE]</c>, a finish reason,
    /// <c>response.completed</c>...) or a complete JSON body was seen. A stream that ends without it is truncated.</summary>
    public bool Completed { get; protected set; }

    /// <summary>Gets or sets the vendor's error type when the body or a stream event reported an error.</summary>
    public string? ErrorType { get; protected set; }

    private TokenUsageTextAccumulator? _outputText;

    /// <summary>Gets the answer text seen so far, kept (bounded) only to estimate usage when none is reported. Created on first use.</summary>
    public TokenUsageTextAccumulator OutputText => _outputText ??= new TokenUsageTextAccumulator();

    /// <summary>Gets a value indicating whether any answer text was kept.</summary>
    public bool HasOutputText => _outputText is { IsEmpty: false };

    /// <summary>Gets or sets where conversation content goes; <see langword="null"/> (nothing to do) unless content capture is on.</summary>
    internal ContentCapture? Capture { get; set; }

    /// <summary>Returns the answer text's pooled buffer.</summary>
    public void ResetOutputText() => _outputText?.Reset();

    /// <summary>Gets a value indicating whether the reader changes what the app reads (see <see cref="Transform"/>).</summary>
    /// <remarks>Only readers that withhold usage the app did not ask for do; all others observe without copying.</remarks>
    public virtual bool TransformsContent => false;

    /// <summary>Gets the media type of the transformed body (for example <c>text/event-stream</c> when a vendor's binary stream
    /// becomes OpenAI server-sent events), or <see langword="null"/> to keep the vendor's.</summary>
    public virtual string? TransformedMediaType => null;

    /// <summary>Observes the next bytes of the body.</summary>
    /// <param name="data">The bytes, exactly as the vendor sent them (decompressed).</param>
    public abstract void Write(ReadOnlySpan<byte> data);

    /// <summary>Signals the end of the body (the app read to the end).</summary>
    public virtual void Complete()
    {
    }

    /// <summary>Observes the next bytes and writes what the app should read instead; used only when <see cref="TransformsContent"/>.</summary>
    /// <param name="data">The bytes as the vendor sent them.</param>
    /// <param name="output">Where to write the bytes the app reads.</param>
    /// <param name="final"><see langword="true"/> at the end of the body: flush anything held back.</param>
    public virtual void Transform(ReadOnlySpan<byte> data, IBufferWriter<byte> output, bool final)
    {
        ArgumentNullException.ThrowIfNull(output);
        Write(data);
        output.Write(data);
        if (final)
        {
            Complete();
        }
    }
}
