using System.Buffers;
using System.Text.Json;

namespace TokenMetrics.Providers.Rewriting;

/// <summary>How a vendor body is cut into JSON documents.</summary>
internal enum DocumentFraming
{
    /// <summary>JSON objects: one object (a non-streamed body), NDJSON, or the elements of a top-level array written incrementally.</summary>
    Objects,

    /// <summary>Server-sent events: each event's <c>data</c> is a document; <c>[DONE]</c> is skipped.</summary>
    Sse,
}

/// <summary>A response reader for vendors whose bodies are sequences of JSON documents: frames the bytes (split anywhere),
/// hands each complete document to <see cref="OnDocument"/>, and, for rewriters, lets it write what the app reads.</summary>
/// <remarks>A document that is not valid JSON is counted and skipped; it never fails the reader.</remarks>
internal abstract class JsonDocumentReader : TokenUsageResponseReader, ISseEventSink, IJsonObjectSink, IDisposable
{
    private readonly SseEventReader? _sse;
    private readonly JsonObjectStreamFramer? _objects;
    private bool _completed;

    protected JsonDocumentReader(DocumentFraming framing, int maxDocumentBytes)
    {
        if (framing == DocumentFraming.Sse)
        {
            _sse = new SseEventReader(Math.Max(64, maxDocumentBytes));
        }
        else
        {
            _objects = new JsonObjectStreamFramer(Math.Max(2, maxDocumentBytes));
        }
    }

    /// <summary>Gets the number of documents that were not valid JSON.</summary>
    public int MalformedDocuments { get; private set; }

    /// <summary>Gets the number of documents seen.</summary>
    public int Documents { get; private set; }

    public override bool TransformsContent => Answer is not null;

    public override string? TransformedMediaType => Answer?.TransformedMediaType;

    /// <summary>Gets where a transforming reader writes the app's bytes during <see cref="Transform"/>; <see langword="null"/> otherwise.</summary>
    protected IBufferWriter<byte>? Output { get; private set; }

    /// <summary>Gets the app's answer that a rewriter's reader writes (which makes this reader transform); <see langword="null"/> when it only meters.</summary>
    protected RewrittenAnswer? Answer { get; init; }

    public override void Write(ReadOnlySpan<byte> data)
    {
        if (_sse is not null)
        {
            _sse.Feed(data, this);
        }
        else
        {
            _objects!.Feed(data, this);
        }
    }

    public override void Complete()
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        _sse?.Complete(this);
        _objects?.Complete();
        OnEnd();
    }

    public override void Transform(ReadOnlySpan<byte> data, IBufferWriter<byte> output, bool final)
    {
        Output = output;
        try
        {
            Write(data);
            if (final)
            {
                Complete();
            }
        }
        finally
        {
            Output = null;
        }
    }

    void ISseEventSink.OnEvent(SseEvent sseEvent)
    {
        if (!sseEvent.HasData || sseEvent.Data.IsEmpty || sseEvent.Data.SequenceEqual("[DONE]"u8))
        {
            return;
        }

        Handle(sseEvent.Data, sseEvent.EventType);
    }

    void ISseEventSink.OnPassthrough(ReadOnlySpan<byte> raw)
    {
    }

    void IJsonObjectSink.OnObject(ReadOnlySpan<byte> json) => Handle(json, default);

    public virtual void Dispose()
    {
        _sse?.Dispose();
        _objects?.Dispose();
    }

    /// <summary>Reads one complete document.</summary>
    /// <param name="json">The document (a JSON object).</param>
    /// <param name="eventType">The SSE <c>event:</c> name, empty when absent or not SSE.</param>
    protected abstract void OnDocument(ReadOnlySpan<byte> json, ReadOnlySpan<byte> eventType);

    /// <summary>Called once at the end of the body, after the last document.</summary>
    protected virtual void OnEnd()
    {
    }

    private void Handle(ReadOnlySpan<byte> json, ReadOnlySpan<byte> eventType)
    {
        Documents++;
        try
        {
            OnDocument(json, eventType);
        }
        catch (JsonException)
        {
            MalformedDocuments++;
        }
        catch (InvalidOperationException)
        {
            MalformedDocuments++;
        }
    }
}
