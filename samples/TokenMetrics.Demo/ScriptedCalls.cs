using System.ClientModel;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenAI.Chat;
using OpenAI.Embeddings;
using TokenMetrics.Testing;

namespace TokenMetrics.Demo;

/// <summary><c>--once</c>: about twenty scripted metered calls against the mock server, a table of their records, the stored
/// totals by model, and exit.</summary>
internal static class ScriptedCalls
{
    public static async Task<int> RunAsync(DemoOptions options)
    {
        await using var server = await MockLlmServer.StartAsync(new MockLlmServerOptions
        {
            DefaultScenario = new MockScenario { ChunkDelay = TimeSpan.FromMilliseconds(3), CachedTokens = 8 },
        });

        var builder = Host.CreateApplicationBuilder([.. options.HostArgs]);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        DemoMetering.Add(builder.Services, builder.Configuration, server.BaseAddress, options.DatabasePath)
            .AddInMemoryExporter(out var records);
        var runStarted = DateTimeOffset.UtcNow;
        using var host = builder.Build();
        await host.StartAsync();

        var factory = host.Services.GetRequiredService<IHttpClientFactory>();
        var endpoint = DemoMetering.OpenAIEndpoint(server.BaseAddress);
        OpenAI.OpenAIClientOptions Sdk(string clientName, int? maxRetries = null) => DemoMetering.Sdk(factory, clientName, endpoint, maxRetries);
        var key = DemoMetering.Key;
        var chat = new ChatClient("gpt-4o-mini", key, Sdk("openai"));
        List<OpenAI.Chat.ChatMessage> prompt = [new SystemChatMessage("You are a helpful assistant."), new UserChatMessage("What does TokenMetrics do?")];

        // 1. OpenAI SDK, not streamed.
        _ = await chat.CompleteChatAsync(prompt);

        // 2. OpenAI SDK, streamed.
        await foreach (var _ in chat.CompleteChatStreamingAsync(prompt))
        {
        }

        // 3. Embeddings.
        _ = await new EmbeddingClient("text-embedding-3-small", key, Sdk("openai")).GenerateEmbeddingAsync("token usage");

        // 4. A stream the app abandons after three updates: recorded as cancelled, usage estimated.
        var seen = 0;
        await foreach (var _ in new ChatClient("gpt-4o-mini+mock-chunks-40", key, Sdk("openai")).CompleteChatStreamingAsync(prompt))
        {
            if (++seen == 3)
            {
                break;
            }
        }

        // 5. A rate-limited call: recorded as an error, with no guessed usage. (Retries are off here for a short table; with the
        //    SDK's default retries every attempt is its own record, since every attempt may be billed.)
        try
        {
            _ = await new ChatClient("gpt-4o-mini+mock-error-429", key, Sdk("openai", maxRetries: 0)).CompleteChatAsync(prompt);
        }
        catch (ClientResultException)
        {
            // The app sees the SDK's own exception, untouched.
        }

        // 6. The Responses API over raw HTTP, streamed, sent the way an agent gateway does: its session and consumer headers
        //    attribute the call with no code (x-agent-session is one of the default session headers, x-mse-consumer the consumer).
        using (var http = factory.CreateClient("raw"))
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.BaseAddress, "v1/responses"))
            {
                Content = new StringContent("{\"model\":\"gpt-4.1\",\"input\":\"Summarise token metering in one line.\",\"stream\":true}", Encoding.UTF8, "application/json"),
            };
            request.Headers.Add(MockHeaders.ReasoningTokens, "12");
            request.Headers.Add("x-agent-session", "agent:main:discord:42");
            request.Headers.Add("x-mse-consumer", "clawdbot");
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            _ = await response.Content.ReadAsStringAsync();
        }

        // 7. The OpenAI SDK against Gemini, through rewriting: streamed and not; the record keeps both models.
        var viaGemini = new ChatClient("gpt-4o-mini", new ApiKeyCredential("demo-gemini-key"), Sdk("gemini"));
        _ = await viaGemini.CompleteChatAsync(prompt);
        await foreach (var _ in viaGemini.CompleteChatStreamingAsync(prompt))
        {
        }

        // 8. The OpenAI SDK against Claude, through rewriting.
        var viaClaude = new ChatClient("gpt-4o", new ApiKeyCredential("demo-anthropic-key"), Sdk("anthropic"));
        _ = await viaClaude.CompleteChatAsync(prompt);
        await foreach (var _ in viaClaude.CompleteChatStreamingAsync(prompt))
        {
        }

        // 9. An IChatClient (Microsoft.Extensions.AI.OpenAI's AsIChatClient) over the metered HttpClient: both layers see the
        //    call, the handler records it once, with the chat client's attribution (user and session from the scope and
        //    ChatOptions.ConversationId).
        IChatClient metered = chat.AsIChatClient().AsBuilder().UseTokenMetrics(configure: c => c.ClientName = "assistant").Build(host.Services);
        using (TokenMetricsScope.Begin(userId: "alice", consumer: "team-docs"))
        {
            _ = await metered.GetResponseAsync("Hello!", new ChatOptions { ConversationId = "conv-1" });
            await foreach (var _ in metered.GetStreamingResponseAsync("Tell me more.", new ChatOptions { ConversationId = "conv-1" }))
            {
            }
        }

        // 10. An IChatClient over an unmetered HttpClient: the chat-client layer records it.
        IChatClient decorated = new ChatClient("gpt-4o-mini", key, Sdk("unmetered")).AsIChatClient()
            .AsBuilder().UseTokenMetrics(configure: c => c.ClientName = "chat-layer").Build(host.Services);
        _ = await decorated.GetResponseAsync("Hi from the chat-client layer");
        await foreach (var _ in decorated.GetStreamingResponseAsync("Stream from the chat-client layer"))
        {
        }

        // 11. A runaway stream capped at 5 output tokens: the SDK sees an ordinary "length" finish; the record says capped.
        OpenAI.Chat.ChatFinishReason? cappedFinish = null;
        await foreach (var update in new ChatClient("gpt-4o-mini+mock-chunks-40", key, Sdk("capped")).CompleteChatStreamingAsync(prompt))
        {
            cappedFinish = update.FinishReason ?? cappedFinish;
        }

        // 12. Two calls under the "tight" budget: the first fits, the second would pass 30 tokens and is refused before it leaves
        //     the process (the SDK raises its own 429); the record says rejected.
        using (TokenMetricsScope.Begin(new TokenUsageAttribution { Tags = new Dictionary<string, string> { ["budget"] = "tight" } }))
        {
            var tight = new ChatClient("gpt-4o-mini", key, Sdk("openai", maxRetries: 0));
            var limited = new ChatCompletionOptions { MaxOutputTokenCount = 20 };
            _ = await tight.CompleteChatAsync([new UserChatMessage("Hi")], limited);
            try
            {
                _ = await tight.CompleteChatAsync([new UserChatMessage("Hi again")], limited);
            }
            catch (ClientResultException ex) when (ex.Status == 429)
            {
                Console.WriteLine($"Budget 'tight' refused a call before it was sent (HTTP {ex.Status}); the capped stream ended with finish reason '{cappedFinish}'.");
            }
        }

        var recorder = host.Services.GetRequiredService<TokenUsageRecorder>();
        await recorder.FlushAsync(TimeSpan.FromSeconds(10));
        RecordTable.Print(records.Records, recorder.GetStatistics());

        // The same records, read back from the SQLite database (this run only; the file keeps earlier runs too).
        var store = host.Services.GetRequiredService<ITokenUsageStore>();
        Console.WriteLine();
        Console.WriteLine($"Stored in SQLite ({Path.GetFullPath(options.DatabasePath)}), by model:");
        foreach (var row in await store.AggregateAsync(new TokenUsageAggregateQuery { GroupBy = TokenUsageDimensions.Model, From = runStarted.AddSeconds(-1) }, CancellationToken.None))
        {
            var cost = row.Costs.Count == 0 ? "—" : string.Join(" + ", row.Costs.Select(c => RecordTable.Money(c.Value, c.Key)));
            Console.WriteLine($"  {row.Keys["model"] ?? "(none)",-28} calls {row.Calls,3}  input {row.InputTokens,7:N0}  output {row.OutputTokens,7:N0}  total {row.TotalTokens,7:N0}  cost {cost}{(row.UnpricedCalls == 0 ? string.Empty : $" ({row.UnpricedCalls} unpriced)")}");
        }

        await host.StopAsync();
        return 0;
    }
}

