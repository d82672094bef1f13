using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace TokenMetrics.Tests.TestHelpers;

/// <summary>A minimal OpenAI Chat Completions adapter over an HttpClient, like Microsoft.Extensions.AI.OpenAI's (not available
/// here): maps usage to UsageDetails and streams UsageContent. It is the "IChatClient over a metered HttpClient" of the tests.</summary>
public sealed class MiniOpenAIChatClient(HttpClient http, string model) : IChatClient
{
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var response = await http.PostAsync("chat/completions", Body(messages, stream: false), cancellationToken);
        response.EnsureSuccessStatusCode();
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!;
        var usage = json["usage"];
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, json["choices"]![0]!["message"]!["content"]!.GetValue<string>()))
        {
            ModelId = json["model"]?.GetValue<string>(),
            ResponseId = json["id"]?.GetValue<string>(),
            Usage = usage is null ? null : new UsageDetails
            {
                InputTokenCount = usage["prompt_tokens"]!.GetValue<long>(),
                OutputTokenCount = usage["completion_tokens"]!.GetValue<long>(),
                TotalTokenCount = usage["total_tokens"]!.GetValue<long>(),
            },
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "chat/completions") { Content = Body(messages, stream: true) };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }

            var data = line[6..];
            if (data == "[DONE]")
            {
                yield break;
            }

            var json = JsonNode.Parse(data)!;
            var update = new ChatResponseUpdate { ResponseId = json["id"]?.GetValue<string>(), ModelId = json["model"]?.GetValue<string>(), Role = ChatRole.Assistant };
            if (json["choices"] is JsonArray { Count: > 0 } choices && choices[0]!["delta"]?["content"] is { } content)
            {
                update.Contents.Add(new TextContent(content.GetValue<string>()));
            }

            if (json["usage"] is JsonObject usage)
            {
                update.Contents.Add(new UsageContent(new UsageDetails
                {
                    InputTokenCount = usage["prompt_tokens"]!.GetValue<long>(),
                    OutputTokenCount = usage["completion_tokens"]!.GetValue<long>(),
                    TotalTokenCount = usage["total_tokens"]!.GetValue<long>(),
                }));
            }

            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("openai", http.BaseAddress, model) : null;

    public void Dispose()
    {
    }

    private JsonContent Body(IEnumerable<ChatMessage> messages, bool stream) =>
        JsonContent.Create(new
        {
            model,
            messages = messages.Select(m => new { role = m.Role.Value, content = m.Text }).ToArray(),
            stream,
        });
}
