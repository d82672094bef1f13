using System.Buffers;
using System.Text;
using System.Text.Json;

namespace TokenMetrics.Tests.Protocols;

public class JsonTextTests
{
    [Theory]
    [InlineData("{\"id\":\"a\",\"usage\":null}", "{\"id\":\"a\"}")]
    [InlineData("{\"usage\":null,\"id\":\"a\"}", "{\"id\":\"a\"}")]
    [InlineData("{\"a\":{\"usage\":null},\"usage\":null,\"b\":[1,{\"usage\":null}]}", "{\"a\":{\"usage\":null},\"b\":[1,{\"usage\":null}]}")]
    public void TryRemoveTopLevelNullProperty_RemovesOnlyTheTopLevelMember(string input, string expected)
    {
        var output = new ArrayBufferWriter<byte>();

        Assert.True(JsonText.TryRemoveTopLevelNullProperty(Encoding.UTF8.GetBytes(input), "usage"u8, output));

        Assert.Equal(expected, Encoding.UTF8.GetString(output.WrittenSpan));
        using var _ = JsonDocument.Parse(output.WrittenMemory);
    }

    [Theory]
    [InlineData("{\"usage\":{\"prompt_tokens\":1}}")]
    [InlineData("{\"id\":\"a\"}")]
    [InlineData("not json")]
    [InlineData("{\"usage\":nu")]
    public void TryRemoveTopLevelNullProperty_LeavesOtherInputAlone(string input)
    {
        var output = new ArrayBufferWriter<byte>();

        Assert.False(JsonText.TryRemoveTopLevelNullProperty(Encoding.UTF8.GetBytes(input), "usage"u8, output));
        Assert.Equal(0, output.WrittenCount);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a\\nb\\\"c\\\\d\\/e", "a\nb\"c\\d/e")]
    [InlineData("\\u00e9\\ud83d\\ude00", "é😀")]
    [InlineData("cut\\u00", "cut")]
    [InlineData("cut\\", "cut")]
    public void UnescapeFragments_DecodesAndToleratesACut(string escaped, string expected)
    {
        Assert.Equal(expected, JsonText.UnescapeFragments(Encoding.UTF8.GetBytes(escaped)));
    }

    [Fact]
    public void TryGetTopLevelValue_FindsTopLevelOnly()
    {
        var json = "{\"choices\":[{\"usage\":1}],\"usage\":{\"a\":1}}"u8;

        Assert.True(JsonText.TryGetTopLevelValue(json, "usage"u8, out var value));
        Assert.Equal("{\"a\":1}", Encoding.UTF8.GetString(value));
        Assert.True(JsonText.TryGetTopLevelValue(json, "choices"u8, out value));
        Assert.Equal("[{\"usage\":1}]", Encoding.UTF8.GetString(value));
        Assert.False(JsonText.TryGetTopLevelValue(json, "model"u8, out _));
    }
}

public class MediaTypeTests
{
    [Theory]
    [InlineData("text/event-stream", "text/event-stream", true)]
    [InlineData("Text/Event-Stream; charset=utf-8", "text/event-stream", true)]
    [InlineData(" text/event-stream ;charset=utf-8", "text/event-stream", true)]
    [InlineData("application/json", "text/event-stream", false)]
    [InlineData("text/event-streamx", "text/event-stream", false)]
    public void IsMediaType_ComparesTheRawMediaType(string header, string mediaType, bool expected)
    {
        using var content = new ByteArrayContent([]);
        Assert.True(content.Headers.TryAddWithoutValidation("Content-Type", header));

        Assert.Equal(expected, TokenUsageProtocolContext.IsMediaType(content.Headers, mediaType));
    }

    [Fact]
    public void MediaTypeContains_AnswersForAbsentHeaders()
    {
        using var none = new ByteArrayContent([]);
        using var json = new StringContent("{}", System.Text.Encoding.UTF8, "application/vnd.api+json");

        Assert.True(TokenUsageProtocolContext.MediaTypeContains(none.Headers, "json", whenAbsent: true));
        Assert.False(TokenUsageProtocolContext.MediaTypeContains(none.Headers, "json", whenAbsent: false));
        Assert.True(TokenUsageProtocolContext.MediaTypeContains(json.Headers, "JSON", whenAbsent: false));
    }
}
