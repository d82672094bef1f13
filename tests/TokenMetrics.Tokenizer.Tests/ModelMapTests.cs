using System.Text.Json;

namespace TokenMetrics.Tokenizer.Tests;

public class ModelMapTests
{
    [Fact]
    public void EveryModelInTiktokensTableMapsTheSame()
    {
        // TestData/tiktoken-model_to_encoding.json is copied verbatim from npm tiktoken@1.0.22 (106 entries).
        var table = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(Path.Combine(TestFiles.Dir, "tiktoken-model_to_encoding.json")))!;
        Assert.True(table.Count >= 100);
        foreach (var (model, encoding) in table)
        {
            Assert.True(TiktokenModels.TryGetEncodingName(model, out var actual), model);
            Assert.True(encoding == actual, $"{model}: expected {encoding}, got {actual}");
        }
    }

    [Theory]
    [InlineData("gpt-5", "o200k_base")]
    [InlineData("gpt-5.1-2025-11-13", "o200k_base")]
    [InlineData("gpt-5-mini-2025-08-07", "o200k_base")]
    [InlineData("gpt-4.1-nano-2025-04-14", "o200k_base")]
    [InlineData("GPT-4o-2024-08-06", "o200k_base")]
    [InlineData("o1-preview-2024-09-12", "o200k_base")]
    [InlineData("o3-pro", "o200k_base")]
    [InlineData("o4-mini-deep-research", "o200k_base")]
    [InlineData("gpt-4-0613", "cl100k_base")]
    [InlineData("gpt-4-turbo-2024-04-09", "cl100k_base")]
    [InlineData("gpt-3.5-turbo-16k", "cl100k_base")]
    [InlineData("gpt-35-turbo-16k", "cl100k_base")]
    [InlineData("ft:gpt-4o-mini-2024-07-18:my-org::9abc", "o200k_base")]
    [InlineData("ft:gpt-3.5-turbo-0125:org:name:id", "cl100k_base")]
    [InlineData("ft:davinci-002:org::id", "cl100k_base")]
    [InlineData("openai/gpt-4o", "o200k_base")]
    [InlineData("gpt-oss-120b", "o200k_harmony")]
    [InlineData("text-embedding-3-large", "cl100k_base")]
    [InlineData("text-davinci-003", "p50k_base")]
    [InlineData("davinci", "r50k_base")]
    public void OpenAiModels(string model, string encoding)
    {
        Assert.True(TiktokenModels.TryGetEncodingName(model, out var actual));
        Assert.Equal(encoding, actual);
        Assert.Equal(encoding, TiktokenEncoding.ForModel(model).Name);
    }

    [Theory]
    [InlineData("claude-sonnet-4-5")]
    [InlineData("gemini-2.5-pro")]
    [InlineData("qwen-max")]
    [InlineData("anthropic/claude-3-haiku")]
    [InlineData("gpt-40")]
    [InlineData("o1x")]
    [InlineData("")]
    [InlineData(null)]
    public void OtherModelsFallBackToO200kAsAnApproximation(string? model)
    {
        Assert.False(TiktokenModels.TryGetEncodingName(model, out var name));
        Assert.Equal("o200k_base", name);
        Assert.Equal("o200k_base", TiktokenModels.GetEncodingName(model, out var approximate));
        Assert.True(approximate);
        Assert.Equal("o200k_base", TiktokenEncoding.ForModel(model).Name);
    }
}
