using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using TokenMetrics.Cli;
using TokenMetrics.Cli.Commands;
using TokenMetrics.Providers.Tests.Support;

namespace TokenMetrics.Providers.Tests.Cli;

/// <summary>The <c>tokenmetrics</c> tool as users run it: a child process, its exit code, its stdout and stderr.</summary>
public sealed class CliProcessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tokenmetrics-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Extract_RandomBytes_IsNotRecognised_OneLine_NonZero()
    {
        var file = Path.Combine(_dir, "random.bin");
        var bytes = new byte[5_000_000];
        new Random(7).NextBytes(bytes);
        await File.WriteAllBytesAsync(file, bytes);

        var run = await Cli.RunAsync(["extract", file]);

        Assert.Equal(ExitCodes.NotRecognised, run.Code);
        Assert.Equal(string.Empty, run.Output);
        Assert.Single(Lines(run.Error));
        Assert.Contains("not recognised", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("input_tokens", run.Output + run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Extract_NulLedBytes_AreNotTakenForAnAwsEventStream()
    {
        var file = Path.Combine(_dir, "nul.bin");
        var bytes = new byte[64 * 1024];
        new Random(8).NextBytes(bytes.AsSpan(64));
        await File.WriteAllBytesAsync(file, bytes);

        var run = await Cli.RunAsync(["extract", file]);

        Assert.Equal(ExitCodes.NotRecognised, run.Code);
        Assert.Single(Lines(run.Error));
        Assert.DoesNotContain("aws.bedrock", run.Output + run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("anthropic.claude", run.Output + run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Extract_BedrockConverseJson_WithoutProvider_IsBedrock_AndTheModelUnknown()
    {
        var run = await Cli.RunAsync(["extract", "--json", Path.Combine(AppContext.BaseDirectory, "TestData", "bedrock", "converse.json")]);

        Assert.Equal(0, run.Code);
        using var json = JsonDocument.Parse(run.Output);
        Assert.Equal("aws.bedrock", json.RootElement.GetProperty("provider").GetString());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("model").ValueKind);
        Assert.Equal("reported", json.RootElement.GetProperty("source").GetString());
        Assert.True(json.RootElement.GetProperty("input_tokens").GetInt64() > 0);
    }

    [Fact]
    public async Task Extract_FromStandardInput()
    {
        var body = VendorHarness.Load("anthropic/message-thinking-details.json");

        var run = await Cli.RunAsync(["extract", "--json", "-"], body);

        Assert.Equal(0, run.Code);
        using var json = JsonDocument.Parse(run.Output);
        Assert.Equal("anthropic", json.RootElement.GetProperty("provider").GetString());
        Assert.Equal(83, json.RootElement.GetProperty("reasoning_tokens").GetInt64());
    }

    [Fact]
    public async Task Extract_UnknownJsonShape_AsksForProvider()
    {
        var file = Path.Combine(_dir, "other.json");
        await File.WriteAllTextAsync(file, "{\"hello\":\"world\",\"n\":3}");

        var run = await Cli.RunAsync(["extract", file]);

        Assert.Equal(ExitCodes.NotRecognised, run.Code);
        Assert.Contains("--provider", run.Error, StringComparison.Ordinal);
        Assert.Single(Lines(run.Error));
    }

    [Fact]
    public async Task Extract_NothingToEstimateFrom_IsMissing_NotAnEstimatedZero()
    {
        var file = Path.Combine(_dir, "empty-answer.json");
        await File.WriteAllTextAsync(file, "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[]}");

        var run = await Cli.RunAsync(["extract", "--json", file]);

        Assert.Equal(0, run.Code);
        using var json = JsonDocument.Parse(run.Output);
        Assert.Equal("missing", json.RootElement.GetProperty("source").GetString());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("input_tokens").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("output_tokens").ValueKind);
    }

    [Fact]
    public async Task UnreadableInput_IsOneLine_AndTheInputErrorCode()
    {
        // A directory stands for a file that cannot be read (the tests may run as root, for whom no mode bit denies a read).
        var extract = await Cli.RunAsync(["extract", _dir]);
        var count = await Cli.RunAsync(["count", _dir]);

        Assert.Equal(ExitCodes.InputError, extract.Code);
        Assert.Single(Lines(extract.Error));
        Assert.Equal(ExitCodes.InputError, count.Code);
        Assert.Single(Lines(count.Error));
        Assert.DoesNotContain("   at ", extract.Error + count.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadOption_IsTheUsageCode()
    {
        var run = await Cli.RunAsync(["count", "--encoding", "nope"]);

        Assert.Equal(ExitCodes.Usage, run.Code);
        Assert.Contains("nope", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnexpectedException_IsOneLine_AndItsOwnCode()
    {
        // The top-level handler, in process: an output that fails in a way nothing expects.
        using var error = new StringWriter();
        var body = Path.Combine(_dir, "body.json");
        await File.WriteAllBytesAsync(body, VendorHarness.Load("openai/chat-details.json"));

        var code = await CliApp.RunAsync(["extract", body], new ThrowingWriter(), error);

        Assert.Equal(ExitCodes.Internal, code);
        Assert.Single(Lines(error.ToString()));
        Assert.Contains("unexpected error", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Count_HugeInputWithoutSpaces_StreamsInBoundedMemory()
    {
        // 256 MB of digits, no space or line break anywhere: the old reader grew one buffer to the whole file (and failed past
        // 1 GiB). Digits keep the tokenizer fast (o200k splits them into 3-digit pre-tokens), so the test measures the reader.
        const int Size = 256_000_000;
        var file = Path.Combine(_dir, "digits.txt");
        var chunk = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("1234567890", 100_000)));
        await using (var stream = File.Create(file))
        {
            for (var written = 0; written < Size; written += chunk.Length)
            {
                await stream.WriteAsync(chunk);
            }
        }

        var run = await Cli.RunAsync(["count", "--json", file], stats: true);

        Assert.Equal(0, run.Code);
        using var json = JsonDocument.Parse(run.Output);
        Assert.Equal(Size, json.RootElement.GetProperty("bytes").GetInt64());
        Assert.True(json.RootElement.GetProperty("exact").GetBoolean());
        Assert.False(json.RootElement.TryGetProperty("forced_cuts", out _));

        // Every 3 digits are one o200k token (all of 000-999 are tokens), the last group of 1-3 digits one more.
        Assert.Equal((Size + 2) / 3, json.RootElement.GetProperty("tokens").GetInt64());
        var peak = long.Parse(Regex.Match(run.Error, @"peak_working_set_bytes=(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(peak < Size / 2, $"peak working set {peak:N0} bytes for a {Size:N0}-byte input");
    }

    [Fact]
    public async Task Count_OneWordLongerThanTheWindow_IsExact()
    {
        // 3 MB of letters and emoji with no break: one pre-token far past the stream counter's window, merged as it streams.
        var random = new Random(5);
        string[] parts = ["a", "b", "ab", "xyz", "é", "Q"];
        var text = new StringBuilder();
        while (text.Length < 3_000_000)
        {
            text.Append(parts[random.Next(parts.Length)]);
        }

        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        var file = Path.Combine(_dir, "word.txt");
        await File.WriteAllBytesAsync(file, bytes);

        var run = await Cli.RunAsync(["count", "--json", "--encoding", "cl100k_base", file]);

        Assert.Equal(0, run.Code);
        using var json = JsonDocument.Parse(run.Output);
        Assert.True(json.RootElement.GetProperty("exact").GetBoolean());
        Assert.Equal(bytes.Length, json.RootElement.GetProperty("bytes").GetInt64());
        Assert.Equal(TiktokenEncoding.Cl100kBase.CountTokens(bytes), json.RootElement.GetProperty("tokens").GetInt64());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private sealed class ThrowingWriter : StringWriter
    {
        public override Task WriteLineAsync(string? value) => throw new InvalidOperationException("boom\nsecond line");
    }

    /// <summary>Runs the built tool (TokenMetrics.Cli.dll beside the tests) with <c>dotnet</c>.</summary>
    private static class Cli
    {
        public static async Task<(int Code, string Output, string Error)> RunAsync(string[] args, byte[]? stdin = null, bool stats = false)
        {
            var info = new ProcessStartInfo("dotnet")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "TokenMetrics.Cli.dll"));
            foreach (var arg in args)
            {
                info.ArgumentList.Add(arg);
            }

            if (stats)
            {
                info.Environment[CliApp.StatsVariable] = "1";
            }

            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (stdin is not null)
            {
                await process.StandardInput.BaseStream.WriteAsync(stdin);
            }

            process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await output, await error);
        }
    }
}
