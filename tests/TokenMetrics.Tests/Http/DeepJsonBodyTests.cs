using System.Text;
using TokenMetrics.Tests.TestHelpers;

namespace TokenMetrics.Tests.Http;

/// <summary>A complete body is never truncated: usage after a member nested far past System.Text.Json's default depth is found.</summary>
public class DeepJsonBodyTests
{
    [Theory]
    [InlineData(100_000)]
    [InlineData(65)]
    public async Task CompleteBody_WithDeeplyNestedArraysBeforeUsage_UsageFoundStatusOk(int depth)
    {
        var body = new StringBuilder("{\"id\":\"chatcmpl-deep\",\"object\":\"chat.completion\",\"model\":\"").Append(OpenAIFixtures.ResponseModel).Append("\",")
            .Append("\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"ok\"},\"finish_reason\":\"stop\"}],\"deep\":")
            .Append('[', depth).Append(']', depth)
            .Append(",\"usage\":{\"prompt_tokens\":31,\"completion_tokens\":7,\"total_tokens\":38}}")
            .ToString();
        await using var t = new TestRecorder();
        using var client = t.CreateClient(StubHttpHandler.Returning((_, _) => StubHttpHandler.Json(body)));

        using var response = await client.PostAsync("chat/completions", new StringContent(OpenAIFixtures.ChatRequest(stream: false), Encoding.UTF8, "application/json"));
        var read = await response.Content.ReadAsStringAsync();

        Assert.Equal(body, read);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
        Assert.Equal(TokenUsageSource.Reported, record.Source);
        Assert.Equal(31, record.Usage.InputTokenCount);
        Assert.Equal(7, record.Usage.OutputTokenCount);
        Assert.Equal("chatcmpl-deep", record.ResponseId);
    }
}
