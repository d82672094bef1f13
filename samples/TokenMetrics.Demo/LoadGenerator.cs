using System.ClientModel;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Hosting;
using OpenAI.Chat;
using OpenAI.Embeddings;
using TokenMetrics.Testing;

namespace TokenMetrics.Demo;

/// <summary>A background load through the real SDKs against the mock server: eight users of three tenants in sessions of one to
/// eight rounds, on OpenAI, Anthropic, Gemini, DashScope (Qwen) and DeepSeek, streamed and not, with Microsoft.Extensions.AI
/// tool loops, an agent gateway's header-attributed calls, and now and then an abandoned stream or a 429. A first burst fills
/// the dashboard; then about <see cref="DemoOptions.Rate"/> calls a second, jittered, so a laptop stays idle-ish.</summary>
internal sealed class LoadGenerator(IHttpClientFactory factory, IServiceProvider services, MockLlmServer mock, DemoOptions options, TokenUsageRecorder recorder)
    : BackgroundService
{
    /// <summary>The calls of the first burst, made back to back with short mock latencies.</summary>
    public const int BurstCalls = 60;

    private const int Workers = 4;

    private static readonly Dictionary<string, string> LiveTags = new() { ["demo"] = "live" };

    private static readonly AIFunction[] Tools =
    [
        AIFunctionFactory.Create((string city) => $"Sunny and 21 °C in {city}.", "get_weather", "The current weather in a city."),
        AIFunctionFactory.Create((string query, int limit) => $"{limit} documents about '{query}'.", "search_docs", "Searches the team's documents."),
    ];

    private static readonly string[] Questions =
    [
        "Why was my invoice higher this month?",
        "Summarise the attached incident report in three bullet points.",
        "Review this pull request for thread-safety issues.",
        "Compare the two vendor proposals on price and support.",
        "Draft a friendly reply to this customer.",
        "Which of our services calls the payment API most?",
        "Explain this stack trace.",
        "Translate the release notes into German.",
    ];

    private readonly TaskCompletionSource _go = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _slots = new(0, Workers);
    private long _started;
    private long _completed;
    private long _failed;
    private long _unexpected;

    /// <summary>Gets a line about what the load did.</summary>
    public string Summary => string.Create(CultureInfo.InvariantCulture,
        $"Load: {Interlocked.Read(ref _completed)} calls, {Interlocked.Read(ref _failed)} failed on purpose (429s), {Interlocked.Read(ref _unexpected)} unexpected errors.");

    /// <summary>Starts the load (after the demo has printed its address lines, so they come first).</summary>
    public void Begin() => _go.TrySetResult();

    /// <inheritdoc />
    public override void Dispose()
    {
        _slots.Dispose();
        base.Dispose();
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await _go.Task.WaitAsync(stoppingToken);
            var workers = Enumerable.Range(0, Workers).Select(_ => Task.Run(() => WorkAsync(new Random(), stoppingToken), stoppingToken)).ToArray();
            while (Interlocked.Read(ref _completed) + Interlocked.Read(ref _failed) + Interlocked.Read(ref _unexpected) < BurstCalls)
            {
                await Task.Delay(50, stoppingToken);
            }

            await recorder.FlushAsync(TimeSpan.FromSeconds(10), stoppingToken);
            Console.WriteLine($"Load: first burst of {BurstCalls} calls stored; " + (options.Rate > 0
                ? $"now about {options.Rate.ToString("0.##", CultureInfo.InvariantCulture)} calls/s."
                : "no more calls (--rate 0)."));

            var random = new Random();
            while (options.Rate > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds((0.6 + (0.8 * random.NextDouble())) / options.Rate), stoppingToken);
                if (_slots.CurrentCount < Workers)
                {
                    _slots.Release();
                }
            }

            await Task.WhenAll(workers);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Ctrl+C or SIGTERM: the workers end with the same token.
        }
    }

    private async Task WorkAsync(Random random, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var user = random.Pick(DemoCast.Users);
                var session = DemoCast.NewSessionId(random, user);
                var kind = random.NextDouble();
                if (kind < 0.15)
                {
                    await GatewaySessionAsync(random, user, session, cancellationToken);
                }
                else if (kind < (user.Feature == "research-agent" ? 0.7 : 0.35))
                {
                    await AgentSessionAsync(random, user, session, cancellationToken);
                }
                else
                {
                    await ChatSessionAsync(random, user, session, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Waits for the next call's turn; returns whether it is part of the first burst (fast mock answers).</summary>
    private async Task<bool> NextCallAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _started) <= BurstCalls)
        {
            return true;
        }

        if (options.Rate <= 0)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        await _slots.WaitAsync(cancellationToken);
        return false;
    }

    /// <summary>Runs one call, counting how it ended; the app-side exceptions a real app would handle are expected here.</summary>
    private async Task CallAsync(Func<Task> call, CancellationToken cancellationToken)
    {
        try
        {
            await call();
            Interlocked.Increment(ref _completed);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (ClientResultException ex) when (ex.Status == 429)
        {
            Interlocked.Increment(ref _failed);
        }
        catch (Exception ex) when (ex is ClientResultException or HttpRequestException or InvalidOperationException or JsonException)
        {
            if (Interlocked.Increment(ref _unexpected) == 1)
            {
                Console.Error.WriteLine($"Load: unexpected {ex.GetType().Name}: {ex.Message} (later ones are only counted)");
            }
        }
    }

    private static IDisposable Attribute(DemoUser user, string session) => TokenMetricsScope.Begin(new TokenUsageAttribution
    {
        UserId = user.Id,
        Consumer = user.Consumer,
        SessionId = session,
        Feature = user.Feature,
        Tags = LiveTags,
    });

    /// <summary>A chat with the OpenAI SDK on one of the user's routes: streamed or not, the history growing each round.</summary>
    private async Task ChatSessionAsync(Random random, DemoUser user, string session, CancellationToken cancellationToken)
    {
        var route = random.Pick(user.Routes);
        using var scope = Attribute(user, session);
        List<OpenAI.Chat.ChatMessage> history = [new SystemChatMessage("You are the support assistant of " + user.Consumer + ".")];
        var rounds = random.Next(1, 9);
        for (var round = 0; round < rounds; round++)
        {
            var fast = await NextCallAsync(cancellationToken);
            history.Add(new UserChatMessage(random.Pick(Questions)));
            var roll = random.NextDouble();
            await CallAsync(async () =>
            {
                if (random.NextDouble() < 0.1)
                {
                    // Retrieval first now and then: an embeddings call of the same session.
                    using var search = MockDirector.Use(Plan(random, route, round, fast));
                    _ = await new EmbeddingClient("text-embedding-3-small", DemoMetering.Key, Sdk("openai", DemoMetering.OpenAIEndpoint(mock.BaseAddress)))
                        .GenerateEmbeddingAsync(history[^1].Content[0].Text, cancellationToken: cancellationToken);
                }

                var chat = new ChatClient(route.SdkModel, DemoMetering.Key, Sdk(route));
                if (roll < 0.03)
                {
                    // The user closes the tab mid-answer: the stream is abandoned, the record says cancelled, usage estimated.
                    using var plan = MockDirector.Use(Plan(random, route, round, fast, chunks: 40));
                    var seen = 0;
                    await foreach (var _ in chat.CompleteChatStreamingAsync(history, cancellationToken: cancellationToken))
                    {
                        if (++seen == 3)
                        {
                            break;
                        }
                    }

                    return;
                }

                // A rate limit now and then: the SDK raises its 429 (no retries here), the record says error, no guessed usage.
                using var mockPlan = MockDirector.Use(Plan(random, route, round, fast, status: roll < 0.05 ? 429 : null));
                if (random.NextDouble() < 0.6)
                {
                    var answer = new StringBuilder();
                    await foreach (var update in chat.CompleteChatStreamingAsync(history, cancellationToken: cancellationToken))
                    {
                        foreach (var part in update.ContentUpdate)
                        {
                            answer.Append(part.Text);
                        }
                    }

                    history.Add(new AssistantChatMessage(answer.ToString()));
                }
                else
                {
                    history.Add(new AssistantChatMessage((await chat.CompleteChatAsync(history, cancellationToken: cancellationToken)).Value));
                }
            }, cancellationToken);
        }
    }

    /// <summary>An agent on Microsoft.Extensions.AI: the OpenAI SDK's IChatClient with a function-invoking tool loop, metered
    /// inside the loop (one record per round, one operation per turn), every turn in the same session.</summary>
    private async Task AgentSessionAsync(Random random, DemoUser user, string session, CancellationToken cancellationToken)
    {
        var route = random.Pick(DemoCast.AgentRoutes);
        using var scope = Attribute(user, session);
        using var agent = new ChatClient(route.SdkModel, DemoMetering.Key, Sdk(route)).AsIChatClient()
            .AsBuilder()
            .UseFunctionInvocation()
            .UseTokenMetrics(configure: c => c.ClientName = "research-agent")
            .Build(services);
        var chatOptions = new ChatOptions { Tools = [.. Tools] };
        List<Microsoft.Extensions.AI.ChatMessage> history = [new(ChatRole.System, "You are a research agent. Use the tools.")];
        var turns = random.Next(1, 5);
        for (var turn = 0; turn < turns; turn++)
        {
            var fast = await NextCallAsync(cancellationToken);
            history.Add(new(ChatRole.User, random.Pick(Questions)));
            var plan = Plan(random, route, turn, fast);
            plan.ToolRounds = random.Next(1, 4);
            await CallAsync(async () =>
            {
                using var mockPlan = MockDirector.Use(plan);
                var response = random.NextDouble() < 0.5
                    ? await agent.GetResponseAsync(history, chatOptions, cancellationToken)
                    : await agent.GetStreamingResponseAsync(history, chatOptions, cancellationToken).ToChatResponseAsync(cancellationToken);
                history.AddRange(response.Messages);
            }, cancellationToken);
        }
    }

    /// <summary>An agent gateway's calls over raw HTTP: no code attribution, only its session and consumer headers
    /// (x-agent-session is one of the default session headers, x-mse-consumer the consumer header).</summary>
    private async Task GatewaySessionAsync(Random random, DemoUser user, string session, CancellationToken cancellationToken)
    {
        using var scope = TokenMetricsScope.Begin(new TokenUsageAttribution { Feature = "gateway", Tags = LiveTags });
        using var http = factory.CreateClient("gateway");
        var rounds = random.Next(1, 6);
        for (var round = 0; round < rounds; round++)
        {
            var fast = await NextCallAsync(cancellationToken);
            var responses = random.NextDouble() < 0.5;
            var model = random.NextDouble() < 0.7 ? "gpt-4o-mini" : "gpt-4.1";
            var streaming = random.NextDouble() < 0.5;
            var text = JsonSerializer.Serialize(random.Pick(Questions));
            var body = responses
                ? $$"""{"model":"{{model}}","input":{{text}},"stream":{{(streaming ? "true" : "false")}}}"""
                : $$"""{"model":"{{model}}","messages":[{"role":"user","content":{{text}}}],"stream":{{(streaming ? "true" : "false")}}}""";
            await CallAsync(async () =>
            {
                using var mockPlan = MockDirector.Use(Plan(random, DemoCast.Gpt4oMini, round, fast));
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(mock.BaseAddress, responses ? "v1/responses" : "v1/chat/completions"))
                {
                    Content = new StringContent(body, Encoding.UTF8, "application/json"),
                };
                request.Headers.Add("x-agent-session", session);
                request.Headers.Add("x-mse-consumer", user.Consumer);
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                _ = await response.Content.ReadAsStringAsync(cancellationToken);
            }, cancellationToken);
        }
    }

    /// <summary>What the mock answers: token counts that grow with the conversation, cache hits on later rounds, reasoning on
    /// reasoning models, and a latency (short during the first burst).</summary>
    private static MockPlan Plan(Random random, DemoRoute route, int round, bool fast, int? status = null, int? chunks = null)
    {
        var input = 300 + random.Next(1200) + (round * 450);
        var reasoning = route.Reasoning ? 200 + random.Next(1800) : 0;
        return new MockPlan
        {
            PromptTokens = input,
            CompletionTokens = 60 + random.Next(700) + reasoning,
            ReasoningTokens = route.Reasoning ? reasoning : null,
            CachedTokens = round > 0 && route.Provider is "openai" or "anthropic" or "deepseek" ? input * random.Next(40, 80) / 100 : 0,
            ResponseDelayMs = fast ? random.Next(5, 40) : random.Next(150, 900),
            ChunkDelayMs = fast ? 1 : random.Next(8, 40),
            Status = status,
            Chunks = chunks,
        };
    }

    private OpenAI.OpenAIClientOptions Sdk(DemoRoute route) => route.Provider == "deepseek"
        ? Sdk("deepseek", DemoMetering.DeepSeekEndpoint(mock.BaseAddress))
        : Sdk(route.Client, DemoMetering.OpenAIEndpoint(mock.BaseAddress));

    // No SDK retries: a 429 is shown once, as one record, instead of four (every attempt may be billed, so each is recorded).
    private OpenAI.OpenAIClientOptions Sdk(string client, Uri endpoint) => DemoMetering.Sdk(factory, client, endpoint, maxRetries: 0);
}
