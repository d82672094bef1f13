using System.Text;
using System.Text.Json;

namespace TokenMetrics.Tests.Content;

public class ContentJsonTests
{
    [Fact]
    public void Content_RoundTripsInSnakeCase_ToolCallsAsAListOfObjects()
    {
        var record = new TokenUsageRecord
        {
            Provider = "openai",
            Usage = new TokenUsage { InputTokenCount = 1, OutputTokenCount = 2, TotalTokenCount = 3 },
            Content = new TokenUsageContent
            {
                Question = "What is the weather in Beijing?",
                Answer = "Let me check \"now\".",
                Reasoning = "Need a tool.",
                ToolCalls = [new TokenUsageToolCall { Index = 0, Id = "call_abc123", Type = "function", Name = "get_weather", Arguments = """{"location":"Beijing"}""" }],
            },
        };

        var json = TokenUsageJson.Serialize(record);
        using var doc = JsonDocument.Parse(json);
        var content = doc.RootElement.GetProperty("content");
        Assert.Equal("What is the weather in Beijing?", content.GetProperty("question").GetString());
        Assert.Equal("Need a tool.", content.GetProperty("reasoning").GetString());
        var call = Assert.Single(content.GetProperty("tool_calls").EnumerateArray().ToArray());
        Assert.Equal(JsonValueKind.Object, call.ValueKind);
        Assert.Equal(0, call.GetProperty("index").GetInt32());
        Assert.Equal("call_abc123", call.GetProperty("id").GetString());
        Assert.Equal("get_weather", call.GetProperty("name").GetString());
        Assert.Equal("""{"location":"Beijing"}""", call.GetProperty("arguments").GetString());

        var back = TokenUsageJson.Deserialize(json)!;
        Assert.Equal(record.Content.Question, back.Content!.Question);
        Assert.Equal(record.Content.Answer, back.Content.Answer);
        Assert.Equal(record.Content.Reasoning, back.Content.Reasoning);
        var backCall = Assert.Single(back.Content.ToolCalls!);
        Assert.Equal((0, "call_abc123", "function", "get_weather", """{"location":"Beijing"}"""), (backCall.Index, backCall.Id, backCall.Type, backCall.Name, backCall.Arguments));
    }

    [Fact]
    public void NoContent_NoMember()
    {
        var json = Encoding.UTF8.GetString(TokenUsageJson.Serialize(new TokenUsageRecord { Provider = "openai", Usage = TokenUsage.Empty }));
        Assert.DoesNotContain("\"content\"", json, StringComparison.Ordinal);
    }
}

public class ContentOptionsTests
{
    [Fact]
    public void Defaults_OffWithHigressLimit()
    {
        var options = new TokenMetricsOptions();
        Assert.False(options.CaptureContent);
        Assert.Equal(4000, options.Content.MaxLength);
        Assert.True(options.Content.CaptureQuestion && options.Content.CaptureAnswer && options.Content.CaptureReasoning && options.Content.CaptureToolCalls);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    [InlineData(10 * 1024 * 1024 + 1)]
    public void MaxLength_OutOfRange_IsRejectedAtStartUp(int maxLength)
    {
        var options = new TokenMetricsOptions();
        options.Content.MaxLength = maxLength;
        var ex = Assert.ThrowsAny<Exception>(() => new TokenUsageRecorder(options, []));
        Assert.Contains("MaxLength", ex.Message, StringComparison.Ordinal);
    }
}
