using System.Text.Json;
using TokenMetrics.Cli;

namespace TokenMetrics.Providers.Tests.Cli;

/// <summary><c>tokenmetrics prices</c>: the entry a model resolves to, how it matched, its source and date; the list; a price file.</summary>
public sealed class PricesCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tokenmetrics-prices-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Model_Json_ShowsEntryPricesSourceDateAndHowItMatched()
    {
        var run = await RunAsync("prices", "claude-sonnet-4-5-20250929", "--json");

        Assert.Equal(0, run.Code);
        using var json = JsonDocument.Parse(run.Output);
        var root = json.RootElement;
        Assert.Equal("claude-sonnet-4-5", root.GetProperty("key").GetString());
        Assert.Equal("anthropic", root.GetProperty("provider").GetString());
        Assert.Equal("snapshot", root.GetProperty("match").GetString());
        var expected = TokenUsagePriceCatalog.Default.Resolve("claude-sonnet-4-5")!.Entry;
        Assert.Equal(expected.Price.Input, root.GetProperty("input").GetDecimal());
        Assert.Equal(expected.Price.CacheWrite1h, root.GetProperty("cache_write_1h").GetDecimal());
        Assert.Equal(expected.Source, root.GetProperty("source").GetString());
        Assert.Equal(expected.Date!.Value.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), root.GetProperty("date").GetString());
    }

    [Fact]
    public async Task Model_Table_NamesTheMatchAndTheSource()
    {
        var run = await RunAsync("prices", "us.anthropic.claude-3-5-sonnet-20240620-v1:0", "--provider", "aws.bedrock");

        Assert.Equal(0, run.Code);
        Assert.Contains("anthropic.claude-3-5-sonnet-20240620-v1:0", run.Output, StringComparison.Ordinal);
        Assert.Contains("aws.bedrock", run.Output, StringComparison.Ordinal);
        Assert.Contains("https://aws.amazon.com/bedrock/pricing/", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownModel_ExitsOne_WithAClearMessage()
    {
        var run = await RunAsync("prices", "no-such-model-xyz");

        Assert.Equal(ExitCodes.InputError, run.Code);
        Assert.Equal(string.Empty, run.Output);
        Assert.Contains("no price known for 'no-such-model-xyz'", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_FilteredByProvider_Json()
    {
        var run = await RunAsync("prices", "--provider", "dashscope", "--json");

        Assert.Equal(0, run.Code);
        using var json = JsonDocument.Parse(run.Output);
        var entries = json.RootElement.EnumerateArray().ToList();
        Assert.NotEmpty(entries);
        Assert.All(entries, e => Assert.Equal("dashscope", e.GetProperty("provider").GetString()));
        Assert.Contains(entries, e => e.GetProperty("key").GetString() == "qwen-max");
    }

    [Fact]
    public async Task PricesFile_OverridesTheCatalog_AndAddsModels()
    {
        var file = Path.Combine(_dir, "prices.json");
        await File.WriteAllTextAsync(file, """{"gpt-4o":{"input":9,"output":19},"house-llm":{"input":1,"output":2}}""");

        var gpt = await RunAsync("prices", "gpt-4o-2024-08-06", "--prices", file, "--json");
        var house = await RunAsync("prices", "house-llm", "--prices", file, "--json");

        using var g = JsonDocument.Parse(gpt.Output);
        Assert.Equal(9m, g.RootElement.GetProperty("input").GetDecimal());
        Assert.Equal("gpt-4o", g.RootElement.GetProperty("key").GetString());
        using var h = JsonDocument.Parse(house.Output);
        Assert.Equal("exact", h.RootElement.GetProperty("match").GetString());
        Assert.Equal(2m, h.RootElement.GetProperty("output").GetDecimal());
    }

    [Fact]
    public async Task BrokenPricesFile_IsOneLineAndExitOne()
    {
        var file = Path.Combine(_dir, "bad.json");
        await File.WriteAllTextAsync(file, """{"m":{"input":-3}}""");

        var run = await RunAsync("prices", "m", "--prices", file);

        Assert.Equal(ExitCodes.InputError, run.Code);
        Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("non-negative", run.Error, StringComparison.Ordinal);
    }
}
