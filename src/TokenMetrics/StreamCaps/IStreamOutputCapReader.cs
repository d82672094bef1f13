namespace TokenMetrics.Internal;

/// <summary>A vendor's stream reader that can end its stream at an output cap, writing the vendor's own end of stream
/// (OpenAI: a <c>finish_reason: "length"</c> chunk and <c>[DONE]</c>; Anthropic: <c>message_delta</c> with
/// <c>stop_reason: "max_tokens"</c> and <c>message_stop</c>).</summary>
/// <remarks>Once enabled, the reader transforms (<see cref="TokenUsageResponseReader.TransformsContent"/>): events under the cap
/// are written to the app unchanged, byte for byte; at the cap it writes the end of stream, ignores everything after it and sets
/// <see cref="StreamOutputCap.Reached"/>, and the handler then cancels the upstream response.</remarks>
internal interface IStreamOutputCapReader
{
    /// <summary>Turns the cap on, before the first byte is read.</summary>
    /// <param name="cap">The cap.</param>
    /// <returns><see langword="false"/> when this stream cannot be capped (its operation has no end to write): it is left as it is.</returns>
    bool EnableCap(StreamOutputCap cap);
}
