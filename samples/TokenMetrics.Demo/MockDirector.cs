using System.Globalization;
using TokenMetrics.Testing;

namespace TokenMetrics.Demo;

/// <summary>How the mock LLM server should answer the calls of the current flow: token counts, latency, a failure, tool calls.
/// Set with <see cref="MockDirector.Use"/>; the load generator gives every call its own plan so the dashboard shows a spread.</summary>
internal sealed class MockPlan
{
    public int? PromptTokens { get; init; }

    public int? CompletionTokens { get; init; }

    public int? CachedTokens { get; init; }

    public int? ReasoningTokens { get; init; }

    public int? Chunks { get; init; }

    public int ResponseDelayMs { get; init; }

    public int ChunkDelayMs { get; init; }

    /// <summary>An HTTP status the mock answers with instead (429: rate limited).</summary>
    public int? Status { get; init; }

    /// <summary>How many of the next requests answer with tool calls (a function-invoking loop's rounds); counts down.</summary>
    public int ToolRounds { get; set; }

    /// <summary>The requests made under this plan so far: later rounds of a tool loop send the earlier ones as context.</summary>
    public int Requests { get; set; }
}

/// <summary>The innermost handler of the demo's HttpClients (after TokenMetrics, so after any rewrite): turns the flow's
/// <see cref="MockPlan"/> into the mock server's <c>x-mock-*</c> request headers. Only the mock reads them; a real backend
/// would never see this handler.</summary>
internal sealed class MockDirector : DelegatingHandler
{
    private static readonly AsyncLocal<MockPlan?> Current = new();

    /// <summary>Makes <paramref name="plan"/> the plan of the calls in this async flow until the returned scope ends.</summary>
    public static IDisposable Use(MockPlan plan)
    {
        var previous = Current.Value;
        Current.Value = plan;
        return new Restore(previous);
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (Current.Value is { } plan)
        {
            // Round n of a tool loop carries the earlier rounds (about 220 tokens each, the last one's prefix cached); a
            // tool-call answer is short.
            var round = plan.Requests++;
            var toolCall = plan.ToolRounds > 0;
            var headers = request.Headers;
            Add(headers, MockHeaders.PromptTokens, plan.PromptTokens + (round * 220));
            Add(headers, MockHeaders.CompletionTokens, toolCall ? 24 + (round * 7) : plan.CompletionTokens);
            Add(headers, MockHeaders.CachedTokens, round > 0 && plan.CachedTokens is not null ? plan.CachedTokens + ((round - 1) * 220) : plan.CachedTokens);
            Add(headers, MockHeaders.ReasoningTokens, plan.ReasoningTokens);
            Add(headers, MockHeaders.Chunks, plan.Chunks);
            Add(headers, MockHeaders.ResponseDelayMs, plan.ResponseDelayMs);
            Add(headers, MockHeaders.ChunkDelayMs, plan.ChunkDelayMs);
            Add(headers, MockHeaders.Status, plan.Status);
            if (toolCall)
            {
                plan.ToolRounds--;
                headers.TryAddWithoutValidation(MockHeaders.ToolCalls, "true");
            }
        }

        return base.SendAsync(request, cancellationToken);
    }

    private static void Add(System.Net.Http.Headers.HttpRequestHeaders headers, string name, int? value)
    {
        if (value is { } v)
        {
            headers.TryAddWithoutValidation(name, v.ToString(CultureInfo.InvariantCulture));
        }
    }

    private sealed class Restore(MockPlan? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}
