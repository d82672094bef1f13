using TokenMetrics.Providers.Cohere;
using TokenMetrics.Providers.Rewriting;
using TokenMetrics.Providers.Tests.Support;
using Xunit.Abstractions;

namespace TokenMetrics.Providers.Tests.Cohere;

public class CohereTests(ITestOutputHelper output)
{
    private static Func<TokenUsageResponseReader> Sse => () => new CohereResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true);

    [Fact]
    public void NonStreamed_BilledUnitsAreTheCounts_ProcessedTokensInDetails()
    {
        var reader = VendorHarness.Run(() => new CohereResponseReader(DocumentFraming.Objects, 1 << 20, streaming: false), VendorHarness.Load("cohere/chat.json"));
        Assert.Equal(17, reader.Usage!.InputTokenCount);
        Assert.Equal(12, reader.Usage.OutputTokenCount);
        Assert.Equal(215, reader.Usage.InputTokenDetails!["tokens.input_tokens"]);
        Assert.Equal(0, reader.Usage.CachedInputTokenCount);
        Assert.True(reader.Completed);
    }

    [Fact]
    public void Stream_MessageEndIsTerminal_AndCarriesUsage()
    {
        var reader = VendorHarness.Run(Sse, VendorHarness.Load("cohere/chat-stream.txt"));
        Assert.Equal(3, reader.Usage!.InputTokenCount);
        Assert.Equal(2, reader.Usage.OutputTokenCount);
        Assert.Equal(69, reader.Usage.InputTokenDetails!["tokens.input_tokens"]);
        Assert.True(reader.Completed);
        Assert.Equal("29f14a5a-11de-4cae-9800-25e4747408ea", reader.ResponseId);
    }

    [Fact]
    public void EverySplit_GivesIdenticalExtraction() =>
        VendorHarness.AssertSplitInvariant(Sse, VendorHarness.Load("cohere/chat-stream.txt"), output);

    [Fact]
    public void Detection()
    {
        using var chat = new HttpRequestMessage(HttpMethod.Post, "https://api.cohere.com/v2/chat");
        using var other = new HttpRequestMessage(HttpMethod.Post, "https://example.com/v2/chat");
        var protocol = CohereTokenMetricsBuilderExtensions.CreateCohereProtocol();
        Assert.True(protocol.CanHandle(chat));
        Assert.False(protocol.CanHandle(other));
    }
}
