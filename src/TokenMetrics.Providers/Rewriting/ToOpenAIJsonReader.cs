using System.Buffers;
using System.Collections.Generic;
using System.Text.Json;

namespace TokenMetrics.Providers.Rewriting;

/// <summary>The skeleton of the readers that turn a vendor's non-streamed answer into one OpenAI <c>chat.completion</c> (Anthropic,
/// Bedrock Converse): meter through the vendor's own reader, and at the end write the app's answer, or an OpenAI error when the
/// vendor's answer cannot be read.</summary>
internal abstract class ToOpenAIJsonReader : TokenUsageResponseReader
{
    private bool _done;

    public override bool TransformsContent => true;

    public override string? TransformedMediaType => "application/json";

    public sealed override void Complete()
    {
        if (_done)
        {
            return;
        }

        _done = true;
        CompleteMetering();
    }

    public sealed override void Transform(ReadOnlySpan<byte> data, IBufferWriter<byte> output, bool final)
    {
        ArgumentNullException.ThrowIfNull(output);
        Write(data);
        if (!final)
        {
            return;
        }

        Complete();
        try
        {
            WriteAnswer(output);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            ErrorType = "invalid_response";
            OpenAIAnswerWriter.WriteError(output, "The vendor's answer could not be read: " + ex.Message, "server_error");
        }
    }

    /// <summary>Completes the vendor's reader and copies what it metered (usage, ids, errors) to this reader; called once.</summary>
    protected abstract void CompleteMetering();

    /// <summary>Writes the app's answer from the kept body; a <see cref="JsonException"/>, <see cref="KeyNotFoundException"/> or
    /// <see cref="InvalidOperationException"/> becomes an OpenAI error.</summary>
    protected abstract void WriteAnswer(IBufferWriter<byte> output);
}
