using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace TokenMetrics.Tokenizer.Tests;

/// <summary>The chat formula against the prompt_tokens that the OpenAI API reported for the OpenAI Cookbook's examples
/// ("How to count tokens with tiktoken": 129 on gpt-3.5-turbo/gpt-4, 124 on gpt-4o/gpt-4o-mini; with the weather function
/// 105 and 101).</summary>
public class ChatCountingTests
{
    private const string CookbookMessages = """
        [
          {"role": "system", "content": "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
          {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
          {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
          {"role": "system", "name": "example_user", "content": "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
          {"role": "system", "name": "example_assistant", "content": "Let's talk later when we're less busy about how to do better."},
          {"role": "user", "content": "This late pivot means we don't have time to boil the ocean for the client deliverable."}
        ]
        """;

    private const string WeatherTools = """
        [{"type": "function", "function": {
          "name": "get_current_weather",
          "description": "Get the current weather in a given location",
          "parameters": {"type": "object", "properties": {
            "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
            "unit": {"type": "string", "description": "The unit of temperature to return", "enum": ["celsius", "fahrenheit"]}},
            "required": ["location"]}}}]
        """;

    private const string WeatherMessages = """
        [{"role": "system", "content": "You are a helpful assistant that can answer to questions about the weather."},
         {"role": "user", "content": "What's the weather like in San Francisco?"}]
        """;

    [Theory]
    [InlineData("gpt-3.5-turbo", 129, "cl100k_base")]
    [InlineData("gpt-4", 129, "cl100k_base")]
    [InlineData("gpt-4o", 124, "o200k_base")]
    [InlineData("gpt-4o-mini", 124, "o200k_base")]
    public void RequestJsonMatchesReportedPromptTokens(string model, int promptTokens, string encoding)
    {
        var json = $$"""{"model": "{{model}}", "messages": {{CookbookMessages}}}""";
        var estimate = TiktokenTokenEstimator.Instance.CountRequest(Encoding.UTF8.GetBytes(json), null);
        Assert.Equal(new TokenEstimate(promptTokens, encoding), estimate);
    }

    [Theory]
    [InlineData("gpt-3.5-turbo", 105)]
    [InlineData("gpt-4", 105)]
    [InlineData("gpt-4o", 101)]
    [InlineData("gpt-4o-mini", 101)]
    public void ToolDefinitionsMatchReportedPromptTokens(string model, int promptTokens)
    {
        var json = $$"""{"model": "{{model}}", "messages": {{WeatherMessages}}, "tools": {{WeatherTools}}}""";
        Assert.Equal(promptTokens, TiktokenTokenEstimator.Instance.CountRequest(Encoding.UTF8.GetBytes(json), model).Tokens);
    }

    [Theory]
    [InlineData("gpt-4", 129)]
    [InlineData("gpt-4o", 124)]
    public void ChatMessagesCountLikeTheirJson(string model, int promptTokens)
    {
        var messages = JsonDocument.Parse(CookbookMessages).RootElement.EnumerateArray().Select(m =>
            new ChatMessage(new ChatRole(m.GetProperty("role").GetString()!), m.GetProperty("content").GetString())
            {
                AuthorName = m.TryGetProperty("name", out var n) ? n.GetString() : null,
            }).ToList();
        Assert.Equal(promptTokens, TiktokenTokenEstimator.Instance.CountMessages(messages, null, model).Tokens);
    }

    [Fact]
    public void ChatToolsCountLikeTheirJson()
    {
        var function = JsonDocument.Parse(WeatherTools).RootElement[0].GetProperty("function");
        var tool = AIFunctionFactory.CreateDeclaration(
            function.GetProperty("name").GetString()!, function.GetProperty("description").GetString(), function.GetProperty("parameters"));
        var messages = new List<ChatMessage>
        {
            new(ChatRole.System, "You are a helpful assistant that can answer to questions about the weather."),
            new(ChatRole.User, "What's the weather like in San Francisco?"),
        };
        Assert.Equal(101, TiktokenTokenEstimator.Instance.CountMessages(messages, new ChatOptions { Tools = [tool] }, "gpt-4o").Tokens);
    }
}
