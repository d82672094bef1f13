using System.Net;
using System.Text;
using TokenMetrics.Providers.DeepL;
using TokenMetrics.Providers.Tests.Support;

namespace TokenMetrics.Providers.Tests.DeepL;

/// <summary>DeepL bills characters. Decision: characters go to the details, token counts stay null, and the record is never
/// "Reported" with null counts (it is Missing, or Estimated when estimation is on).</summary>
public class DeepLTests
{
    [Fact]
    public void Reader_SumsBilledCharacters_IntoDetails_TokensNull()
    {
        var reader = VendorHarness.Run(() => new DeepLResponseReader(1 << 20), VendorHarness.Load("deepl/translate.json"));
        var usage = reader.Usage!;
        Assert.Equal(25, usage.InputTokenDetails![DeepLProtocolOptions.BilledCharactersDetail]);
        Assert.Null(usage.InputTokenCount);
        Assert.Null(usage.OutputTokenCount);
        Assert.Null(usage.TotalTokenCount);
        Assert.True(usage.IsEmpty); // no token count is known
        Assert.True(reader.Completed);
        Assert.Equal("quality_optimized", reader.ResponseModel);
    }

    [Fact]
    public async Task Record_IsNotReported_WhenOnlyCharactersAreKnown()
    {
        await using var recorder = new TestRecorder(o => o.EstimateMissingUsage = false);
        using var client = new HttpClient(new TokenMetricsHandler(recorder.Recorder, [DeepLTokenMetricsBuilderExtensions.CreateDeepLProtocol()], StubHttpHandler.Returning((_, _) =>
            StubHttpHandler.Json(Encoding.UTF8.GetString(VendorHarness.Load("deepl/translate.json"))))));
        using var response = await client.PostAsync("https://api-free.deepl.com/v2/translate", new StringContent("{\"text\":[\"Hello, world!\"],\"target_lang\":\"DE\",\"show_billed_characters\":true}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        _ = await response.Content.ReadAsStringAsync();
        var record = Assert.Single(await recorder.RecordsAsync(1));
        Assert.Equal("deepl", record.Provider);
        Assert.Equal("translate", record.Operation);
        Assert.Equal(TokenUsageSource.Missing, record.Source);
        Assert.Null(record.Usage.InputTokenCount);
        Assert.True(record.Usage.InputTokenDetails!["billed_characters"] > 0); // the billed unit survives on the record
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
    }
}
