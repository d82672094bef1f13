using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Providers.Tests.Rewriting;

public class ModelMapperTests
{
    private static readonly Dictionary<string, string> HigressExample = new()
    {
        ["gpt-4-*"] = "qwen-max",
        ["gpt-4o"] = "qwen-vl-plus",
        ["*"] = "qwen-turbo",
    };

    [Theory]
    [InlineData("gpt-4o", "qwen-vl-plus")]          // exact beats prefix
    [InlineData("gpt-4-turbo", "qwen-max")]         // prefix
    [InlineData("gpt-3.5-turbo", "qwen-turbo")]     // fallback
    public void HigressExample_MapsAsDocumented(string requested, string expected) =>
        Assert.Equal(expected, ModelMapper.Map(requested, HigressExample));

    [Fact]
    public void LongestPrefixWins_AndEmptyTargetKeepsTheModel()
    {
        var mapping = new Dictionary<string, string> { ["claude-*"] = "a", ["claude-3-5-*"] = "b", ["keep-*"] = "" };

        Assert.Equal("b", ModelMapper.Map("claude-3-5-sonnet", mapping));
        Assert.Equal("a", ModelMapper.Map("claude-3-opus", mapping));
        Assert.Equal("keep-me", ModelMapper.Map("keep-me", mapping));
        Assert.Equal("other", ModelMapper.Map("other", mapping));
        Assert.Equal("x", ModelMapper.Map("x", null));
    }
}
