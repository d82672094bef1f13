using Microsoft.Data.Sqlite;
using TokenMetrics.Cli;
using TokenMetrics.Storage.Sqlite;

namespace TokenMetrics.Cli.Tests.Report;

/// <summary>A SQLite store written with <see cref="SqliteTokenUsageStore.WriteAsync"/>: a few hundred records over six days with
/// several models, providers, users, consumers, features, sessions and currencies, unpriced, estimated and missing-usage calls,
/// captured content with tool calls, and hostile names (markup, control characters, spreadsheet formula triggers).</summary>
public sealed class GeneratedStore : IAsyncLifetime
{
    /// <summary>Names a spreadsheet would run as a formula, or that break naive CSV.</summary>
    public static readonly string[] InjectionCorpus =
    [
        "=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\tTAB", "\rCR", "\0NUL", "a,b", "say \"hi\"", "multi\nline",
    ];

    public const string HostileModel = "[red]evil[/] \u001b[31mred";
    public const string HostileSession = "sess-[bold]x[/]\u0007-\u001b[2J";
    public const string LongSession = "session-with-a-very-long-identifier-that-the-table-must-truncate-0001";

    public static readonly DateTimeOffset Start = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    public static readonly DateTimeOffset End = Start.AddDays(7);

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tm-cli-report-" + Guid.NewGuid().ToString("N"));

    public string Path0 => System.IO.Path.Combine(_dir, "usage.db");

    public string Spec => "sqlite:" + Path0;

    public string From => "2026-03-01";

    public string To => "2026-03-08";

    public List<TokenUsageRecord> Records { get; } = [];

    public SqliteTokenUsageStore Store { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        var random = new Random(15);
        string[] models = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "gemini-2.5-pro", "qwen-max", HostileModel, .. InjectionCorpus[..4]];
        string[] providers = ["openai", "anthropic", "gcp.gemini", "dashscope"];
        string?[] users = ["alice", "bob", "carol", "dave", null, .. InjectionCorpus];
        string?[] consumers = ["web", "batch", null];
        string?[] features = ["chat", "search", "summarize", null];
        var sessions = Enumerable.Range(1, 25).Select(i => $"s-{i:D3}").Append(HostileSession).Append(LongSession).ToArray();
        for (var i = 0; i < 360; i++)
        {
            var model = models[i < models.Length ? i : random.Next(5)];
            var source = (i % 11) switch { 3 => TokenUsageSource.Estimated, 7 when i % 2 == 0 => TokenUsageSource.Missing, _ => TokenUsageSource.Reported };
            var input = random.Next(100, 20_000);
            var output = random.Next(10, 4_000);
            var cached = random.Next(0, input / 2);
            var reasoning = i % 5 == 0 ? random.Next(0, output) : 0;
            var usage = source == TokenUsageSource.Missing
                ? TokenUsage.Empty
                : new TokenUsage { InputTokenCount = input, OutputTokenCount = output, TotalTokenCount = input + output, CachedInputTokenCount = cached, ReasoningTokenCount = reasoning };
            var priced = source != TokenUsageSource.Missing && i % 9 != 4;
            var currency = i % 13 == 0 ? "EUR" : "USD";
            var session = i % 6 == 5 ? null : sessions[i % sessions.Length];
            Records.Add(new TokenUsageRecord
            {
                Timestamp = Start.AddMinutes(random.Next(0, 6 * 24 * 60)).AddSeconds(random.Next(60)),
                Provider = providers[i % providers.Length],
                Operation = "chat",
                RequestModel = model,
                ResponseModel = model,
                Status = i % 17 == 0 ? TokenUsageStatus.Error : TokenUsageStatus.Ok,
                HttpStatusCode = i % 17 == 0 ? 500 : 200,
                ErrorType = i % 17 == 0 ? "http_500" : null,
                Duration = TimeSpan.FromMilliseconds(random.Next(50, 9_000)),
                Usage = usage,
                Source = source,
                UserId = users[i % users.Length],
                Consumer = consumers[i % consumers.Length],
                Feature = features[i % features.Length],
                SessionId = session,
                Tags = new Dictionary<string, string> { ["team"] = i % 2 == 0 ? "search" : "core" },
                Cost = priced ? Math.Round((input * 2.5m + output * 10m) / 1_000_000m, 8) : null,
                Currency = priced ? currency : null,
                Content = i % 4 == 0
                    ? new TokenUsageContent
                    {
                        Question = $"Question {i}: " + new string('q', 300),
                        Answer = $"Answer {i}",
                        Reasoning = i % 8 == 0 ? "Thinking " + new string('r', 200) : null,
                        ToolCalls = i % 8 == 0 ? [new TokenUsageToolCall { Index = 0, Name = "get_weather", Arguments = "{\"city\":\"Paris\",\"pad\":\"" + new string('x', 100) + "\"}" }] : null,
                    }
                    : null,
            });
        }

        Store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = Path0 });
        Assert.Equal(Records.Count, await Store.WriteAsync(Records, default));
    }

    public async Task DisposeAsync()
    {
        await Store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Runs the CLI as the tests' user would, with redirected (string) output.</summary>
    public static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    public Task<(int Code, string Out, string Err)> RunOnStoreAsync(params string[] args) =>
        RunAsync([.. args, "--store", Spec]);
}
