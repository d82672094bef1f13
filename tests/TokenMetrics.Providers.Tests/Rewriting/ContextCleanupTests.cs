using System.Text.Json.Nodes;
using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Providers.Tests.Rewriting;

/// <summary>The twelve cases of Higress ai-proxy's TestCleanupContextMessages, ported.</summary>
public class ContextCleanupTests
{
    private static readonly string[] ChineseCommands = ["清理上下文", "/clear"];

    private static JsonObject Request(params (string Role, string Content)[] messages)
    {
        var array = new JsonArray();
        foreach (var (role, content) in messages)
        {
            array.Add(new JsonObject { ["role"] = role, ["content"] = content });
        }

        return new JsonObject { ["model"] = "gpt-3", ["messages"] = array };
    }

    private static (string Role, string Content)[] Messages(JsonObject request) =>
        request["messages"]!.AsArray().Select(m => ((string)m!["role"]!, (string?)m["content"] ?? string.Empty)).ToArray();

    [Fact]
    public void EmptyCleanupCommands_LeaveTheBodyUnchanged()
    {
        var request = Request(("system", "你是一个助手"), ("user", "清理上下文"), ("user", "新问题"));
        var before = request.ToJsonString();

        Assert.False(ContextCleanup.Apply(request, []));
        Assert.Equal(before, request.ToJsonString());
    }

    [Fact]
    public void NoMatchingCommand_LeavesTheBodyUnchanged()
    {
        var request = Request(("system", "你是一个助手"), ("user", "你好"), ("assistant", "你好！"), ("user", "新问题"));
        var before = request.ToJsonString();

        Assert.False(ContextCleanup.Apply(request, ChineseCommands));
        Assert.Equal(before, request.ToJsonString());
    }

    [Fact]
    public void SingleCommand_KeepsSystemAndWhatFollows()
    {
        var request = Request(("system", "你是一个助手"), ("user", "你好"), ("assistant", "你好！"), ("user", "清理上下文"), ("user", "新问题"));

        Assert.True(ContextCleanup.Apply(request, ChineseCommands));
        Assert.Equal([("system", "你是一个助手"), ("user", "新问题")], Messages(request));
    }

    [Fact]
    public void MultipleCommands_AnyOfThemMatches()
    {
        var request = Request(("system", "你是一个助手"), ("user", "你好"), ("assistant", "你好！"), ("user", "/clear"), ("user", "新问题"));

        Assert.True(ContextCleanup.Apply(request, ["清理上下文", "/clear", "重新开始"]));
        Assert.Equal([("system", "你是一个助手"), ("user", "新问题")], Messages(request));
    }

    [Fact]
    public void ToolMessagesBeforeTheCommand_AreRemoved()
    {
        var request = Request(("system", "你是一个助手"), ("user", "查天气"), ("assistant", ""), ("tool", "北京 25°C"), ("assistant", "北京今天25度"), ("user", "清理上下文"), ("user", "新问题"));

        Assert.True(ContextCleanup.Apply(request, ChineseCommands));
        Assert.Equal([("system", "你是一个助手"), ("user", "新问题")], Messages(request));
    }

    [Fact]
    public void SeveralSystemMessages_AreAllKept()
    {
        var request = Request(("system", "系统提示1"), ("system", "系统提示2"), ("user", "你好"), ("assistant", "你好！"), ("user", "清理上下文"), ("user", "新问题"));

        Assert.True(ContextCleanup.Apply(request, ChineseCommands));
        Assert.Equal([("system", "系统提示1"), ("system", "系统提示2"), ("user", "新问题")], Messages(request));
    }

    [Fact]
    public void TheLastMatchingCommandWins()
    {
        var request = Request(("system", "你是一个助手"), ("user", "问题1"), ("user", "清理上下文"), ("user", "问题2"), ("assistant", "回答2"), ("user", "清理上下文"), ("user", "最后问题"));

        Assert.True(ContextCleanup.Apply(request, ChineseCommands));
        Assert.Equal([("system", "你是一个助手"), ("user", "最后问题")], Messages(request));
    }

    [Fact]
    public void CommandAtTheEnd_LeavesOnlySystem()
    {
        var request = Request(("system", "你是一个助手"), ("user", "你好"), ("assistant", "你好！"), ("user", "清理上下文"));

        Assert.True(ContextCleanup.Apply(request, ChineseCommands));
        Assert.Equal([("system", "你是一个助手")], Messages(request));
    }

    [Fact]
    public void WithoutSystemMessage_KeepsOnlyWhatFollows()
    {
        var request = Request(("user", "你好"), ("assistant", "你好！"), ("user", "清理上下文"), ("user", "新问题"));

        Assert.True(ContextCleanup.Apply(request, ChineseCommands));
        Assert.Equal([("user", "新问题")], Messages(request));
    }

    [Fact]
    public void EmptyMessages_StayEmpty()
    {
        var request = Request();

        Assert.False(ContextCleanup.Apply(request, ChineseCommands));
        Assert.Empty(Messages(request));
    }

    [Fact]
    public void PartialMatch_DoesNotTrigger()
    {
        var request = Request(("system", "你是一个助手"), ("user", "请清理上下文吧"), ("user", "新问题"));
        var before = request.ToJsonString();

        Assert.False(ContextCleanup.Apply(request, ChineseCommands));
        Assert.Equal(before, request.ToJsonString());
    }

    [Fact]
    public void InvalidJsonBody_IsRejectedWithAClearError_NotSilentlyChanged()
    {
        var options = new TokenMetricsRewriteOptions();
        options.ContextCleanupCommands.Add("/clear");

        var ex = Assert.Throws<NotSupportedException>(() => OpenAIChatRequest.Parse("{invalid json"u8, options));
        Assert.Contains("not valid JSON", ex.Message, StringComparison.Ordinal);
    }
}
