using System.Net;
using System.Text;
using TokenMetrics.Providers.Tests.Support;
using TokenMetrics.Testing;

namespace TokenMetrics.Providers.Tests.DeepL;

/// <summary>Metering of the mock's DeepL endpoint through <see cref="TokenMetricsHandler"/> over real sockets: billed characters
/// land in the details, token counts stay null.</summary>
public sealed class DeepLMockMeteringTests : IAsyncLifetime
{
    private MockLlmServer _server = null!;

    public async Task InitializeAsync() => _server = await MockLlmServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private HttpClient Client(TestRecorder recorder) =>
        new(new TokenMetricsHandler(recorder.Recorder, [DeepLTokenMetricsBuilderExtensions.CreateDeepLProtocol(o => o.Hosts.Add("127.0.0.1")), TestRecorder.OpenAI], new SocketsHttpHandler()))
        {
            BaseAddress = _server.BaseAddress,
        };

    private static HttpRequestMessage Translate(string json, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v2/translate") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", "DeepL-Auth-Key test:fx");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    [Fact]
    public async Task BilledCharacters_AreSummedOverTheTranslations_IntoTheDetails()
    {
        await using var t = new TestRecorder(o => o.EstimateMissingUsage = false);
        using var client = Client(t);
        using var request = Translate("""{"text":["Hello, world!","Grüße 😀"],"target_lang":"DE","show_billed_characters":true,"model_type":"quality_optimized"}""");

        using var response = await client.SendAsync(request);
        _ = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal("deepl", record.Provider);
        Assert.Equal("translate", record.Operation);
        Assert.Equal("quality_optimized", record.RequestModel);
        Assert.Equal("quality_optimized", record.ResponseModel);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
        Assert.Equal(TokenUsageSource.Missing, record.Source);
        Assert.Equal(13 + 7, record.Usage.InputTokenDetails![DeepLProtocolOptions.BilledCharactersDetail]);
        Assert.Null(record.Usage.InputTokenCount);
        Assert.Null(record.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task BilledCharacters_AreWhatTheMockWasToldToReport()
    {
        await using var t = new TestRecorder(o => o.EstimateMissingUsage = false);
        using var client = Client(t);
        using var request = Translate("""{"text":["a","b","c"],"target_lang":"FR","show_billed_characters":true}""", (MockHeaders.PromptTokens, "250"));

        using var response = await client.SendAsync(request);
        _ = await response.Content.ReadAsStringAsync();

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(3 * 250, record.Usage.InputTokenDetails![DeepLProtocolOptions.BilledCharactersDetail]);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
    }

    [Fact]
    public async Task WithoutShowBilledCharacters_NoCharactersAreRecorded()
    {
        await using var t = new TestRecorder(o => o.EstimateMissingUsage = false);
        using var client = Client(t);
        using var request = Translate("""{"text":["Hello"],"target_lang":"DE"}""");

        using var response = await client.SendAsync(request);
        _ = await response.Content.ReadAsStringAsync();

        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
        Assert.Equal(TokenUsageSource.Missing, record.Source);
        Assert.Null(record.Usage.InputTokenDetails);
    }

    [Fact]
    public async Task QuotaExceeded_IsAnError()
    {
        await using var t = new TestRecorder();
        using var client = Client(t);
        using var request = Translate("""{"text":["Hello"],"target_lang":"DE","show_billed_characters":true}""", (MockHeaders.Status, "456"));

        using var response = await client.SendAsync(request);
        _ = await response.Content.ReadAsStringAsync();

        Assert.Equal(456, (int)response.StatusCode);
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Error, record.Status);
        Assert.Equal(456, record.HttpStatusCode);
    }
}
