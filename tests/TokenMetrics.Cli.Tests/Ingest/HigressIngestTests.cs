using System.Text;
using TokenMetrics.Cli.Commands;
using TokenMetrics.Cli.Ingest;
using TokenMetrics.Storage.Sqlite;

namespace TokenMetrics.Cli.Tests.Ingest;

/// <summary><c>tokenmetrics ingest higress</c>, through <see cref="CliApp.RunAsync"/>, checked by reading the store back.</summary>
public sealed class HigressIngestTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tm-ingest-").FullName;

    private string Log => Path.Combine(_dir, "access.log");

    private string Db => Path.Combine(_dir, "usage.db");

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task The_seed_fixture_lines_ingest_to_the_expected_records_exactly_once()
    {
        var v2 = Path.Combine(_dir, "access_v2.log");
        await File.WriteAllLinesAsync(Log, HigressFixtures.AccessLog);
        await File.WriteAllLinesAsync(v2, HigressFixtures.AccessLogV2);

        var first = await IngestAsync("--log", Log);
        var second = await IngestAsync("--log", v2);
        Assert.Equal(0, first.Code);
        Assert.Equal(0, second.Code);
        Assert.Contains("4 lines read, 4 records written, 0 duplicates (already stored), 0 malformed, 1 file,", first.Output, StringComparison.Ordinal);
        Assert.Contains("4 lines read, 4 records written,", second.Output, StringComparison.Ordinal);

        var records = await ReadStoreAsync();
        Assert.Equal(8, records.Count);

        const string main = "agent:main:discord:1465367993012981988";
        var qwen = records.Where(r => r.RequestModel == "Qwen3-rerank").OrderBy(r => r.RoundIndex).ToList();
        Assert.Equal([0, 1, 2], qwen.Select(r => r.RoundIndex ?? -1));
        Assert.All(qwen, r => Assert.Equal(main, r.SessionId));
        Assert.Equal([250L, 320, 380], qwen.Select(r => r.Usage.InputTokenCount ?? -1));
        Assert.Equal([160L, 180, 220], qwen.Select(r => r.Usage.OutputTokenCount ?? -1));
        Assert.Equal([410L, 500, 600], qwen.Select(r => r.Usage.TotalTokenCount ?? -1));
        Assert.Equal(new DateTimeOffset(2026, 2, 1, 9, 30, 15, TimeSpan.Zero), qwen[0].Timestamp);
        Assert.Equal("1", qwen[0].Tags!["higress.tool_calls"]);
        Assert.False(qwen[1].Tags!.ContainsKey("higress.tool_calls"));
        Assert.Equal("Qwen3-rerank@higress", qwen[0].Tags!["higress.api"]);
        Assert.Equal("LLM", qwen[0].Tags!["higress.api_type"]);
        Assert.Null(qwen[0].Cost); // Qwen3-rerank has no catalog price: cost unknown, never 0.

        var r1 = Assert.Single(records, r => r.RequestModel == "DeepSeek-R1");
        Assert.Equal("agent:test:discord:9999999999999999999", r1.SessionId);
        Assert.Equal((50L, 30L, 80L), (r1.Usage.InputTokenCount!.Value, r1.Usage.OutputTokenCount!.Value, r1.Usage.TotalTokenCount!.Value));
        Assert.Equal("deepseek", r1.Provider);
        Assert.Equal(50 * 0.28m / 1_000_000 + 30 * 0.42m / 1_000_000, r1.Cost);

        var gpt = records.Where(r => r.RequestModel == "gpt-4o").OrderBy(r => r.Timestamp).ToList();
        Assert.Equal([120L, 80, 200], gpt.Select(r => r.Usage.CachedInputTokenCount ?? -1));
        Assert.Equal([150L, 200, 300], gpt.Select(r => r.Usage.InputTokenCount ?? -1));
        Assert.Equal(120, gpt[0].Usage.InputTokenDetails!["cached_tokens"]);
        Assert.All(gpt, r => Assert.Equal(main, r.SessionId));
        Assert.All(gpt, r => Assert.True(r.Cost > 0));
        Assert.Equal("openai", gpt[0].Provider);

        // o1: reasoning 500 > output 80, so the vendor counted it outside output: output = 80 + 500 (reasoning inside output).
        var o1 = Assert.Single(records, r => r.RequestModel == "o1");
        Assert.Equal("agent:main:discord:9999999999999999999", o1.SessionId);
        Assert.Equal(500, o1.Usage.ReasoningTokenCount);
        Assert.Equal(580, o1.Usage.OutputTokenCount);
        Assert.Equal(680, o1.Usage.TotalTokenCount);
        Assert.Equal(100 * 15m / 1_000_000 + 580 * 60m / 1_000_000, o1.Cost);

        Assert.All(records, r =>
        {
            Assert.Equal(TokenUsageSource.Reported, r.Source);
            Assert.Equal(HigressLineParser.ClientName, r.ClientName);
            Assert.Equal("clawdbot", r.Consumer);
            Assert.Null(r.Content); // content is off by default
            Assert.False(r.Tags!.ContainsKey(HigressLineParser.TimestampTag));
        });

        var again = await IngestAsync("--log", Log);
        Assert.Contains("0 lines read, 0 records written", again.Output, StringComparison.Ordinal);
        Assert.Equal(8, (await ReadStoreAsync()).Count);
    }

    [Fact]
    public async Task Capture_content_keeps_question_answer_reasoning_and_tool_calls()
    {
        await File.WriteAllLinesAsync(Log, HigressFixtures.AccessLog);
        var result = await IngestAsync("--log", Log, "--capture-content");
        Assert.Equal(0, result.Code);

        var round1 = Assert.Single(await ReadStoreAsync(), r => r.RoundIndex == 0 && r.RequestModel == "Qwen3-rerank");
        Assert.Equal("查询北京天气", round1.Content!.Question);
        Assert.Equal("正在为您查询北京天气...", round1.Content.Answer);
        Assert.Equal("用户想知道北京的天气,我需要调用天气查询工具。", round1.Content.Reasoning);
        var call = Assert.Single(round1.Content.ToolCalls!);
        Assert.Equal(("call_abc123", "function", "get_weather", "{\"location\":\"Beijing\"}"), (call.Id, call.Type, call.Name, call.Arguments));
    }

    [Fact]
    public async Task Small_batches_write_every_line_once_and_the_state_covers_what_was_stored()
    {
        // Batches of 3 over 10 lines: four writes, each started before the previous batch's state is saved.
        await AppendAsync(Log, Enumerable.Range(1, 10).Select(HigressFixtures.RotationLine));
        var first = await IngestAsync("--log", Log, "--batch-size", "3");
        Assert.Equal(0, first.Code);
        Assert.Contains("10 lines read, 10 records written, 0 duplicates", first.Output, StringComparison.Ordinal);

        await AppendAsync(Log, Enumerable.Range(11, 5).Select(HigressFixtures.RotationLine));
        var second = await IngestAsync("--log", Log, "--batch-size", "3");
        Assert.Contains("5 lines read, 5 records written, 0 duplicates", second.Output, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(1, 15).Select(i => 100L + i), (await ReadStoreAsync()).Select(r => r.Usage.InputTokenCount!.Value).Order());

        foreach (var bad in new[] { "0", "100001", "-5" })
        {
            var refused = await IngestAsync("--log", Log, "--batch-size", bad);
            Assert.Equal(ExitCodes.Usage, refused.Code);
            Assert.Contains("--batch-size", refused.Error, StringComparison.Ordinal);
        }

        Assert.Equal(15, (await ReadStoreAsync()).Count);
    }

    [Fact]
    public async Task The_seed_rotation_scenario_gives_10_15_18_records_and_each_line_once()
    {
        await AppendAsync(Log, Enumerable.Range(1, 10).Select(HigressFixtures.RotationLine));
        Assert.Equal(0, (await IngestAsync("--log", Log)).Code);
        Assert.Equal(10, (await ReadStoreAsync()).Count);

        File.Move(Log, Log + ".1");
        await AppendAsync(Log, Enumerable.Range(11, 5).Select(HigressFixtures.RotationLine));
        var second = await IngestAsync("--log", Log);
        Assert.Contains("5 lines read, 5 records written, 0 duplicates", second.Output, StringComparison.Ordinal);
        Assert.Equal(15, (await ReadStoreAsync()).Count);

        File.Move(Log + ".1", Log + ".2");
        File.Move(Log, Log + ".1");
        await AppendAsync(Log, Enumerable.Range(16, 3).Select(HigressFixtures.RotationLine));
        var third = await IngestAsync("--log", Log);
        Assert.Contains("3 lines read, 3 records written, 0 duplicates", third.Output, StringComparison.Ordinal);

        var records = await ReadStoreAsync();
        Assert.Equal(18, records.Count);
        Assert.Equal(Enumerable.Range(1, 18).Select(i => 100L + i), records.Select(r => r.Usage.InputTokenCount!.Value).Order());
        Assert.Equal(Enumerable.Range(1, 18).Select(i => 30L + i), records.Select(r => r.Usage.CachedInputTokenCount!.Value).Order());
        Assert.All(records, r => Assert.Equal("session_001", r.SessionId));

        // The seed's template writes 10:010:00Z for i = 10: not a time, so that record takes the file's time and says so.
        var odd = Assert.Single(records, r => r.Tags!.ContainsKey(HigressLineParser.TimestampTag));
        Assert.Equal(110, odd.Usage.InputTokenCount);
        Assert.Equal(HigressLineParser.FileTimeTagValue, odd.Tags![HigressLineParser.TimestampTag]);
        Assert.Equal(new DateTimeOffset(2026, 2, 1, 10, 18, 0, TimeSpan.Zero), records.Single(r => r.Usage.InputTokenCount == 118).Timestamp);

        // Re-running reads nothing; the state holds exactly the three files present.
        var rerun = await IngestAsync("--log", Log);
        Assert.Contains("0 lines read, 0 records written", rerun.Output, StringComparison.Ordinal);
        var state = IngestState.Load(Log + IngestCommand.StateSuffix);
        Assert.Equal(3, state.Files.Count);

        // Without the state every line is read again, and the store recognises every id.
        File.Delete(Log + IngestCommand.StateSuffix);
        var lost = await IngestAsync("--log", Log);
        Assert.Contains("18 lines read, 0 records written, 18 duplicates (already stored)", lost.Output, StringComparison.Ordinal);
        Assert.Contains("3 files", lost.Output, StringComparison.Ordinal);
        Assert.Equal(18, (await ReadStoreAsync()).Count);
    }

    [Fact]
    public async Task Rotated_files_beyond_the_first_are_read_oldest_first_and_files_gone_are_forgotten()
    {
        await AppendAsync(Log + ".3", [HigressFixtures.RotationLine(1)]);
        await AppendAsync(Log + ".1", [HigressFixtures.RotationLine(3)]);
        await AppendAsync(Log, [HigressFixtures.RotationLine(4)]);
        var result = await IngestAsync("--log", Log);
        Assert.Contains("3 lines read, 3 records written", result.Output, StringComparison.Ordinal);
        Assert.Equal(3, IngestState.Load(Log + IngestCommand.StateSuffix).Files.Count);

        File.Delete(Log + ".3");
        Assert.Equal(0, (await IngestAsync("--log", Log)).Code);
        Assert.Equal(2, IngestState.Load(Log + IngestCommand.StateSuffix).Files.Count);
    }

    [Fact]
    public async Task A_truncated_log_is_read_again_from_the_start()
    {
        await AppendAsync(Log, Enumerable.Range(11, 4).Select(HigressFixtures.RotationLine));
        Assert.Equal(0, (await IngestAsync("--log", Log)).Code);

        // copytruncate-style: same file, emptied, then two new (different) lines, shorter than before.
        await using (var stream = new FileStream(Log, FileMode.Open, FileAccess.Write))
        {
            stream.SetLength(0);
        }

        await AppendAsync(Log, Enumerable.Range(15, 2).Select(HigressFixtures.RotationLine));
        var result = await IngestAsync("--log", Log);
        Assert.Contains("2 lines read, 2 records written, 0 duplicates", result.Output, StringComparison.Ordinal);
        Assert.Equal(6, (await ReadStoreAsync()).Count);
    }

    [Fact]
    public async Task A_partial_last_line_waits_until_it_is_complete()
    {
        var line = HigressFixtures.RotationLine(12);
        await AppendAsync(Log, [HigressFixtures.RotationLine(11)]);
        await File.AppendAllTextAsync(Log, line[..40]);
        var first = await IngestAsync("--log", Log);
        Assert.Contains("1 lines read, 1 records written, 0 duplicates (already stored), 0 malformed", first.Output, StringComparison.Ordinal);

        await File.AppendAllTextAsync(Log, line[40..]);
        var still = await IngestAsync("--log", Log);
        Assert.Contains("0 lines read", still.Output, StringComparison.Ordinal);

        await File.AppendAllTextAsync(Log, "\n");
        var second = await IngestAsync("--log", Log);
        Assert.Contains("1 lines read, 1 records written, 0 duplicates (already stored), 0 malformed", second.Output, StringComparison.Ordinal);
        Assert.Equal([111L, 112], (await ReadStoreAsync()).Select(r => r.Usage.InputTokenCount!.Value).Order());
    }

    [Fact]
    public async Task Malformed_lines_are_counted_skipped_and_named()
    {
        await using (var stream = File.Create(Log))
        {
            void Line(byte[] bytes)
            {
                stream.Write(bytes);
                stream.WriteByte((byte)'\n');
            }

            Line(Encoding.UTF8.GetBytes(HigressFixtures.RotationLine(11)));
            Line("this is not json"u8.ToArray());
            Line("""{"timestamp":"2026-02-01T10:00:00Z","status":200}"""u8.ToArray());
            Line("""{"ai_log":"{\"model\":\"gpt-4o\",\"input_token\":\"ten\"}"}"""u8.ToArray());
            Line([.. """{"ai_log":"{\"model\":\"gpt"""u8, 0xC3, 0x28, .. """\"}"}"""u8]);
            Line("""{"ai_log":"not json inside"}"""u8.ToArray());
            Line("""{"ai_log":"{\"model\":\"gpt-4o\",\"input_token\":1"""u8.ToArray());
            Line("\r"u8.ToArray());
            Line(Encoding.UTF8.GetBytes(HigressFixtures.RotationLine(12)));
        }

        var result = await IngestAsync("--log", Log);
        Assert.Equal(0, result.Code);
        Assert.Contains("8 lines read, 2 records written, 0 duplicates (already stored), 6 malformed (access.log:2 not JSON, access.log:3 no ai_log, access.log:4 bad number in input_token, access.log:5 invalid UTF-8, access.log:6 not JSON, ...)", result.Output, StringComparison.Ordinal);
        Assert.Equal(2, (await ReadStoreAsync()).Count);

        var again = await IngestAsync("--log", Log);
        Assert.Contains("0 lines read, 0 records written, 0 duplicates (already stored), 0 malformed", again.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Numeric_strings_ai_log_objects_and_detail_objects_all_read()
    {
        await AppendAsync(Log,
        [
            // README example (seed L12150) inside an access-log line: every number a string, durations included.
            """{"start_time":"2026-02-01T08:00:00.123Z","ai_log":"{\"session_id\":\"sess_abc123\",\"model\":\"qwen-turbo\",\"input_token\":\"10\",\"output_token\":\"69\",\"llm_first_token_duration\":\"309\",\"llm_service_duration\":\"1955\",\"response_type\":\"stream\",\"chat_id\":\"chatcmpl-1\"}"}""",
            // ai_log as an object, details as objects, no timestamp at all.
            """{"ai_log":{"model":"gpt-4o","input_token":100,"output_token":50,"reasoning_tokens":"25","cached_tokens":"80","input_token_details":{"cached_tokens":80},"output_token_details":"{\"reasoning_tokens\":25}","llm_service_duration":2000}}""",
        ]);

        var result = await IngestAsync("--log", Log);
        Assert.Contains("2 lines read, 2 records written", result.Output, StringComparison.Ordinal);
        var records = await ReadStoreAsync();

        var qwen = Assert.Single(records, r => r.RequestModel == "qwen-turbo");
        Assert.Equal((10L, 69L, 79L), (qwen.Usage.InputTokenCount!.Value, qwen.Usage.OutputTokenCount!.Value, qwen.Usage.TotalTokenCount!.Value));
        Assert.Equal(TimeSpan.FromMilliseconds(1955), qwen.Duration);
        Assert.Equal(TimeSpan.FromMilliseconds(309), qwen.TimeToFirstChunk);
        Assert.True(qwen.IsStreaming);
        Assert.Equal("chatcmpl-1", qwen.ResponseId);
        Assert.Equal("sess_abc123", qwen.SessionId);
        Assert.Equal(new DateTimeOffset(2026, 2, 1, 8, 0, 0, 123, TimeSpan.Zero), qwen.Timestamp);

        var gpt = Assert.Single(records, r => r.RequestModel == "gpt-4o");
        Assert.Equal((100L, 50L, 80L, 25L), (gpt.Usage.InputTokenCount!.Value, gpt.Usage.OutputTokenCount!.Value, gpt.Usage.CachedInputTokenCount!.Value, gpt.Usage.ReasoningTokenCount!.Value));
        Assert.Equal(25, gpt.Usage.OutputTokenDetails!["reasoning_tokens"]);
        Assert.Equal(80, gpt.Usage.InputTokenDetails!["cached_tokens"]);
        Assert.Null(gpt.SessionId); // no "default" session invented
        Assert.Equal(HigressLineParser.FileTimeTagValue, gpt.Tags![HigressLineParser.TimestampTag]);
        Assert.Equal(File.GetLastWriteTimeUtc(Log), gpt.Timestamp.UtcDateTime, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task A_line_without_counts_is_stored_as_missing_usage()
    {
        await AppendAsync(Log, ["""{"timestamp":"2026-02-01T10:00:00Z","ai_log":"{\"model\":\"gpt-4o\",\"response_type\":\"error\"}"}"""]);
        Assert.Equal(0, (await IngestAsync("--log", Log)).Code);
        var record = Assert.Single(await ReadStoreAsync());
        Assert.Equal(TokenUsageSource.Missing, record.Source);
        Assert.Equal(TokenUsageStatus.Error, record.Status);
        Assert.Null(record.Cost);
    }

    [Fact]
    public async Task Usage_errors_are_one_line_with_an_exit_code()
    {
        var missing = await IngestAsync("--log", Path.Combine(_dir, "nope.log"));
        Assert.Equal(ExitCodes.InputError, missing.Code);
        Assert.Contains("no such log file", missing.Error, StringComparison.Ordinal);

        await AppendAsync(Log, [HigressFixtures.RotationLine(11)]);
        var interval = await IngestAsync("--log", Log, "--follow", "--interval", "soon");
        Assert.Equal(ExitCodes.Usage, interval.Code);
        Assert.Contains("--interval 'soon'", interval.Error, StringComparison.Ordinal);

        var noLog = await RunCliAsync("ingest", "higress");
        Assert.Equal(ExitCodes.Usage, noLog.Code);
    }

    [Fact]
    public async Task Follow_picks_up_appended_lines_and_a_rotation_and_stops_with_the_state_saved()
    {
        await AppendAsync(Log, Enumerable.Range(1, 3).Select(HigressFixtures.RotationLine));
        var output = new StringWriter();
        var error = new StringWriter();
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var settings = new HigressIngestSettings { LogPath = Log, StatePath = Log + IngestCommand.StateSuffix };
        var run = Task.Run(() => IngestCommand.RunAsync(settings, "sqlite:" + Db, follow: true, TimeSpan.FromMilliseconds(50), TextWriter.Synchronized(output), TextWriter.Synchronized(error), stop.Token));

        await WaitForCountAsync(3, run);
        await AppendAsync(Log, Enumerable.Range(4, 2).Select(HigressFixtures.RotationLine));
        await WaitForCountAsync(5, run);

        File.Move(Log, Log + ".1");
        await AppendAsync(Log, Enumerable.Range(11, 2).Select(HigressFixtures.RotationLine));
        await WaitForCountAsync(7, run);

        await stop.CancelAsync();
        Assert.Equal(ExitCodes.Cancelled, await run);
        Assert.Contains("stopped; state saved", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("7 records written, 0 duplicates", output.ToString(), StringComparison.Ordinal);

        var rerun = await IngestAsync("--log", Log);
        Assert.Contains("0 lines read, 0 records written", rerun.Output, StringComparison.Ordinal);
        Assert.Equal(7, (await ReadStoreAsync()).Count);
    }

    private async Task WaitForCountAsync(int expected, Task running)
    {
        // A condition with a generous bound, not a sleep standing in for an assertion.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(running.IsCompleted, "the follow loop ended early");
            if (File.Exists(Db) && (await ReadStoreAsync()).Count >= expected)
            {
                Assert.Equal(expected, (await ReadStoreAsync()).Count);
                return;
            }

            await Task.Delay(20);
        }

        Assert.Fail($"the store did not reach {expected} records within 60 s");
    }

    private static async Task AppendAsync(string path, IEnumerable<string> lines) =>
        await File.AppendAllLinesAsync(path, lines);

    private Task<(int Code, string Output, string Error)> IngestAsync(params string[] args) =>
        RunCliAsync(["ingest", "higress", .. args, "--store", "sqlite:" + Db]);

    private static async Task<(int Code, string Output, string Error)> RunCliAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await CliApp.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private async Task<List<TokenUsageRecord>> ReadStoreAsync()
    {
        var store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = Db });
        await using (store.ConfigureAwait(false))
        {
            var page = await store.QueryAsync(new TokenUsageQuery { Limit = 1000 }, CancellationToken.None);
            return [.. page.Records];
        }
    }
}
