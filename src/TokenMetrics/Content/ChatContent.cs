using System.Collections.Generic;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace TokenMetrics.Internal;

/// <summary>Captures conversation content on the chat-client path: the last user message, text, reasoning and function calls.</summary>
internal static class ChatContent
{
    // Compact, as a model writes arguments (the default options indent).
    private static readonly JsonSerializerOptions Compact = new(AIJsonUtilities.DefaultOptions) { WriteIndented = false };

    /// <summary>Sets the question from the last user message with text. Only a list is read: any other enumerable may be
    /// single-use and belongs to the inner client.</summary>
    public static void SetQuestion(ContentCapture capture, IEnumerable<ChatMessage> messages)
    {
        if (!capture.WantsQuestion || messages is not IReadOnlyList<ChatMessage> list)
        {
            return;
        }

        for (var i = list.Count - 1; i >= 0; i--)
        {
            if (list[i] is { } message && message.Role == ChatRole.User && message.Text is { Length: > 0 } text)
            {
                capture.SetQuestion(text);
                return;
            }
        }
    }

    /// <summary>Observes every model message of a whole response (tool results are the app's, not the model's).</summary>
    public static void Observe(ContentCapture capture, ChatResponse response)
    {
        foreach (var message in response.Messages)
        {
            if (message.Role == ChatRole.Tool)
            {
                continue;
            }

            foreach (var content in message.Contents)
            {
                Observe(capture, content);
            }
        }
    }

    /// <summary>Observes one content item of a response or a streamed update.</summary>
    public static void Observe(ContentCapture capture, AIContent content)
    {
        switch (content)
        {
            case TextContent text:
                capture.Answer?.Append(text.Text);
                break;
            case TextReasoningContent reasoning:
                capture.Reasoning?.Append(reasoning.Text);
                break;
            case FunctionCallContent call when capture.ToolCalls is { } calls:
                // Chat clients hand over whole calls: each is the next index.
                var index = calls.Count;
                calls.Set(index, call.CallId, "function", call.Name);
                if (call.Arguments is { } arguments)
                {
                    calls.Arguments(index)?.Append(JsonSerializer.Serialize(arguments, Compact.GetTypeInfo(typeof(IDictionary<string, object?>))));
                }

                break;
        }
    }
}
