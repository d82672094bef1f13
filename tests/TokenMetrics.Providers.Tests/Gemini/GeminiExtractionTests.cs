using System.Net;
using System.Net.Http.Headers;
using System.Text;
using TokenMetrics.Providers.Gemini;
using TokenMetrics.Providers.Rewriting;
using TokenMetrics.Providers.Tests.Support;
using Xunit.Abstractions;

namespace TokenMetrics.Providers.Tests.Gemini;

public class GeminiExtractionTests(ITestOutputHelper output)
{
    private static Func<TokenUsageResponseReader> Sse => () => new GeminiResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true);

    private static Func<TokenUsageResponseReader> Array => () => new GeminiResponseReader(DocumentFraming.Objects, 1 << 20, streaming: true);

    private static Func<TokenUsageResponseReader> Body => () => new GeminiResponseReader(DocumentFraming.Objects, 1 << 20, streaming: false);

    [Fact]
    public void NonStreamed_NormalisesThoughtsIntoOutput_AndCacheInsideInput()
    {
        var reader = VendorHarness.Run(Body, VendorHarness.Load("gemini/generate-content.json"));
        var u = reader.Usage!;
        Assert.Equal(1200, u.InputTokenCount);
        Assert.Equal(40 + 112, u.OutputTokenCount); // candidatesTokenCount excludes thoughts
        Assert.Equal(1352, u.TotalTokenCount);      // reported total includes them
        Assert.Equal(u.InputTokenCount + u.OutputTokenCount, u.TotalTokenCount);
        Assert.Equal(1024, u.CachedInputTokenCount);
        Assert.Equal(112, u.ReasoningTokenCount);
        Assert.Equal(40, u.OutputTokenDetails!["candidatesTokenCount"]);
        Assert.Equal(1024, u.InputTokenDetails!["cache.TEXT"]);
        Assert.Equal("gemini-2.5-flash", reader.ResponseModel);
        Assert.Equal("mAitaJbZD4ub1dkP8NbJ6AQ", reader.ResponseId);
        Assert.True(reader.Completed);
    }

    [Fact]
    public void ToolUsePromptTokens_AreInput()
    {
        var u = VendorHarness.Run(Body, VendorHarness.Load("gemini/function-call.json")).Usage!;
        Assert.Equal(61 + 20, u.InputTokenCount);
        Assert.Equal(6 + 31, u.OutputTokenCount);
        Assert.Equal(118, u.TotalTokenCount);
        Assert.Equal(u.TotalTokenCount, u.InputTokenCount + u.OutputTokenCount);
    }

    [Fact]
    public void SseStream_LastCumulativeValueWins_AndFinishReasonCompletes()
    {
        var reader = VendorHarness.Run(Sse, VendorHarness.Load("gemini/stream-sse.txt"));
        Assert.Equal(9, reader.Usage!.InputTokenCount);
        Assert.Equal(11 + 30, reader.Usage.OutputTokenCount);
        Assert.Equal(50, reader.Usage.TotalTokenCount);
        Assert.True(reader.Completed);
    }

    [Fact]
    public void JsonArrayStream_IsFramedPerElement()
    {
        var reader = VendorHarness.Run(Array, VendorHarness.Load("gemini/stream-array.json"));
        Assert.Equal(9, reader.Usage!.InputTokenCount);
        Assert.Equal(12, reader.Usage.OutputTokenCount);
        Assert.Equal(21, reader.Usage.TotalTokenCount);
        Assert.Equal(12, reader.Usage.OutputTokenDetails!["candidates.TEXT"]);
        Assert.Equal("gemini-2.0-flash", reader.ResponseModel);
        Assert.True(reader.Completed);
        Assert.Equal(0, ((JsonDocumentReader)reader).MalformedDocuments);
    }

    [Fact]
    public void VertexStream_FirstChunkWithoutCounts_LaterChunkFills()
    {
        var reader = VendorHarness.Run(Sse, VendorHarness.Load("gemini/vertex-stream-sse.txt"));
        Assert.Equal(5, reader.Usage!.InputTokenCount);
        Assert.Equal(68, reader.Usage.OutputTokenCount);
        Assert.Equal(73, reader.Usage.TotalTokenCount);
        Assert.Equal(64, reader.Usage.ReasoningTokenCount);
    }

    [Fact]
    public void StreamCutBeforeFinishReason_IsNotComplete_ButKeepsPartialUsage()
    {
        var body = VendorHarness.Load("gemini/stream-sse.txt");
        var text = Encoding.UTF8.GetString(body);
        var cut = Encoding.UTF8.GetBytes(text[..text.LastIndexOf("data:", StringComparison.Ordinal)]);
        var reader = VendorHarness.Run(Sse, cut);
        Assert.False(reader.Completed);
        Assert.Equal(9 + 30, reader.Usage!.OutputTokenCount);
    }

    [Fact]
    public void ErrorBody_SetsErrorType()
    {
        var reader = VendorHarness.Run(Body, VendorHarness.Load("gemini/error.json"));
        Assert.Equal("RESOURCE_EXHAUSTED", reader.ErrorType);
        Assert.Null(reader.Usage);
    }

    [Theory]
    [InlineData("gemini/stream-sse.txt", true)]
    [InlineData("gemini/vertex-stream-sse.txt", true)]
    [InlineData("gemini/stream-array.json", false)]
    [InlineData("gemini/generate-content.json", false)]
    public void EverySplit_GivesIdenticalExtraction(string fixture, bool sse)
    {
        var body = VendorHarness.Load(fixture);
        var create = sse ? Sse : fixture.Contains("array", StringComparison.Ordinal) ? Array : Body;
        var expected = VendorHarness.AssertSplitInvariant(create, body, output);
        Assert.DoesNotContain("usage=null", expected, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent", "gcp.gemini", "gemini-2.5-flash", false)]
    [InlineData("https://generativelanguage.googleapis.com/v1/models/gemini-2.0-flash:streamGenerateContent?alt=sse", "gcp.gemini", "gemini-2.0-flash", true)]
    [InlineData("https://us-central1-aiplatform.googleapis.com/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse", "gcp.vertex_ai", "gemini-2.5-pro", true)]
    [InlineData("https://aiplatform.googleapis.com/v1/publishers/google/models/gemini-2.5-flash:generateContent?key=EXPRESS-SECRET", "gcp.vertex_ai", "gemini-2.5-flash", false)]
    public async Task Detection_ProviderModelAndStreaming(string url, string provider, string model, bool streaming)
    {
        var protocol = GeminiTokenMetricsBuilderExtensions.CreateGeminiProtocol();
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        Assert.True(protocol.CanHandle(request));
        await using var recorder = new TestRecorder();
        using var client = new HttpClient(new TokenMetricsHandler(recorder.Recorder, [protocol], StubHttpHandler.Returning((_, _) =>
            new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(VendorHarness.Load("gemini/generate-content.json")) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } } })));
        using var response = await client.PostAsync(url, new StringContent("{}", Encoding.UTF8, "application/json"));
        _ = await response.Content.ReadAsByteArrayAsync();
        var record = Assert.Single(await recorder.RecordsAsync(1));
        Assert.Equal(provider, record.Provider);
        Assert.Equal(model, record.RequestModel);
        Assert.Equal(streaming, record.IsStreaming);
        Assert.Equal(TokenUsageSource.Reported, record.Source);
        Assert.DoesNotContain("SECRET", record.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("key=", record.Endpoint!, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(64 * 1024)]        // past the limit: head and tail windows
    [InlineData(8 * 1024 * 1024)]  // within it: the whole body
    public async Task HugeNonStreamedBody_InlineImageData_UsageStillFound(int maxInspectedBytes)
    {
        // An image answer: megabytes of base64 before the usage, which Gemini writes last.
        var image = Convert.ToBase64String(new byte[2_000_000]);
        var body = "{\n  \"candidates\": [{\"content\": {\"parts\": [{\"inlineData\": {\"mimeType\": \"image/png\", \"data\": \"" + image + "\"}}], \"role\": \"model\"}, \"finishReason\": \"STOP\"}],\n"
            + "  \"usageMetadata\": {\"promptTokenCount\": 12, \"candidatesTokenCount\": 1290, \"totalTokenCount\": 1302},\n  \"modelVersion\": \"gemini-2.5-flash-image\",\n  \"responseId\": \"resp-42\"\n}";
        const string Url = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash-image:generateContent";
        await using var recorder = new TestRecorder();
        using var client = new HttpClient(new TokenMetricsHandler(recorder.Recorder, [GeminiTokenMetricsBuilderExtensions.CreateGeminiProtocol()], StubHttpHandler.Returning((_, _) =>
            new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") }), new TokenMetricsHandlerOptions { MaxInspectedResponseBytes = maxInspectedBytes }));

        using var response = await client.PostAsync(Url, new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(body.Length, (await response.Content.ReadAsByteArrayAsync()).Length);

        var record = Assert.Single(await recorder.RecordsAsync(1));
        Assert.Equal(TokenUsageSource.Reported, record.Source);
        Assert.Equal(12, record.Usage.InputTokenCount);
        Assert.Equal(1290, record.Usage.OutputTokenCount);
        Assert.Equal("gemini-2.5-flash-image", record.ResponseModel);
        Assert.Equal("resp-42", record.ResponseId);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
    }

    [Theory]
    [InlineData("https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4:rawPredict")]
    [InlineData("https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4:generateContent")]
    [InlineData("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:countTokens")]
    [InlineData("https://api.openai.com/v1/chat/completions")]
    public void Detection_LeavesOtherPathsAlone(string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        Assert.False(GeminiTokenMetricsBuilderExtensions.CreateGeminiProtocol().CanHandle(request));
    }
}
