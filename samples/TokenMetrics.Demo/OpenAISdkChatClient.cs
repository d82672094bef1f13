using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using OpenAI.Chat;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;
using OpenAIChatMessage = OpenAI.Chat.ChatMessage;

namespace TokenMetrics.Demo;

/// <summary>A small IChatClient over the official OpenAI SDK's ChatClient (Microsoft.Extensions.AI.OpenAI, which provides the
/// real one, is not on this machine's package feed). It maps the SDK's usage to UsageDetails, as that adapter does.</summary>
internal sealed class OpenAISdkChatClient(ChatClient client, Uri endpoint) : IChatClient
{
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<AIChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var completion = (await client.CompleteChatAsync(Map(messages), cancellationToken: cancellationToken)).Value;
        return new ChatResponse(new AIChatMessage(ChatRole.Assistant, string.Concat(completion.Content.Select(p => p.Text))))
        {
            ModelId = completion.Model,
            ResponseId = completion.Id,
            Usage = Map(completion.Usage),
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<AIChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var update in client.CompleteChatStreamingAsync(Map(messages), cancellationToken: cancellationToken))
        {
            var result = new ChatResponseUpdate(ChatRole.Assistant, string.Concat(update.ContentUpdate.Select(p => p.Text))) { ModelId = update.Model, ResponseId = update.CompletionId };
            if (Map(update.Usage) is { } usage)
            {
                result.Contents.Add(new UsageContent(usage));
            }

            yield return result;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("openai", endpoint) : null;

    public void Dispose()
    {
    }

    private static List<OpenAIChatMessage> Map(IEnumerable<AIChatMessage> messages) =>
        messages.Select(m => m.Role == ChatRole.System ? (OpenAIChatMessage)new SystemChatMessage(m.Text)
            : m.Role == ChatRole.Assistant ? new AssistantChatMessage(m.Text)
            : new UserChatMessage(m.Text)).ToList();

    private static UsageDetails? Map(ChatTokenUsage? usage) => usage is null ? null : new UsageDetails
    {
        InputTokenCount = usage.InputTokenCount,
        OutputTokenCount = usage.OutputTokenCount,
        TotalTokenCount = usage.TotalTokenCount,
        CachedInputTokenCount = usage.InputTokenDetails?.CachedTokenCount,
        ReasoningTokenCount = usage.OutputTokenDetails?.ReasoningTokenCount,
    };
}
