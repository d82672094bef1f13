using System.CommandLine;
using System.Text.Json;
using TokenMetrics.Cli.Commands;

namespace TokenMetrics.Tokenizer.Tests;

public sealed class CountCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tokenmetrics-cli").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task JsonPrintsOneObjectPerFileWithTheOraclesCount()
    {
        var golden = TestFiles.JsonLines("goldens/corpus.jsonl.gz").Single(g => g.GetProperty("file").GetString() == "chinese.txt" && g.GetProperty("encoding").GetString() == "o200k_base");
        var file = Path.Combine(_dir, "chinese.txt");
        await File.WriteAllBytesAsync(file, TestFiles.Corpus("chinese.txt"));
        var empty = Path.Combine(_dir, "empty.txt");
        await File.WriteAllBytesAsync(empty, []);

        var (code, output, _) = await RunAsync("count", "--encoding", "o200k_base", "--json", file, empty);

        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Equal(file, lines[0].GetProperty("file").GetString());
        Assert.Equal("o200k_base", lines[0].GetProperty("encoding").GetString());
        Assert.Equal(golden.GetProperty("tokens").GetInt64(), lines[0].GetProperty("tokens").GetInt64());
        Assert.Equal(golden.GetProperty("bytes").GetInt64(), lines[0].GetProperty("bytes").GetInt64());
        Assert.Equal(0, lines[1].GetProperty("tokens").GetInt64());
    }

    [Fact]
    public async Task TableUsesTheModelsEncodingAndReportsMissingFiles()
    {
        var file = Path.Combine(_dir, "a.txt");
        await File.WriteAllTextAsync(file, "hello world");
        var (code, output, error) = await RunAsync("count", "--model", "gpt-4-0613", file, Path.Combine(_dir, "missing.txt"));
        Assert.Equal(1, code);
        Assert.Contains("cl100k_base", output, StringComparison.Ordinal);
        Assert.Contains("a.txt", output, StringComparison.Ordinal);
        Assert.Matches(@"\n\s*2\s+11\s", output);
        Assert.Contains("missing.txt", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("count", "--encoding", "nope")]
    [InlineData("count", "--encoding", "cl100k_base", "--model", "gpt-4o")]
    public async Task BadOptionsFail(params string[] args)
    {
        var (code, _, error) = await RunAsync(args);
        Assert.NotEqual(0, code);
        Assert.NotEmpty(error);
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var root = new RootCommand { CountCommand.Create() };
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }
}
