using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace TokenMetrics.Tests.MicrosoftExtensionsAI;

/// <summary>A scripted model for tool loops: asks for <c>get_weather</c> until it has <see cref="ToolRounds"/> results after the
/// last user message, then answers. Round <c>n</c> reports input <c>100 + 10n</c>, output <c>n + 1</c> (distinct per round), once per response.</summary>
internal sealed class ToolLoopModel : IChatClient
{
    private int _calls;

    public int ToolRounds { get; init; } = 1;

    /// <summary>Gets the usage reported for round <paramref name="round"/>.</summary>
    public static (long Input, long Output) UsageOf(int round) => (100 + (10 * round), round + 1);

    public int Calls => Volatile.Read(ref _calls);

    public static AIFunction Weather { get; } = AIFunctionFactory.Create((string city) => $"sunny in {city}", "get_weather");

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (round, id, content) = Next(messages);
        var (input, output) = UsageOf(round);
        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, [content]))
        {
            ResponseId = id,
            ModelId = "loop-model",
            Usage = new UsageDetails { InputTokenCount = input, OutputTokenCount = output, TotalTokenCount = input + output },
        });
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (round, id, content) = Next(messages);
        var (input, output) = UsageOf(round);
        await Task.Yield();
        yield return new ChatResponseUpdate(ChatRole.Assistant, [content]) { ResponseId = id, ModelId = "loop-model" };
        await Task.Yield();
        yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(new UsageDetails { InputTokenCount = input, OutputTokenCount = output, TotalTokenCount = input + output })]) { ResponseId = id, ModelId = "loop-model" };
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("testprovider", new Uri("https://llm.example.test/v1"), "loop-model") :
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    private (int Round, string ResponseId, AIContent Content) Next(IEnumerable<ChatMessage> messages)
    {
        var list = messages.ToList();
        var round = list.Count - 1 - list.FindLastIndex(m => m.Role == ChatRole.User);
        round /= 2; // each round adds an assistant message (the call) and a tool message (the result)
        var call = Interlocked.Increment(ref _calls);
        var id = $"resp-{call}";
        var city = list.Last(m => m.Role == ChatRole.User).Text;
        AIContent content = round < ToolRounds
            ? new FunctionCallContent($"call-{Guid.NewGuid():N}", "get_weather", new Dictionary<string, object?> { ["city"] = city })
            : new TextContent($"It is sunny in {city}.");
        return (round, id, content);
    }
}
