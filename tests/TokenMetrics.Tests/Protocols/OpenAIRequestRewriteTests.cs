using System.Text;
using System.Text.Json;
using TokenMetrics.Providers.OpenAI;

namespace TokenMetrics.Tests.Protocols;

public class OpenAIRequestRewriteTests
{
    [Theory]
    [InlineData("{\"model\":\"m\",\"stream\":true}")]
    [InlineData("{\"model\":\"m\",\"stream\":true,\"stream_options\":null}")]
    [InlineData("{\"model\":\"m\",\"stream\":true,\"stream_options\":{}}")]
    [InlineData("{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":false}}")]
    [InlineData("{\"model\":\"m\",\"stream_options\":{\"x\":{\"include_usage\":false}},\"stream\":true}")]
    [InlineData("{ \"model\" : \"m\" ,\n \"stream\" : true }")]
    public void InjectIncludeUsage_SetsItAndKeepsEverythingElse(string body)
    {
        var rewritten = OpenAIRequestInfo.InjectIncludeUsage(Encoding.UTF8.GetBytes(body));

        Assert.NotNull(rewritten);
        var info = OpenAIRequestInfo.Parse(rewritten);
        Assert.True(info.IncludeUsage);
        Assert.True(info.Stream);
        Assert.Equal("m", info.Model);
        var original = JsonDocument.Parse(body).RootElement;
        var after = JsonDocument.Parse(rewritten).RootElement;
        foreach (var p in original.EnumerateObject().Where(p => p.Name != "stream_options"))
        {
            Assert.Equal(p.Value.GetRawText(), after.GetProperty(p.Name).GetRawText());
        }
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("{\"stream_options\":\"yes\"}")]
    [InlineData("{\"model\":")]
    public void InjectIncludeUsage_GivesUpOnOddBodies(string body)
    {
        Assert.Null(OpenAIRequestInfo.InjectIncludeUsage(Encoding.UTF8.GetBytes(body)));
    }

    [Fact]
    public void Parse_ReadsModelStreamAndIncludeUsage_IgnoringNestedLookalikes()
    {
        var info = OpenAIRequestInfo.Parse("{\"messages\":[{\"model\":\"no\",\"stream\":true}],\"model\":\"gpt-4o\",\"stream_options\":{\"include_usage\":true},\"stream\":true}"u8);

        Assert.Equal(new OpenAIRequestInfo("gpt-4o", true, true), info);
    }
}
