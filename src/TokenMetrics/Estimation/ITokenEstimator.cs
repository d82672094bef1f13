using System.Collections.Generic;
using Microsoft.Extensions.AI;

namespace TokenMetrics;

/// <summary>Counts tokens locally when the vendor reports none. Records made from its counts say <see cref="TokenUsageSource.Estimated"/>.</summary>
/// <remarks>Implementations must be thread-safe and must not throw for any input; a failure is fenced and the usage recorded as missing.</remarks>
public interface ITokenEstimator
{
    /// <summary>Counts the tokens of answer text.</summary>
    /// <param name="text">The text.</param>
    /// <param name="model">The model, to pick the encoding; may be <see langword="null"/>.</param>
    /// <returns>The estimate.</returns>
    TokenEstimate CountText(string text, string? model);

    /// <summary>Counts the prompt tokens of a raw request body (OpenAI, Anthropic, Gemini... JSON).</summary>
    /// <param name="requestJson">The UTF-8 request body.</param>
    /// <param name="model">The model; may be <see langword="null"/>.</param>
    /// <returns>The estimate.</returns>
    TokenEstimate CountRequest(ReadOnlySpan<byte> requestJson, string? model);

    /// <summary>Counts the prompt tokens of a message list, with its tools.</summary>
    /// <param name="messages">The messages.</param>
    /// <param name="options">The chat options (tools); may be <see langword="null"/>.</param>
    /// <param name="model">The model; may be <see langword="null"/>.</param>
    /// <returns>The estimate.</returns>
    TokenEstimate CountMessages(IEnumerable<ChatMessage> messages, ChatOptions? options, string? model);
}

/// <summary>A local token count and how it was made.</summary>
/// <param name="Tokens">The count.</param>
/// <param name="Method">How it was counted, for example <c>o200k_base</c> or <c>heuristic</c>; recorded in <see cref="TokenUsageRecord.EstimationMethod"/>.</param>
public readonly record struct TokenEstimate(long Tokens, string Method);
