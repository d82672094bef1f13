using TokenMetrics.Internal;

namespace TokenMetrics.Tests.Dimensions;

public sealed class JsonPathValueTests
{
    private const string Doc = """
        {"model":"gpt-4o","n":3,"ok":true,"none":null,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"first"},{"role":"user","content":"last \"one\""}],
         "choices":[{"index":0,"message":{"content":"hi","tool_calls":[{"id":"c1"}]}}],"usage":{"total_tokens":42,"details":{"a":1}}}
        """;

    [Theory]
    [InlineData("model", "gpt-4o")]
    [InlineData("n", "3")]
    [InlineData("ok", "true")]
    [InlineData("none", null)]
    [InlineData("messages.0.role", "system")]
    [InlineData("messages.2.content", "last \"one\"")]
    [InlineData("messages.@reverse.0.content", "last \"one\"")]
    [InlineData("messages.@reverse.2.content", "be brief")]
    [InlineData("messages.@reverse.3.content", null)]
    [InlineData("messages.3.content", null)]
    [InlineData("choices.0.message.tool_calls.0.id", "c1")]
    [InlineData("usage.total_tokens", "42")]
    [InlineData("usage.details", "{\"a\":1}")]
    [InlineData("usage.missing", null)]
    [InlineData("model.x", null)]
    [InlineData("messages.x", null)]
    public void Evaluate_FollowsNamesIndexesAndReverse(string path, string? expected)
    {
        var compiled = JsonPathValue.TryParse(path, out var error);
        Assert.Null(error);
        Assert.Equal(expected, compiled!.Evaluate(System.Text.Encoding.UTF8.GetBytes(Doc)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a..b")]
    [InlineData("a.@reverse")]
    [InlineData("a.@this")]
    public void TryParse_RejectsInvalidPaths(string path) => Assert.Null(JsonPathValue.TryParse(path, out _));

    [Theory]
    [InlineData("{\"model\":")]
    [InlineData("not json")]
    [InlineData("{\"model\":\"gpt\"")] // cut before the end: the value is already complete
    public void Evaluate_MalformedOrCutJson_NeverThrows(string json)
    {
        var value = JsonPathValue.TryParse("model", out _)!.Evaluate(System.Text.Encoding.UTF8.GetBytes(json));
        Assert.True(value is null or "gpt");
    }

    [Theory]
    [InlineData(10, "abcdefghijklmnopqrstuvwxyz", "abcde [truncated] vwxyz")]
    [InlineData(26, "abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz")]
    [InlineData(0, "abc", "abc")]
    public void Truncate_KeepsHeadAndTailAroundTheMarker(int limit, string value, string expected) =>
        Assert.Equal(expected, TextTruncation.Truncate(value, limit));
}
