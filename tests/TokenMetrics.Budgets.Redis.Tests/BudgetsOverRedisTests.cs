using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using TokenMetrics.Testing;

namespace TokenMetrics.Budgets.Redis.Tests;

/// <summary>The whole path as an app runs it: budgets configured on <c>AddTokenMetrics()</c>, counters in Redis through
/// <c>AddRedisBudgetStore()</c>, calls through a metered <c>HttpClient</c> from the factory to the mock LLM server.</summary>
public sealed class BudgetsOverRedisTests : IAsyncLifetime
{
    private MockLlmServer _llm = null!;

    public async Task InitializeAsync() => _llm = await MockLlmServer.StartAsync(new MockLlmServerOptions { DefaultScenario = new MockScenario { CompletionTokens = 20 } });

    public async Task DisposeAsync() => await _llm.DisposeAsync();

    [Fact]
    public async Task PerMinuteBudget_SharedByTwoInstances_HoldsWithinOneRequest_Under50ParallelCallers()
    {
        const long limit = 800;
        await using var redis = await RedisTestServer.StartAsync();
        await WaitForAMinuteWithRoomAsync(); // one fixed window for the whole test

        // Two app instances (two service providers, two recorders) sharing one budget through one Redis.
        var budget = new TokenUsageBudget { Name = "shared-tpm", TokensPerMinute = limit };
        await using var a = Instance(redis, budget);
        await using var b = Instance(redis, budget);
        var clients = new[] { a.Client, b.Client };
        await a.WaitUntilConnectedAsync(); // a store still connecting fails open (by design): not what this test measures
        await b.WaitUntilConnectedAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(async () =>
        {
            using var response = await PostChatAsync(clients[i % 2], $"Caller {i}: how many tokens is this?");
            _ = await response.Content.ReadAsByteArrayAsync();
            return response.StatusCode;
        })));

        var records = (await a.RecordsAsync()).Concat(await b.RecordsAsync()).ToList();
        var ok = records.Where(r => r.Status == TokenUsageStatus.Ok).ToList();
        Assert.Equal(50, records.Count);
        Assert.Equal(responses.Count(s => s == HttpStatusCode.OK), ok.Count);
        Assert.Equal(responses.Count(s => s == HttpStatusCode.TooManyRequests), records.Count(r => r.Status == TokenUsageStatus.Rejected));
        Assert.NotEmpty(ok);
        Assert.Contains(HttpStatusCode.TooManyRequests, responses);
        Assert.All(responses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, s.ToString()));
        Assert.Equal(25, a.Recorder.GetStatistics().BudgetAllowed + a.Recorder.GetStatistics().BudgetRejected); // both instances checked
        Assert.Equal(25, b.Recorder.GetStatistics().BudgetAllowed + b.Recorder.GetStatistics().BudgetRejected);

        // What the vendor billed across both instances stays within the limit plus one request's tokens (with counters per
        // instance, each would admit up to the limit: about twice as much).
        var oneRequest = ok.Max(r => r.Usage.TotalTokenCount!.Value);
        Assert.InRange(ok.Sum(r => r.Usage.TotalTokenCount!.Value), 1, limit + oneRequest);
        Assert.Equal(0, a.Recorder.GetStatistics().BudgetFailedOpen + b.Recorder.GetStatistics().BudgetFailedOpen);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RedisKilledMidRun_FailsOpenByDefault_ClosedByOption_WithoutExceptionsIntoTheApp(bool failClosed)
    {
        await using var redis = await RedisTestServer.StartAsync();
        await using var app = Instance(redis, new TokenUsageBudget { Name = "tpd", TokensPerDay = 1_000_000, FailClosed = failClosed });

        // The store connects in the background: until it has, a fail-closed budget refuses. Wait for the first admitted call.
        var warmUp = 0;
        for (var admitted = false; !admitted && warmUp < 100; warmUp++)
        {
            using var first = await PostChatAsync(app.Client, "Before the outage.");
            _ = await first.Content.ReadAsByteArrayAsync();
            admitted = first.StatusCode == HttpStatusCode.OK;
            if (!admitted)
            {
                await Task.Delay(100);
            }
        }

        var before = app.Recorder.GetStatistics();
        var sentBefore = _llm.Requests.Count;
        Assert.Equal(1, sentBefore);

        redis.Kill();
        for (var i = 0; i < 3; i++)
        {
            using var response = await PostChatAsync(app.Client, $"During the outage, call {i}.");
            _ = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(failClosed ? HttpStatusCode.TooManyRequests : HttpStatusCode.OK, response.StatusCode);
        }

        var stats = app.Recorder.GetStatistics();
        Assert.Equal(failClosed ? 0 : 3, stats.BudgetAllowed - before.BudgetAllowed); // calls that went out, failed-open ones included
        Assert.Equal(failClosed ? 0 : 3, stats.BudgetFailedOpen - before.BudgetFailedOpen);
        Assert.Equal(failClosed ? 3 : 0, stats.BudgetFailedClosed - before.BudgetFailedClosed);
        Assert.Equal(failClosed ? 1 : 4, _llm.Requests.Count);
        var records = await app.RecordsAsync();
        Assert.Equal(warmUp + 3, records.Count);
        Assert.Equal(failClosed ? 3 : 0, records.Skip(warmUp).Count(r => r.Status == TokenUsageStatus.Rejected));
    }

    private static async Task WaitForAMinuteWithRoomAsync()
    {
        // Redis' clock and ours are the same machine's: start early in a minute so the run stays in one window.
        var second = DateTimeOffset.UtcNow.Second;
        if (second > 40)
        {
            await Task.Delay(TimeSpan.FromSeconds(61 - second));
        }
    }

    private static Task<HttpResponseMessage> PostChatAsync(HttpClient client, string text) =>
        client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "chat/completions")
        {
            Content = JsonContent.Create(new { model = "gpt-4o-mini", max_tokens = 20, messages = new[] { new { role = "user", content = text } } }),
        });

    private AppInstance Instance(RedisTestServer redis, TokenUsageBudget budget) => new(_llm, redis, budget, name: Interlocked.Increment(ref s_instances) % 2 == 1 ? "a" : "b");

    private static int s_instances;

    private sealed class AppInstance : IAsyncDisposable
    {
        private readonly ServiceProvider _services;
        private readonly InMemoryTokenUsageExporter _records = new();

        public AppInstance(MockLlmServer llm, RedisTestServer redis, TokenUsageBudget budget, string name)
        {
            var services = new ServiceCollection();
            services.AddTokenMetrics(o =>
                {
                    o.Budgets.Add(new TokenUsageBudget { Name = budget.Name, TokensPerMinute = budget.TokensPerMinute, TokensPerDay = budget.TokensPerDay, FailClosed = budget.FailClosed });
                    o.BudgetStoreTimeout = TimeSpan.FromSeconds(2);
                })
                .AddOpenAI()
                .AddExporter(_records)
                .AddRedisBudgetStore(r =>
                {
                    r.ConnectionString = redis.ConnectionString;
                    r.OperationTimeout = TimeSpan.FromMilliseconds(500);
                });
            services.AddHttpClient(name, c => c.BaseAddress = new Uri(llm.BaseAddress, "v1/")).AddTokenMetricsHandler();
            _services = services.BuildServiceProvider();
            Recorder = _services.GetRequiredService<TokenUsageRecorder>();
            Client = _services.GetRequiredService<IHttpClientFactory>().CreateClient(name);
        }

        public TokenUsageRecorder Recorder { get; }

        public async Task WaitUntilConnectedAsync()
        {
            var store = _services.GetRequiredService<ITokenUsageBudgetStore>();
            Assert.IsType<RedisTokenUsageBudgetStore>(store);
            for (var i = 0; i < 200; i++)
            {
                try
                {
                    _ = await store.TryConsumeAsync("warm-up", 0, 1, TimeSpan.FromSeconds(1), CancellationToken.None);
                    return;
                }
                catch (RedisBudgetStoreException)
                {
                    await Task.Delay(50);
                }
            }

            Assert.Fail("the store never reached Redis");
        }

        public HttpClient Client { get; }

        public async Task<IReadOnlyList<TokenUsageRecord>> RecordsAsync()
        {
            _ = await Recorder.FlushAsync(TimeSpan.FromSeconds(30));
            return _records.Records;
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await _services.DisposeAsync();
        }
    }
}
