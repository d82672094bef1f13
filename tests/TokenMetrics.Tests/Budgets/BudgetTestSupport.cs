using System.Net.Http.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using TokenMetrics.Internal;
using TokenMetrics.Testing;
using TokenMetrics.Tests.TestHelpers;

namespace TokenMetrics.Tests.Budgets;

/// <summary>A store whose every call fails, or never completes: the store-outage cases.</summary>
internal sealed class BrokenBudgetStore(bool hang) : ITokenUsageBudgetStore
{
    public int Calls;

    public async ValueTask<TokenUsageBudgetCheck> TryConsumeAsync(string counterKey, long amount, long limit, TimeSpan window, CancellationToken cancellationToken)
    {
        _ = Interlocked.Increment(ref Calls);
        if (hang)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        throw new InvalidOperationException("store down");
    }

    public ValueTask AddAsync(string counterKey, long delta, TimeSpan window, CancellationToken cancellationToken) => throw new InvalidOperationException("store down");
}

internal static class BudgetTestSupport
{
    /// <summary>A recorder whose budget counters run on <paramref name="clock"/> (the pipeline keeps the real clock for its timers).</summary>
    public static TestRecorder Recorder(FakeTimeProvider clock, params TokenUsageBudget[] budgets)
    {
        var t = new TestRecorder(o =>
        {
            foreach (var b in budgets)
            {
                o.Budgets.Add(b);
            }
        });
        var store = new TokenUsageInProcessBudgetStore(clock);
        t.Recorder.Budgets.UseStore(() => store);
        return t;
    }

    public static FakeTimeProvider Clock() => new(new DateTimeOffset(2026, 12, 5, 10, 0, 10, TimeSpan.Zero));

    public static HttpClient HttpClient(TestRecorder t, MockLlmServer server) =>
        new(new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], new SocketsHttpHandler())) { BaseAddress = new Uri(server.BaseAddress, "v1/") };

    public static Task<HttpResponseMessage> PostChatAsync(HttpClient client, int maxTokens, string text = "How many tokens is this?")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "chat/completions")
        {
            Content = JsonContent.Create(new { model = "gpt-4o-mini", max_tokens = maxTokens, messages = new[] { new { role = "user", content = text } } }),
        };
        return client.SendAsync(request);
    }

    /// <summary>A chat client over a fake that reports <paramref name="input"/> (or the recorder's own estimate) and <paramref name="output"/> tokens.</summary>
    public static IChatClient Chat(TestRecorder t, long? input, long output, string model = "gpt-4o")
    {
        var inner = new TestChatClient
        {
            GetResponseAsyncCallback = (messages, options, _) =>
            {
                var reportedInput = input ?? t.Recorder.Estimator.CountMessages(messages, options, model).Tokens;
                return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok"))
                {
                    ModelId = model,
                    Usage = new UsageDetails { InputTokenCount = reportedInput, OutputTokenCount = output, TotalTokenCount = reportedInput + output },
                });
            },
        };
        inner.Metadata = new ChatClientMetadata("openai", new Uri("http://127.0.0.1/v1"), model);
        return new TokenMetricsChatClient(inner, t.Recorder);
    }

    /// <summary>The amount a counter holds in its current window.</summary>
    public static async Task<long> UsedAsync(TokenUsageRecorder recorder, string key, TimeSpan window) =>
        (await recorder.Budgets.Store.TryConsumeAsync(key, 0, long.MaxValue, window, CancellationToken.None)).Used;
}
