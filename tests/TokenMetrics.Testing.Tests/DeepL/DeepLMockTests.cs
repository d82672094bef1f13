using System.Net;
using System.Text.Json;
using static TokenMetrics.Testing.Tests.TestHelpers;

namespace TokenMetrics.Testing.Tests.DeepL;

/// <summary>The DeepL mock's wire format: one translation per text, <c>billed_characters</c> only on request.</summary>
public class DeepLMockTests
{
    [Fact]
    public async Task Translate_BilledCharacters_AreCodePointsPerText_WhenAskedFor()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (response, body) = await SendAsync(client, "v2/translate", """{"text":["Hello, world!","Grüße 😀"],"target_lang":"de","show_billed_characters":true,"model_type":"prefer_quality_optimized"}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(IsJsonContent(response));
        var translations = JsonDocument.Parse(body).RootElement.GetProperty("translations").EnumerateArray().ToList();
        Assert.Equal(2, translations.Count);
        Assert.Equal(13, translations[0].GetProperty("billed_characters").GetInt32());
        Assert.Equal(7, translations[1].GetProperty("billed_characters").GetInt32()); // the emoji is one code point (two UTF-16 units)
        Assert.Equal("[DE] Hello, world!", translations[0].GetProperty("text").GetString());
        Assert.Equal("EN", translations[0].GetProperty("detected_source_language").GetString());
        Assert.Equal("quality_optimized", translations[0].GetProperty("model_type_used").GetString());
    }

    [Fact]
    public async Task Translate_WithoutShowBilledCharacters_HasNoBilledCharactersNorModel()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, body) = await SendAsync(client, "v2/translate", """{"text":["Hello"],"target_lang":"FR","source_lang":"en"}""");

        var translation = Assert.Single(JsonDocument.Parse(body).RootElement.GetProperty("translations").EnumerateArray());
        Assert.False(translation.TryGetProperty("billed_characters", out _));
        Assert.False(translation.TryGetProperty("model_type_used", out _));
        Assert.Equal("EN", translation.GetProperty("detected_source_language").GetString());
    }

    [Fact]
    public async Task Translate_PromptTokensHeader_SetsEveryTranslationsBilledCharacters_AnswerSetsText()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (_, body) = await SendAsync(client, "v2/translate", """{"text":["a","bb"],"target_lang":"DE","show_billed_characters":true}""", (MockHeaders.PromptTokens, "40"), (MockHeaders.Answer, "Hallo%20Welt"));

        var translations = JsonDocument.Parse(body).RootElement.GetProperty("translations").EnumerateArray().ToList();
        Assert.All(translations, t => Assert.Equal(40, t.GetProperty("billed_characters").GetInt32()));
        Assert.All(translations, t => Assert.Equal("Hallo Welt", t.GetProperty("text").GetString()));
    }

    [Fact]
    public async Task Errors_AreDeepLMessages_QuotaIs456_AndInvalidRequestsAre400()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);

        var (quota, quotaBody) = await SendAsync(client, "v2/translate", """{"text":["x"],"target_lang":"DE"}""", (MockHeaders.Status, "456"));
        var (invalid, invalidBody) = await SendAsync(client, "v2/translate", """{"text":"not an array","target_lang":"DE"}""");

        Assert.Equal(456, (int)quota.StatusCode);
        Assert.Equal("Quota Exceeded", JsonDocument.Parse(quotaBody).RootElement.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("text", JsonDocument.Parse(invalidBody).RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cut_SendsHalfTheBody()
    {
        await using var server = await MockLlmServer.StartAsync();
        using var client = CreateClient(server);
        const string Request = """{"text":["Hello, world!"],"target_lang":"DE","show_billed_characters":true}""";

        var (_, whole) = await SendAsync(client, "v2/translate", Request);
        var (_, cut) = await SendAsync(client, "v2/translate", Request, (MockHeaders.CutAfter, "0"));

        Assert.Equal(whole.Length / 2, cut.Length);
        Assert.Equal(whole[..cut.Length], cut);
    }
}