/// <summary>The <c>--once</c> table: one line per record.</summary>
internal static class RecordTable
{
    public static void Print(IReadOnlyList<TokenUsageRecord> records, TokenMetricsStatistics stats)
    {
        string[] header = ["#", "layer", "provider", "operation", "model", "stream", "input", "output", "cached", "reasoning", "source", "status", "duration", "first chunk", "user", "session", "cost"];
        var rows = records.Select((r, i) => new[]
        {
            (i + 1).ToString(CultureInfo.InvariantCulture),
            r.Layer == TokenUsageLayer.Http ? "http" : "chat-client",
            r.Provider ?? "-",
            r.Operation ?? "-",
            r.RoutedModel is null ? r.ResponseModel ?? r.RequestModel ?? "-" : $"{r.RequestModel} -> {r.ResponseModel ?? r.RoutedModel}",
            r.IsStreaming ? "yes" : "no",
            N(r.Usage.InputTokenCount),
            N(r.Usage.OutputTokenCount),
            N(r.Usage.CachedInputTokenCount),
            N(r.Usage.ReasoningTokenCount),
            r.Source.ToString().ToLowerInvariant() + (r.EstimationMethod is null ? string.Empty : $" ({r.EstimationMethod})"),
            r.Status.ToString().ToLowerInvariant() + (r.ErrorType is null || r.ErrorType == r.Status.ToString().ToLowerInvariant() ? string.Empty : $" ({r.ErrorType})"),
            $"{r.Duration.TotalMilliseconds:0} ms",
            r.TimeToFirstChunk is { } t ? $"{t.TotalMilliseconds:0} ms" : "-",
            r.UserId ?? "-",
            r.SessionId ?? "-",
            Money(r.Cost, r.Currency),
        }).ToList();
        var widths = header.Select((h, c) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[c].Length))).ToArray();
        string Line(string[] cells) => string.Join("  ", cells.Select((cell, c) => c is >= 6 and <= 9 or 17 ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c])));
        Console.WriteLine(Line(header));
        Console.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        rows.ForEach(r => Console.WriteLine(Line(r)));
        Console.WriteLine();

        // Cost total per currency; calls with usage but no known price are counted, never priced at 0.
        var totals = records.Where(r => r.Cost is not null).GroupBy(r => r.Currency ?? string.Empty).Select(g => Money(g.Sum(r => r.Cost!.Value), g.Key)).ToList();
        var unpriced = records.Count(r => r.Cost is null && r.Source != TokenUsageSource.Missing);
        Console.WriteLine($"Cost total: {(totals.Count == 0 ? "—" : string.Join(" + ", totals))}{(unpriced == 0 ? string.Empty : $" ({unpriced} calls with usage but no known price)")}");
        Console.WriteLine($"{records.Count} records. Pipeline: received {stats.Received}, dropped {stats.Dropped}, internal errors {stats.InternalErrors}.");
    }

    /// <summary>A cost, or an em dash when the price is unknown (never 0).</summary>
    public static string Money(decimal? cost, string? currency) =>
        cost is { } c ? c.ToString("0.########", CultureInfo.InvariantCulture) + (string.IsNullOrEmpty(currency) ? string.Empty : " " + currency) : "—";

    private static string N(long? value) => value?.ToString("N0", CultureInfo.InvariantCulture) ?? "-";
}
