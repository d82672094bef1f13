using System.Text;
using TokenMetrics.Providers.OpenAI;

namespace TokenMetrics.Tests.Content;

/// <summary>Higress ai-statistics' TestExtractStreamingToolCalls and TestStreamingToolCalls, ported: bare JSON chunks, assembled by index.</summary>
public class StreamingToolCallTests
{
    private static IReadOnlyList<TokenUsageToolCall>? Assemble(params string[] chunks)
    {
        using var recorder = ContentTestKit.NewRecorder();
        var capture = ContentTestKit.NewCapture(recorder);
        foreach (var chunk in chunks)
        {
            OpenAIContent.ObserveChatChunk(Encoding.UTF8.GetBytes(chunk), capture);
        }

        return capture.Build()?.ToolCalls;
    }

    [Fact]
    public void SingleCall_IdTypeNameFromTheFirstChunk_ArgumentsAppended()
    {
        var calls = Assemble(
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_123","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}""",
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"location\":"}}]}}]}""",
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Beijing\"}"}}]}}]}""");

        var call = Assert.Single(calls!);
        Assert.Equal(0, call.Index);
        Assert.Equal("call_123", call.Id);
        Assert.Equal("function", call.Type);
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("""{"location":"Beijing"}""", call.Arguments);
    }

    [Fact]
    public void TwoInterleavedCalls_ComeOutInIndexOrder()
    {
        var calls = Assemble(
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_002","type":"function","function":{"name":"get_time","arguments":""}}]}}]}""",
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_001","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]}}]}""",
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"timezone\":\"UTC+8\"}"}}]}}]}""",
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Beijing\"}"}}]}}]}""");

        Assert.Equal(2, calls!.Count);
        Assert.Equal(("call_001", "get_weather", """{"city":"Beijing"}"""), (calls[0].Id, calls[0].Name, calls[0].Arguments));
        Assert.Equal(("call_002", "get_time", """{"timezone":"UTC+8"}"""), (calls[1].Id, calls[1].Name, calls[1].Arguments));
        Assert.Equal([0, 1], calls.Select(c => c.Index));
    }

    [Fact]
    public void EmptyAndContentOnlyChunks_GiveNoCalls()
    {
        Assert.Null(Assemble(
            """{"choices":[{"index":0,"delta":{"content":"Hello"}}]}""",
            """{"choices":[{"index":0,"delta":{}}]}""",
            """{"choices":[]}""",
            "{}"));
    }

    [Fact]
    public void FourFragmentCall_IsJoined()
    {
        var calls = Assemble(ContentTestKit.FourFragmentToolCall[..5]);
        var call = Assert.Single(calls!);
        Assert.Equal(("call_abc123", "function", "get_weather", """{"location": "Beijing"}"""), (call.Id, call.Type, call.Name, call.Arguments));
    }

    [Fact]
    public void EmptyValues_DoNotOverwrite_AndGapsAreSkipped()
    {
        var calls = Assemble(
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":2,"id":"call_c","type":"function","function":{"name":"c","arguments":"{}"}}]}}]}""",
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"a","arguments":"{"}}]}}]}""",
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"","type":"","function":{"name":"","arguments":"}"}}]}}]}""");

        Assert.Equal([0, 2], calls!.Select(c => c.Index));
        Assert.Equal(("call_a", "function", "a", "{}"), (calls![0].Id, calls[0].Type, calls[0].Name, calls[0].Arguments));
    }

    [Fact]
    public void OnlyChoiceZero_IsCaptured()
    {
        using var recorder = ContentTestKit.NewRecorder();
        var capture = ContentTestKit.NewCapture(recorder);
        OpenAIContent.ObserveChatChunk("""{"choices":[{"index":1,"delta":{"content":"second","tool_calls":[{"index":0,"id":"x","function":{"name":"n"}}]}}]}"""u8, capture);
        OpenAIContent.ObserveChatChunk("""{"choices":[{"index":0,"delta":{"content":"first"}}]}"""u8, capture);

        var content = capture.Build()!;
        Assert.Equal("first", content.Answer);
        Assert.Null(content.ToolCalls);
    }

    [Fact]
    public void NonStreamedToolCalls_WithNullContent()
    {
        using var recorder = ContentTestKit.NewRecorder();
        var capture = ContentTestKit.NewCapture(recorder);
        OpenAIContent.ObserveBody("""
            {"id":"chatcmpl-2","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null,
             "tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Beijing\"}"}},
                           {"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}
            """u8, capture);

        var content = capture.Build()!;
        Assert.Null(content.Answer);
        Assert.Equal(["call_1", "call_2"], content.ToolCalls!.Select(c => c.Id));
        Assert.Equal([0, 1], content.ToolCalls!.Select(c => c.Index));
        Assert.Equal("""{"location":"Beijing"}""", content.ToolCalls![0].Arguments);
    }

    [Fact]
    public void AbsurdIndices_AreBounded()
    {
        var chunks = Enumerable.Range(0, ToolCallAssemblerLimit + 50)
            .Select(i => $$$"""{"choices":[{"index":0,"delta":{"tool_calls":[{"index":{{{i * 1000}}},"id":"c{{{i}}}","function":{"name":"f","arguments":"{}"}}]}}]}""")
            .ToArray();
        Assert.Equal(ToolCallAssemblerLimit, Assemble(chunks)!.Count);
    }

    private static int ToolCallAssemblerLimit => TokenMetrics.Internal.ToolCallAssembler.MaxCalls;
}
