using System.Text;
using Microsoft.Extensions.AI;

namespace TokenMetrics.Tokenizer.Tests;

public class EstimatorTests
{
    private readonly TiktokenTokenEstimator _estimator = TiktokenTokenEstimator.Instance;

    [Fact]
    public void TextUsesTheModelsEncodingAndSaysWhich()
    {
        const string Text = "Streaming answers are counted with the model's own encoding.";
        Assert.Equal(new TokenEstimate(TiktokenEncoding.O200kBase.CountTokens(Text), "o200k_base"), _estimator.CountText(Text, "gpt-4o-mini"));
        Assert.Equal(new TokenEstimate(TiktokenEncoding.Cl100kBase.CountTokens(Text), "cl100k_base"), _estimator.CountText(Text, "gpt-4-turbo"));
        Assert.Equal("o200k_base~approx", _estimator.CountText(Text, "claude-sonnet-4-5").Method);
        Assert.Equal("o200k_base~approx", _estimator.CountText(Text, null).Method);
        Assert.Equal(0, _estimator.CountText(string.Empty, "gpt-4o").Tokens);
    }

    [Fact]
    public void ModelIsReadFromTheRequestWhenNotGiven()
    {
        var json = """{"model":"gpt-4","messages":[{"role":"user","content":"hi"}]}"""u8;
        var estimate = _estimator.CountRequest(json, null);
        // 3 per message + "user" + "hi" + 3 priming
        Assert.Equal(new TokenEstimate(3 + 1 + 1 + 3, "cl100k_base"), estimate);
    }

    [Fact]
    public void AnthropicAndGeminiRequestsAreApproximations()
    {
        var anthropic = """
            {"model":"claude-sonnet-4-5","system":"Be brief.","messages":[{"role":"user","content":[{"type":"text","text":"Hello there"}]},
             {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"lookup","input":{"q":"x"}}]},
             {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"result text"}]}],
             "tools":[{"name":"lookup","description":"Looks up.","input_schema":{"type":"object","properties":{"q":{"type":"string","description":"Query."}}}}]}
            """;
        var a = _estimator.CountRequest(Encoding.UTF8.GetBytes(anthropic), null);
        Assert.Equal("o200k_base~approx", a.Method);
        Assert.InRange(a.Tokens, 30, 80);

        var gemini = """{"contents":[{"role":"user","parts":[{"text":"Hello there, Gemini"}]}],"systemInstruction":{"parts":[{"text":"Be brief."}]}}""";
        var g = _estimator.CountRequest(Encoding.UTF8.GetBytes(gemini), "gemini-2.5-flash");
        Assert.Equal("o200k_base~approx", g.Method);
        Assert.Equal(3 + 1 + TiktokenEncoding.O200kBase.CountTokens("Be brief.") + 3 + 1 + TiktokenEncoding.O200kBase.CountTokens("Hello there, Gemini") + 3, g.Tokens);
    }

    [Fact]
    public void ResponsesAndEmbeddingsInputs()
    {
        var responses = _estimator.CountRequest("""{"model":"gpt-5","instructions":"Be brief.","input":"Tell me a joke."}"""u8, null);
        Assert.Equal(3 + 1 + 3 + 3 + 1 + 5 + 3, responses.Tokens);
        var embeddings = _estimator.CountRequest("""{"model":"text-embedding-3-small","input":["hello world","hello"]}"""u8, null);
        Assert.Equal(new TokenEstimate(3, "cl100k_base"), embeddings);
    }

    [Theory]
    [InlineData("""{"model":"gpt-4o","messages":[{"role":"user","content":"hello world and more""")]
    [InlineData("""{"messages":[{"role":"user","content":"hello world"}""")]
    [InlineData("not json at all")]
    [InlineData("")]
    [InlineData("[1,2,3]")]
    public void MalformedJsonGivesBestEffortWithoutThrowing(string json)
    {
        var estimate = _estimator.CountRequest(Encoding.UTF8.GetBytes(json), null);
        Assert.True(estimate.Tokens >= 0);
        if (json.Contains("hello world", StringComparison.Ordinal))
        {
            Assert.True(estimate.Tokens >= 2, $"{estimate.Tokens}");
        }
    }

    [Fact]
    public void MessagesWithToolCallsAndResults()
    {
        var messages = new List<ChatMessage>
        {
            new(ChatRole.User, "What is 2+2?"),
            new(ChatRole.Assistant, [new FunctionCallContent("c1", "add", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 2 })]),
            new(ChatRole.Tool, [new FunctionResultContent("c1", 4)]),
        };
        var estimate = _estimator.CountMessages(messages, null, "gpt-4o");
        var o200k = TiktokenEncoding.O200kBase;
        var expected = (3 * 3) + 3
            + o200k.CountTokens("user") + o200k.CountTokens("What is 2+2?")
            + o200k.CountTokens("assistant") + 3 + o200k.CountTokens("add") + o200k.CountTokens("""{"a":2,"b":2}""")
            + o200k.CountTokens("tool") + o200k.CountTokens("4");
        Assert.Equal(new TokenEstimate(expected, "o200k_base"), estimate);
    }
}
