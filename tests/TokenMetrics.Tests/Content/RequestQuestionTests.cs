using System.Text;
using TokenMetrics.Internal;

namespace TokenMetrics.Tests.Content;

public class RequestQuestionTests
{
    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":"first"},{"role":"assistant","content":"a"},{"role":"user","content":"last \u00e9"}]}""", "last é")]
    [InlineData("""{"messages":[{"content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"data:..."}},{"type":"text","text":"b"}],"role":"user"}]}""", "a\nb")]
    [InlineData("""{"messages":[{"role":"user","content":"q"},{"role":"tool","content":"result"}]}""", "q")]
    [InlineData("""{"model":"gpt-5","input":"plain input"}""", "plain input")]
    [InlineData("""{"input":[{"role":"user","content":[{"type":"input_text","text":"from items"}]},{"type":"function_call_output","call_id":"c","output":"x"}]}""", "from items")]
    [InlineData("""{"contents":[{"parts":[{"text":"gemini one"}]},{"role":"model","parts":[{"text":"answer"}]},{"role":"user","parts":[{"text":"gemini two"}]}]}""", "gemini two")]
    [InlineData("""{"model":"davinci","prompt":"legacy"}""", "legacy")]
    public void FindsTheLastUserMessage(string json, string expected) =>
        Assert.Equal(expected, RequestQuestion.Find(Encoding.UTF8.GetBytes(json)));

    [Theory]
    [InlineData("""{"messages":[{"role":"system","content":"only system"}]}""")]
    [InlineData("""{"messages":[{"role":"user","content":""}]}""")]
    [InlineData("""[1,2]""")]
    [InlineData("""not json""")]
    [InlineData("")]
    public void NoUserText_GivesNull(string json) => Assert.Null(RequestQuestion.Find(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void CutBody_KeepsWhatWasFoundBeforeTheCut()
    {
        var json = """{"messages":[{"role":"user","content":"complete"},{"role":"user","content":"cut her""";
        Assert.Equal("complete", RequestQuestion.Find(Encoding.UTF8.GetBytes(json)));
    }
}
