using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenAI;
using TokenMetrics.Internal;
using TokenMetrics.Testing;
using static TokenMetrics.Tests.Budgets.BudgetTestSupport;

namespace TokenMetrics.Tests.Budgets;

/// <summary>Budgets in process: pre-flight reservation on the handler (against the mock LLM server on 127.0.0.1) and on the chat
/// client, reconciliation, the synthetic 429, store outages, window rollover and runtime changes.</summary>
public sealed class BudgetTests : IAsyncLifetime
{
    private MockLlmServer _server = null!;

    public async Task InitializeAsync() => _server = await MockLlmServer.StartAsync(new MockLlmServerOptions { DefaultScenario = new MockScenario { CompletionTokens = 20 } });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Handler_PerMinuteBudget_HoldsWithinOneRequest_Under50ParallelCallers()
    {
        const long limit = 600;
        var clock = Clock();
        await using var t = Recorder(clock, new TokenUsageBudget { Name = "tpm", TokensPerMinute = limit });
        using var client = HttpClient(t, _server);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => PostChatAsync(client, maxTokens: 20))));
        foreach (var r in responses)
        {
            _ = await r.Content.ReadAsByteArrayAsync(); // the app reads every body: each call ends and is recorded
        }

        var records = await t.RecordsAsync(50);
        var ok = records.Where(r => r.Status == TokenUsageStatus.Ok).ToList();
        var rejected = records.Where(r => r.Status == TokenUsageStatus.Rejected).ToList();
        Assert.Equal(50, records.Count);
        Assert.Equal(responses.Count(r => r.StatusCode == HttpStatusCode.OK), ok.Count);
        Assert.Equal(responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests), rejected.Count);
        Assert.NotEmpty(ok);
        Assert.NotEmpty(rejected);
        Assert.Equal(ok.Count, _server.Requests.Count); // rejected calls never left the process

        // What the vendor billed for the admitted calls stays within the limit plus one request's tokens.
        var oneRequest = ok.Max(r => r.Usage.TotalTokenCount!.Value);
        Assert.InRange(ok.Sum(r => r.Usage.TotalTokenCount!.Value), 1, limit + oneRequest);
        Assert.All(rejected, r => Assert.True(r.Usage.IsEmpty));
        Assert.All(rejected, r => Assert.Equal(429, r.HttpStatusCode));
        var stats = t.Recorder.GetStatistics();
        Assert.Equal(ok.Count, stats.BudgetAllowed);
        Assert.Equal(rejected.Count, stats.BudgetRejected);
    }

    [Fact]
    public async Task ChatClient_PerMinuteBudget_HoldsWithinOneRequest_Under50ParallelCallers()
    {
        const long limit = 500;
        var clock = Clock();
        await using var t = Recorder(clock, new TokenUsageBudget { Name = "tpm", TokensPerMinute = limit });
        var chat = Chat(t, input: null, output: 20);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(async () =>
        {
            try
            {
                _ = await chat.GetResponseAsync($"Question number {i}: how many tokens?", new ChatOptions { MaxOutputTokens = 20 });
                return true;
            }
            catch (TokenBudgetExceededException ex)
            {
                Assert.Equal("tpm", ex.BudgetName);
                Assert.Equal("tokens_per_minute", ex.LimitName);
                Assert.Equal(limit, ex.Limit);
                Assert.InRange(ex.RetryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
                return false;
            }
        })));

        var records = await t.RecordsAsync(50);
        var ok = records.Where(r => r.Status == TokenUsageStatus.Ok).ToList();
        Assert.Equal(outcomes.Count(o => o), ok.Count);
        Assert.Equal(outcomes.Count(o => !o), records.Count(r => r.Status == TokenUsageStatus.Rejected));
        Assert.NotEmpty(ok);
        Assert.Contains(false, outcomes);
        var oneRequest = ok.Max(r => r.Usage.TotalTokenCount!.Value);
        Assert.InRange(ok.Sum(r => r.Usage.TotalTokenCount!.Value), 1, limit + oneRequest);
    }

    [Fact]
    public async Task CostPerDay_RejectsTheCallThatWouldCrossIt()
    {
        var price = TokenUsagePriceCatalog.Default.Resolve("gpt-4o")!.Entry.Price;
        var perCall = price.ComputeCost(new TokenUsage { InputTokenCount = 10, OutputTokenCount = 1000, TotalTokenCount = 1010 })!.Value;
        var clock = Clock();
        await using var t = Recorder(clock, new TokenUsageBudget { Name = "daily", CostPerDay = perCall * 2.5m });
        var chat = Chat(t, input: 10, output: 1000);
        var options = new ChatOptions { MaxOutputTokens = 1000 };

        _ = await chat.GetResponseAsync("first", options);
        _ = await t.RecordsAsync(1);
        _ = await chat.GetResponseAsync("second", options);
        _ = await t.RecordsAsync(2);
        var ex = await Assert.ThrowsAsync<TokenBudgetExceededException>(() => chat.GetResponseAsync("third", options));

        Assert.Equal("cost_per_day", ex.LimitName);
        Assert.Equal(perCall * 2.5m, ex.Limit, 6);
        Assert.InRange(ex.Remaining, 0m, perCall);
        var records = await t.RecordsAsync(3);
        Assert.Equal([TokenUsageStatus.Ok, TokenUsageStatus.Ok, TokenUsageStatus.Rejected], records.Select(r => r.Status));
        Assert.Equal(typeof(TokenBudgetExceededException).FullName, records[2].ErrorType);
        Assert.Equal(perCall * 2, records.Take(2).Sum(r => r.Cost!.Value));

        // The next day has a fresh window.
        clock.Advance(TimeSpan.FromDays(1));
        _ = await chat.GetResponseAsync("fourth", options);
    }

    [Fact]
    public async Task Reservation_IsReconciledWithTheReportedUsage()
    {
        var clock = Clock();
        await using var t = Recorder(clock, new TokenUsageBudget { Name = "b", TokensPerMinute = 100_000, CostPerDay = 100m });
        var chat = Chat(t, input: 40, output: 5);

        _ = await chat.GetResponseAsync("hello there", new ChatOptions { MaxOutputTokens = 5_000 });
        var record = Assert.Single(await t.RecordsAsync(1));

        // Reserved: the estimate + 5,000; after the record: what the vendor reported (45 tokens) and the record's cost.
        Assert.Equal(45, await UsedAsync(t.Recorder, "b:tpm:global:*", TimeSpan.FromMinutes(1)));
        Assert.Equal((long)Math.Ceiling(record.Cost!.Value * 1_000_000m), await UsedAsync(t.Recorder, "b:cpd:global:*", TimeSpan.FromDays(1)));
    }

    [Fact]
    public async Task Handler_429_CarriesOpenAIHeadersAndBody_AndNothingIsSent()
    {
        var clock = Clock(); // 10:00:10: the minute resets in 50 s
        await using var t = Recorder(clock, new TokenUsageBudget { Name = "tiny", TokensPerMinute = 5 });
        using var client = HttpClient(t, _server);

        using var response = await PostChatAsync(client, maxTokens: 20);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("50", Assert.Single(response.Headers.GetValues("retry-after")));
        Assert.Equal("5", Assert.Single(response.Headers.GetValues("x-ratelimit-limit-tokens")));
        Assert.Equal("5", Assert.Single(response.Headers.GetValues("x-ratelimit-remaining-tokens")));
        Assert.Equal("50s", Assert.Single(response.Headers.GetValues("x-ratelimit-reset-tokens")));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = body.RootElement.GetProperty("error");
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("tokens", error.GetProperty("type").GetString());
        Assert.Contains("tiny", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(_server.Requests);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Rejected, record.Status);
        Assert.Equal(TokenUsageSource.Missing, record.Source);
    }

    [Fact]
    public async Task Handler_429_IsTheOpenAISdksOwnRateLimitError()
    {
        await using var t = Recorder(Clock(), new TokenUsageBudget { Name = "tiny", TokensPerMinute = 5 });
        var sdk = new OpenAI.Chat.ChatClient("gpt-4o-mini", new ApiKeyCredential("sk-test"), new OpenAIClientOptions
        {
            Endpoint = new Uri(_server.BaseAddress, "v1"),
            Transport = new HttpClientPipelineTransport(new HttpClient(new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], new SocketsHttpHandler()))),
            RetryPolicy = new ClientRetryPolicy(0),
        });

        var ex = await Assert.ThrowsAsync<ClientResultException>(() => sdk.CompleteChatAsync("How many tokens is this?"));

        Assert.Equal(429, ex.Status);
        Assert.Contains("tiny", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task AnthropicShape_ErrorBodyAndHeaders()
    {
        var budget = new TokenUsageBudget { Name = "a", TokensPerMinute = 100 };
        var limit = new BudgetEnforcer.Limit(budget, "tokens_per_minute", 100, TimeSpan.FromMinutes(1), false, "a:tpm:global:", "a:tpm:global:*");
        var rejection = new BudgetRejection(budget, "*", "tokens_per_minute", limit, 7, TimeSpan.FromSeconds(12.5), anthropic: true);
        var now = new DateTimeOffset(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1/v1/messages");

        using var response = rejection.ToResponse(request, now);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("13", Assert.Single(response.Headers.GetValues("retry-after")));
        Assert.Equal("7", Assert.Single(response.Headers.GetValues("anthropic-ratelimit-tokens-remaining")));
        Assert.Equal("2026-12-05T10:00:12Z", Assert.Single(response.Headers.GetValues("anthropic-ratelimit-tokens-reset")));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("error", body.RootElement.GetProperty("type").GetString());
        Assert.Equal("rate_limit_error", body.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal("1h2m3s", BudgetRejection.OpenAIDuration(new TimeSpan(1, 2, 3)));
        Assert.Equal("20ms", BudgetRejection.OpenAIDuration(TimeSpan.FromMilliseconds(20)));
    }

    [Fact]
    public async Task Handler_ExceptionMode_ThrowsTheTypedException()
    {
        await using var t = Recorder(Clock(), new TokenUsageBudget { Name = "tiny", TokensPerMinute = 5, Rejection = TokenUsageBudgetRejection.Exception });
        using var client = HttpClient(t, _server);

        var ex = await Assert.ThrowsAsync<TokenBudgetExceededException>(() => PostChatAsync(client, maxTokens: 20));

        Assert.Equal("tiny", ex.BudgetName);
        Assert.Equal("*", ex.Subject);
        Assert.Equal(5, ex.Limit);
        Assert.Equal(TokenUsageStatus.Rejected, Assert.Single(await t.RecordsAsync(1)).Status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StoreDown_FailsOpen_NoExceptionIntoTheApp(bool hang)
    {
        await using var t = new TestRecorder(o =>
        {
            o.Budgets.Add(new TokenUsageBudget { Name = "b", TokensPerMinute = 1 });
            o.BudgetStoreTimeout = TimeSpan.FromMilliseconds(50);
        });
        var store = new BrokenBudgetStore(hang);
        t.Recorder.Budgets.UseStore(() => store);
        using var client = HttpClient(t, _server);

        using var response = await PostChatAsync(client, maxTokens: 20);
        _ = await response.Content.ReadAsByteArrayAsync();
        _ = await Chat(t, 10, 10).GetResponseAsync("hi");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, store.Calls);
        Assert.Equal(2, t.Recorder.GetStatistics().BudgetFailedOpen);
        Assert.All(await t.RecordsAsync(2), r => Assert.Equal(TokenUsageStatus.Ok, r.Status));
    }

    [Fact]
    public async Task StoreDown_FailsClosed_ByOption()
    {
        await using var t = new TestRecorder(o => o.Budgets.Add(new TokenUsageBudget { Name = "b", TokensPerMinute = 1000, FailClosed = true }));
        t.Recorder.Budgets.UseStore(() => new BrokenBudgetStore(hang: false));
        using var client = HttpClient(t, _server);

        using var response = await PostChatAsync(client, maxTokens: 20);
        var ex = await Assert.ThrowsAsync<TokenBudgetExceededException>(() => Chat(t, 10, 10).GetResponseAsync("hi"));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("store_unavailable", ex.LimitName);
        Assert.Equal(2, t.Recorder.GetStatistics().BudgetFailedClosed);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task Store_FixedWindow_RollsOverWithTheClock_AndDropsPastWindows()
    {
        var clock = Clock();
        var store = new TokenUsageInProcessBudgetStore(clock);
        var minute = TimeSpan.FromMinutes(1);

        Assert.True((await store.TryConsumeAsync("k", 60, 100, minute, default)).Allowed);
        var refused = await store.TryConsumeAsync("k", 50, 100, minute, default);
        Assert.False(refused.Allowed);
        Assert.Equal(40, refused.Remaining);
        Assert.Equal(TimeSpan.FromSeconds(50), refused.ResetAfter);
        await store.AddAsync("k", -30, minute, default); // reconciliation gives back
        Assert.True((await store.TryConsumeAsync("k", 50, 100, minute, default)).Allowed);
        _ = await store.TryConsumeAsync("other", 1, 100, minute, default);

        clock.Advance(TimeSpan.FromSeconds(50)); // 10:01:00, a new window
        var next = await store.TryConsumeAsync("k", 100, 100, minute, default);
        Assert.True(next.Allowed);
        Assert.Equal(100, next.Used);

        clock.Advance(TimeSpan.FromMinutes(2)); // the sweep drops every counter of a past window
        _ = await store.TryConsumeAsync("fresh", 1, 100, minute, default);
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public async Task Store_IsAtomic_Under50ParallelCallers()
    {
        var store = new TokenUsageInProcessBudgetStore(Clock());
        var allowed = 0;
        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 100; i++)
            {
                if ((await store.TryConsumeAsync("k", 7, 1000, TimeSpan.FromMinutes(1), default)).Allowed)
                {
                    _ = Interlocked.Increment(ref allowed);
                }
            }
        })));

        Assert.Equal(1000 / 7, allowed);
    }

    [Fact]
    public async Task SettingsChange_AppliesOnTheNextCall_AndInvalidBudgetsAreRefused()
    {
        await using var t = new TestRecorder();
        using var settings = new TokenMetricsSettingsService(t.Recorder);
        var chat = Chat(t, 10, 10);
        _ = await chat.GetResponseAsync("no budget yet");

        var refused = settings.Update(s => s with { Budgets = [new TokenUsageBudget { Name = "bad:name" }] });
        Assert.False(refused.Succeeded);
        Assert.Contains(refused.Errors, e => e.Contains("sets no limit", StringComparison.Ordinal));
        Assert.Contains(refused.Errors, e => e.Contains("without ':'", StringComparison.Ordinal));

        Assert.True(settings.Update(s => s with { Budgets = [new TokenUsageBudget { Name = "tiny", TokensPerDay = 1 }] }, "test").Succeeded);
        _ = await Assert.ThrowsAsync<TokenBudgetExceededException>(() => chat.GetResponseAsync("now over budget", new ChatOptions { MaxOutputTokens = 10 }));

        Assert.True(settings.Update(s => s with { Budgets = null }).Succeeded);
        _ = await chat.GetResponseAsync("budget gone");
    }

    [Fact]
    public async Task Subjects_CountPerUserAndModel_AndSkipCallsWithoutTheSubject()
    {
        await using var t = Recorder(Clock(), new TokenUsageBudget { Name = "per-user", Subject = TokenUsageBudgetSubject.User, TokensPerMinute = 100 });
        var chat = Chat(t, 10, 10);
        var alice = new ChatOptions { MaxOutputTokens = 80, AdditionalProperties = new() { ["tokenmetrics.user_id"] = "alice" } };

        _ = await chat.GetResponseAsync("x", alice);
        _ = await t.RecordsAsync(1);
        var ex = await Assert.ThrowsAsync<TokenBudgetExceededException>(() => chat.GetResponseAsync("x", alice));
        Assert.Equal("alice", ex.Subject);
        _ = await chat.GetResponseAsync("x", new ChatOptions { MaxOutputTokens = 80, AdditionalProperties = new() { ["tokenmetrics.user_id"] = "bob" } });
        _ = await chat.GetResponseAsync("x", new ChatOptions { MaxOutputTokens = 500 }); // no user: not counted
    }

    [Fact]
    public async Task ApiKeySubject_IsAHashPrefix_NeverTheKey()
    {
        await using var t = Recorder(Clock(), new TokenUsageBudget { Name = "per-key", Subject = TokenUsageBudgetSubject.ApiKey, TokensPerMinute = 5, Rejection = TokenUsageBudgetRejection.Exception });
        using var client = HttpClient(t, _server);
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "sk-very-secret");

        var ex = await Assert.ThrowsAsync<TokenBudgetExceededException>(() => PostChatAsync(client, maxTokens: 20));

        Assert.StartsWith("key:", ex.Subject, StringComparison.Ordinal);
        Assert.Equal(20, ex.Subject.Length);
        Assert.DoesNotContain("secret", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_BindFromConfiguration_AndAreValidatedAtStartUp()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TokenMetrics:Budgets:0:Name"] = "team",
            ["TokenMetrics:Budgets:0:Subject"] = "Tag",
            ["TokenMetrics:Budgets:0:TagName"] = "team",
            ["TokenMetrics:Budgets:0:TokensPerMinute"] = "1000",
            ["TokenMetrics:Budgets:0:CostPerMonth"] = "12.5",
            ["TokenMetrics:Budgets:0:FailClosed"] = "true",
        }).Build();
        var services = new ServiceCollection();
        _ = services.AddTokenMetrics(configuration.GetSection("TokenMetrics"));
        using var provider = services.BuildServiceProvider();

        var budget = Assert.Single(provider.GetRequiredService<IOptions<TokenMetricsOptions>>().Value.Budgets);
        Assert.Equal(new TokenUsageBudget { Name = "team", Subject = TokenUsageBudgetSubject.Tag, TagName = "team", TokensPerMinute = 1000, CostPerMonth = 12.5m, FailClosed = true }, budget);
        Assert.Equal(budget, Assert.Single(provider.GetRequiredService<TokenUsageRecorder>().Settings.Budgets!));
        Assert.IsType<TokenUsageInProcessBudgetStore>(provider.GetRequiredService<ITokenUsageBudgetStore>());

        var bad = new TokenMetricsOptions();
        bad.Budgets.Add(new TokenUsageBudget { Name = "t", Subject = TokenUsageBudgetSubject.Tag, TokensPerMinute = -1 });
        var error = Assert.Throws<System.ComponentModel.DataAnnotations.ValidationException>(() => new TokenUsageRecorder(bad, []));
        Assert.Contains("TagName", error.Message, StringComparison.Ordinal);
        Assert.Contains("TokensPerMinute", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UseBudgetStore_ReplacesTheStore()
    {
        var services = new ServiceCollection();
        _ = services.AddTokenMetrics().UseBudgetStore(_ => new BrokenBudgetStore(hang: false));
        using var provider = services.BuildServiceProvider();

        Assert.IsType<BrokenBudgetStore>(provider.GetRequiredService<ITokenUsageBudgetStore>());
        Assert.IsType<BrokenBudgetStore>(provider.GetRequiredService<TokenUsageRecorder>().Budgets.Store);
    }

    [Fact]
    public async Task ChatClient_Streaming_RejectedBeforeTheFirstUpdate()
    {
        await using var t = Recorder(Clock(), new TokenUsageBudget { Name = "tiny", TokensPerMinute = 5 });
        var inner = new TestHelpers.TestChatClient
        {
            GetStreamingResponseAsyncCallback = (_, _, ct) => TestHelpers.TestChatClient.Yield([new ChatResponseUpdate(ChatRole.Assistant, "never")], ct),
        };
        var chat = new TokenMetricsChatClient(inner, t.Recorder);
        var seen = 0;

        _ = await Assert.ThrowsAsync<TokenBudgetExceededException>(async () =>
        {
            await foreach (var _ in chat.GetStreamingResponseAsync("a question longer than five tokens, surely", new ChatOptions { MaxOutputTokens = 10 }))
            {
                seen++;
            }
        });

        Assert.Equal(0, seen);
        Assert.Equal(TokenUsageStatus.Rejected, Assert.Single(await t.RecordsAsync(1)).Status);
    }

    [Fact]
    public async Task Metrics_ChecksByOutcome_AndRemainingPerBudget()
    {
        await using var t = Recorder(Clock(), new TokenUsageBudget { Name = "b", TokensPerMinute = 100 });
        var chat = Chat(t, 10, 10);
        _ = await chat.GetResponseAsync("x", new ChatOptions { MaxOutputTokens = 10 });
        _ = await Assert.ThrowsAsync<TokenBudgetExceededException>(() => chat.GetResponseAsync("x", new ChatOptions { MaxOutputTokens = 1000 }));
        _ = await t.RecordsAsync(2);

        var checks = new Dictionary<string, long>();
        var remaining = new Dictionary<string, double>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == t.Recorder.Meter && instrument.Name.StartsWith("tokenmetrics.budget.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) => checks[(string)tags[0].Value!] = value);
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) => remaining[(string)tags[0].Value! + "/" + (string)tags[1].Value!] = value);
        listener.Start();
        listener.RecordObservableInstruments();

        Assert.Equal(1, checks["allowed"]);
        Assert.Equal(1, checks["rejected"]);
        Assert.Equal(0, checks["failed_open"]);
        var left = remaining["b/tokens_per_minute"];
        Assert.InRange(left, 1, 99);
        Assert.Single(remaining); // labelled by budget and limit only, never by subject
    }
}
