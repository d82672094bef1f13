using System.Buffers;

namespace TokenMetrics.Providers.Rewriting;

/// <summary>What the answer-translating readers built on a vendor's document reader (Gemini, DashScope, Ollama) share: the
/// app's answer being built, the HTTP status, the vendor's error message, and how the answer ends.</summary>
/// <param name="state">What the request side recorded.</param>
/// <param name="status">The vendor's HTTP status.</param>
/// <param name="vendor">The vendor as named in an error message without one of its own ("Ollama" → "Ollama answered HTTP 500.").</param>
internal sealed class RewrittenAnswer(RewriteState state, int status, string vendor)
{
    private string? _errorMessage;

    /// <summary>Gets the builder of the app's OpenAI answer.</summary>
    public OpenAIAnswerBuilder Builder { get; } = state.CreateBuilder();

    /// <summary>Gets whether the vendor answered 2xx.</summary>
    public bool Success => status is >= 200 and < 300;

    /// <summary>Gets the media type of the app's answer: a stream only when the app asked for one and the vendor succeeded.</summary>
    public string TransformedMediaType => Success && state.Stream ? "text/event-stream" : "application/json";

    /// <summary>Notes the vendor's error message; inside a 2xx answer it is written to the app at once.</summary>
    public void VendorError(IBufferWriter<byte>? output, string? message, string type)
    {
        _errorMessage = message;
        if (Success)
        {
            Builder.Error(output, message ?? "error", type);
        }
    }

    /// <summary>Ends the app's answer: an OpenAI error for a non-2xx status, else the final chunk or body once the vendor completed without error.</summary>
    public void End(IBufferWriter<byte>? output, bool completed, string? errorType, TokenUsage? usage)
    {
        if (!Success)
        {
            Builder.Error(output, _errorMessage ?? $"{vendor} answered HTTP {status}.", OpenAIAnswerBuilder.ErrorType(status));
            return;
        }

        if (completed && errorType is null)
        {
            Builder.End(output, usage);
        }
    }
}
