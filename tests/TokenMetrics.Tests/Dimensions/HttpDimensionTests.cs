using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using TokenMetrics.Internal;
using TokenMetrics.Testing;
using TokenMetrics.Tests.Http;
using TokenMetrics.Tests.TestHelpers;

namespace TokenMetrics.Tests.Dimensions;

/// <summary>Attribution headers, dimensions, metric-label guards and filters on the handler path.</summary>
public sealed class HttpDimensionTests
{
    private static HttpRequestMessage Chat(bool stream, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "chat/completions")
        {
            // Streams ask for usage themselves, so the app reads the vendor's exact bytes (nothing withheld).
            Content = new StringContent(OpenAIFixtures.ChatRequest(stream, stream ? "{\"include_usage\":true}" : null), Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private static StubHttpHandler JsonAnswer(Action<HttpResponseMessage>? decorate = null) => StubHttpHandler.Returning((_, _) =>
    {
        var response = StubHttpHandler.Json(OpenAIFixtures.ChatCompletionJson());
        decorate?.Invoke(response);
        return response;
    });

    private static async Task<TokenUsageRecord> SendOneAsync(TokenMetricsHandlerOptions options, HttpRequestMessage request, HttpMessageHandler? primary = null)
    {
        await using var t = new TestRecorder();
        using var client = t.CreateClient(primary ?? JsonAnswer(), options);
        using var response = await client.SendAsync(request);
        _ = await HttpHandlerTestsAccess.ReadAllAsync(response);
        return Assert.Single(await t.RecordsAsync(1));
    }

    [Theory]
    [InlineData(null, "x-agent-session=a;x-moltbot-session-key=m", "m")]
    [InlineData(null, "x-agent-session=a;x-clawdbot-session-key=c;x-openclaw-session-key=o", "o")]
    [InlineData(null, "x-agent-session=a", "a")]
    [InlineData(null, "x-openclaw-session-key=;x-clawdbot-session-key=c", "c")] // empty values are skipped
    [InlineData("x-session-id", "x-openclaw-session-key=o;x-session-id=custom", "custom")]
    [InlineData("x-session-id", "x-openclaw-session-key=o", "o")] // custom header absent: defaults still apply
    [InlineData(null, "x-session-id=custom", null)]
    public async Task SessionId_CustomHeaderFirst_ThenSeedOrder_FirstNonEmptyWins(string? custom, string headers, string? expected)
    {
        var pairs = headers.Split(';').Select(h => h.Split('=')).Select(p => (p[0], p[1])).ToArray();
        var record = await SendOneAsync(new TokenMetricsHandlerOptions { SessionIdHeader = custom }, Chat(false, pairs));
        Assert.Equal(expected, record.SessionId);
    }

    [Fact]
    public async Task ConsumerUserAndFeatureHeaders_FillTheRecord_CodeSetValuesWin()
    {
        var options = new TokenMetricsHandlerOptions { UserIdHeader = "x-user", FeatureHeader = "x-feature" };
        var fromHeaders = await SendOneAsync(options, Chat(false, ("x-mse-consumer", "clawdbot"), ("x-user", "u-1"), ("x-feature", "search"), ("x-agent-session", "s-h")));
        Assert.Equal("clawdbot", fromHeaders.Consumer);
        Assert.Equal("u-1", fromHeaders.UserId);
        Assert.Equal("search", fromHeaders.Feature);
        Assert.Equal("s-h", fromHeaders.SessionId);

        // An explicit scope is the app's own word: it wins over a header, which only fills what the code left unset.
        TokenUsageRecord fromScope;
        using (TokenMetricsScope.Begin(new TokenUsageAttribution { UserId = "u-code", SessionId = "s-code" }))
        {
            fromScope = await SendOneAsync(options, Chat(false, ("x-mse-consumer", "clawdbot"), ("x-user", "u-1"), ("x-agent-session", "s-h")));
        }

        Assert.Equal("u-code", fromScope.UserId);
        Assert.Equal("s-code", fromScope.SessionId);
        Assert.Equal("clawdbot", fromScope.Consumer);
    }

    [Fact]
    public async Task EachDimensionSource_LandsInTags_OnNonStreamedJson()
    {
        var options = new TokenMetricsHandlerOptions();
        options.Dimensions.Add(new TokenUsageDimension { Name = "env", Source = TokenUsageDimensionSource.FixedValue, Value = "prod" });
        options.Dimensions.Add(new TokenUsageDimension { Name = "team", Source = TokenUsageDimensionSource.RequestHeader, Value = "x-team" });
        options.Dimensions.Add(new TokenUsageDimension { Name = "question", Source = TokenUsageDimensionSource.RequestBody, Value = "messages.@reverse.0.content" });
        options.Dimensions.Add(new TokenUsageDimension { Name = "asked", Source = TokenUsageDimensionSource.RequestBody, Value = "model" });
        options.Dimensions.Add(new TokenUsageDimension { Name = "region", Source = TokenUsageDimensionSource.ResponseHeader, Value = "x-region" });
        options.Dimensions.Add(new TokenUsageDimension { Name = "finish", Source = TokenUsageDimensionSource.ResponseBody, Value = "choices.0.finish_reason" });
        options.Dimensions.Add(new TokenUsageDimension { Name = "cached", Source = TokenUsageDimensionSource.ResponseBody, Value = "usage.prompt_tokens_details.cached_tokens" });
        options.Dimensions.Add(new TokenUsageDimension { Name = "absent", Source = TokenUsageDimensionSource.ResponseBody, Value = "no.such.path", DefaultValue = "n/a" });
        options.Dimensions.Add(new TokenUsageDimension { Name = "missing", Source = TokenUsageDimensionSource.RequestHeader, Value = "x-nothing" });
        options.Dimensions.Add(new TokenUsageDimension { Name = "metric-only", Source = TokenUsageDimensionSource.FixedValue, Value = "x", ApplyToLog = false, ApplyToMetric = true });

        var record = await SendOneAsync(options, Chat(false, ("x-team", "search-team")), JsonAnswer(r => r.Headers.Add("x-region", "eu-west")));

        var tags = record.Tags!;
        Assert.Equal("prod", tags["env"]);
        Assert.Equal("search-team", tags["team"]);
        Assert.Equal("Say hello", tags["question"]);
        Assert.Equal(OpenAIFixtures.Model, tags["asked"]);
        Assert.Equal("eu-west", tags["region"]);
        Assert.Equal("stop", tags["finish"]);
        Assert.Equal("0", tags["cached"]);
        Assert.Equal("n/a", tags["absent"]);
        Assert.False(tags.ContainsKey("missing"));
        Assert.False(tags.ContainsKey("metric-only"));
        Assert.Equal(TokenUsageSource.Reported, record.Source);
    }

    [Fact]
    public async Task DimensionTags_DoNotOverrideTagsSetInCode()
    {
        var options = new TokenMetricsHandlerOptions();
        options.Dimensions.Add(new TokenUsageDimension { Name = "team", Source = TokenUsageDimensionSource.RequestHeader, Value = "x-team" });
        options.Dimensions.Add(new TokenUsageDimension { Name = "env", Source = TokenUsageDimensionSource.FixedValue, Value = "prod" });
        TokenUsageRecord record;
        using (TokenMetricsScope.Begin(new TokenUsageAttribution { Tags = new Dictionary<string, string> { ["team"] = "from-code", ["extra"] = "1" } }))
        {
            record = await SendOneAsync(options, Chat(false, ("x-team", "from-header")));
        }

        Assert.Equal("from-code", record.Tags!["team"]);
        Assert.Equal("1", record.Tags["extra"]);
        Assert.Equal("prod", record.Tags["env"]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(64)]
    public async Task ResponseBodyPath_OnSseSplitAtOddBytes_TakesTheLastEventThatHasIt(int chunk)
    {
        var options = new TokenMetricsHandlerOptions();
        options.Dimensions.Add(new TokenUsageDimension { Name = "finish", Source = TokenUsageDimensionSource.ResponseBody, Value = "choices.0.finish_reason" });
        options.Dimensions.Add(new TokenUsageDimension { Name = "total", Source = TokenUsageDimensionSource.ResponseBody, Value = "usage.total_tokens" });
        options.Dimensions.Add(new TokenUsageDimension { Name = "last-word", Source = TokenUsageDimensionSource.ResponseBody, Value = "choices.0.delta.content" });
        var body = OpenAIFixtures.ChatStream(includeUsage: true, prompt: 19);
        var primary = StubHttpHandler.Returning((_, _) => StubHttpHandler.Sse(body, [chunk, chunk + 2, 1]));

        await using var t = new TestRecorder();
        using var client = t.CreateClient(primary, options);
        using var response = await client.SendAsync(Chat(true, ("x-agent-session", "s1")), HttpCompletionOption.ResponseHeadersRead);
        var read = await TokenMetricsHandlerTests.ReadAllInOddReadsAsync(response, readSize: chunk);
        var record = Assert.Single(await t.RecordsAsync(1));

        Assert.Equal(body, read); // the app's bytes are unchanged
        // finish_reason is null in every chunk but the last content chunk; the usage chunk has no choices: "stop" stays.
        Assert.Equal("stop", record.Tags!["finish"]);
        Assert.Equal((19 + OpenAIFixtures.Words.Length).ToString(System.Globalization.CultureInfo.InvariantCulture), record.Tags["total"]);
        Assert.Equal(OpenAIFixtures.Words[^1], record.Tags["last-word"]);
        Assert.Equal("s1", record.SessionId);
    }

    [Fact]
    public async Task MockServer_StreamedAndGzipped_HeadersAndResponseBodyDimensionsOverRealSockets()
    {
        await using var server = await MockLlmServer.StartAsync();
        await using var t = new TestRecorder();
        var options = new TokenMetricsHandlerOptions { SessionIdHeader = "x-session-id" };
        options.Dimensions.Add(new TokenUsageDimension { Name = "model", Source = TokenUsageDimensionSource.ResponseBody, Value = "model" });
        options.Dimensions.Add(new TokenUsageDimension { Name = "cache", Source = TokenUsageDimensionSource.ResponseHeader, Value = "Cache-Control" });
        using var client = new HttpClient(new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], new SocketsHttpHandler(), options)) { BaseAddress = new Uri(server.BaseAddress, "v1/") };

        foreach (var gzip in new[] { "false", "true" })
        {
            using var request = Chat(true, ("x-session-id", "sess_abc123"), ("x-mse-consumer", "clawdbot"), (MockHeaders.Gzip, gzip), (MockHeaders.SplitBytes, "5"));
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            _ = await TokenMetricsHandlerTests.ReadAllInOddReadsAsync(response, readSize: 3);
        }

        var records = await t.RecordsAsync(2);
        Assert.Equal(2, records.Count);
        foreach (var record in records)
        {
            Assert.Equal("sess_abc123", record.SessionId);
            Assert.Equal("clawdbot", record.Consumer);
            Assert.Equal(record.ResponseModel, record.Tags!["model"]);
            Assert.Equal("no-cache", record.Tags["cache"]);
            Assert.Equal(TokenUsageSource.Reported, record.Source);
        }
    }

    [Fact]
    public async Task LongHeaderValue_IsCutInTheMiddle_WithTheTruncatedMarker()
    {
        var value = new string('a', 3000) + new string('z', 3000);
        var options = new TokenMetricsHandlerOptions { ConsumerHeader = "x-consumer" };
        options.Dimensions.Add(new TokenUsageDimension { Name = "long", Source = TokenUsageDimensionSource.RequestHeader, Value = "x-long" });
        var record = await SendOneAsync(options, Chat(false, ("x-long", value), ("x-consumer", value)));

        var expected = new string('a', 2000) + " [truncated] " + new string('z', 2000);
        Assert.Equal(expected, record.Tags!["long"]);
        Assert.Equal(expected, record.Consumer);
    }

    [Theory]
    [InlineData("Authorization")]
    [InlineData("x-api-key")]
    [InlineData("api-key")]
    [InlineData("Proxy-Authorization")]
    [InlineData("x-goog-api-key")]
    [InlineData("Cookie")]
    [InlineData("x-my-custom-apikey")]
    public async Task CredentialHeader_AsAnySource_IsRejectedAtStartUp(string header)
    {
        await using var t = new TestRecorder();
        var asDimension = new TokenMetricsHandlerOptions();
        asDimension.Dimensions.Add(new TokenUsageDimension { Name = "k", Source = TokenUsageDimensionSource.RequestHeader, Value = header });
        var ex = Assert.Throws<ValidationException>(() => new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], asDimension));
        Assert.Contains("credential", ex.Message, StringComparison.Ordinal);

        var asResponse = new TokenMetricsHandlerOptions();
        asResponse.Dimensions.Add(new TokenUsageDimension { Name = "k", Source = TokenUsageDimensionSource.ResponseHeader, Value = header });
        Assert.Throws<ValidationException>(() => new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], asResponse));
        Assert.Throws<ValidationException>(() => new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], new TokenMetricsHandlerOptions { ConsumerHeader = header }));
        Assert.Throws<ValidationException>(() => new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], new TokenMetricsHandlerOptions { UserIdHeader = header }));
        Assert.Throws<ValidationException>(() => new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], new TokenMetricsHandlerOptions { SessionIdHeader = header }));
    }

    [Fact]
    public async Task InvalidDimensions_AreRejectedAtStartUp_WithTheirPosition()
    {
        await using var t = new TestRecorder();
        var options = new TokenMetricsHandlerOptions();
        options.Dimensions.Add(new TokenUsageDimension { Name = "", Source = TokenUsageDimensionSource.FixedValue, Value = "x" });
        options.Dimensions.Add(new TokenUsageDimension { Name = "p", Source = TokenUsageDimensionSource.RequestBody, Value = "a..b" });
        options.Dimensions.Add(new TokenUsageDimension { Name = "gen_ai.request.model", Source = TokenUsageDimensionSource.FixedValue, Value = "x", ApplyToMetric = true });
        var ex = Assert.Throws<ValidationException>(() => new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI], options));
        Assert.Contains("Dimensions[0]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Dimensions[1]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Dimensions[2]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuthorizationHeader_NeverReachesTheRecord()
    {
        var options = new TokenMetricsHandlerOptions { UserIdHeader = "x-user" };
        options.Dimensions.Add(new TokenUsageDimension { Name = "team", Source = TokenUsageDimensionSource.RequestHeader, Value = "x-team" });
        var record = await SendOneAsync(options, Chat(false, ("Authorization", "Bearer sk-SECRET123"), ("api-key", "AZSECRET456"), ("x-user", "u"), ("x-team", "t")));
        var json = JsonSerializer.Serialize(record);
        Assert.DoesNotContain("SECRET", json, StringComparison.Ordinal);
        Assert.Equal("t", record.Tags!["team"]);
    }

    [Fact]
    public async Task MetricDimension_IsALabel_CappedAtMaxValuesThenOther()
    {
        var meterName = "TokenMetrics.Tests.Dim." + Guid.NewGuid().ToString("N");
        using var exporter = new MeterTokenUsageExporter(meterName, null, null);
        using var operations = new MetricCollector<long>(null, meterName, "tokenmetrics.operations");
        await using var t = new TestRecorder(null, exporter);
        var options = new TokenMetricsHandlerOptions();
        options.Dimensions.Add(new TokenUsageDimension { Name = "team", Source = TokenUsageDimensionSource.RequestHeader, Value = "x-team", ApplyToMetric = true, MaxMetricValues = 2 });
        using var client = t.CreateClient(JsonAnswer(), options);

        foreach (var team in new[] { "a", "b", "c", "a", "d" })
        {
            using var response = await client.SendAsync(Chat(false, ("x-team", team)));
            _ = await response.Content.ReadAsByteArrayAsync();
        }

        var records = await t.RecordsAsync(5);
        Assert.Equal(["a", "b", "c", "a", "d"], records.Select(r => r.Tags!["team"])); // records keep the raw values
        var labels = operations.GetMeasurementSnapshot().Select(m => (string?)m.Tags["team"]).ToList();
        Assert.Equal(["a", "b", "other", "a", "other"], labels);
    }

    [Fact]
    public async Task UserLabel_HmacHashed_SameUserSameLabel_KeyAndIdNeverInOutput()
    {
        const string Key = "k3y-f0r-hmac-0123456789";
        var meterName = "TokenMetrics.Tests.Hmac." + Guid.NewGuid().ToString("N");
        var labels = new TokenUsageMetricLabelOptions { UserId = true, Consumer = true, HashUserId = true, UserIdHashKey = Key, MaxDistinctValues = 2 };
        using var exporter = new MeterTokenUsageExporter(meterName, null, labels);
        using var operations = new MetricCollector<long>(null, meterName, "tokenmetrics.operations");
        await using var t = new TestRecorder(null, exporter);
        using var client = t.CreateClient(JsonAnswer(), new TokenMetricsHandlerOptions { UserIdHeader = "x-user" });

        foreach (var user in new[] { "alice@example.com", "bob@example.com", "alice@example.com", "carol@example.com" })
        {
            using var response = await client.SendAsync(Chat(false, ("x-user", user), ("x-mse-consumer", "app1")));
            _ = await response.Content.ReadAsByteArrayAsync();
        }

        _ = await t.RecordsAsync(4);
        var measured = operations.GetMeasurementSnapshot();
        var users = measured.Select(m => (string)m.Tags["user.id"]!).ToList();
        var expectedAlice = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Key), Encoding.UTF8.GetBytes("alice@example.com")))[..16];
        Assert.Equal(expectedAlice, users[0]);
        Assert.Equal(users[0], users[2]);
        Assert.NotEqual(users[0], users[1]);
        Assert.Equal("other", users[3]); // third distinct user over MaxDistinctValues = 2
        Assert.All(measured, m => Assert.Equal("app1", m.Tags["tokenmetrics.consumer"]));
        var everything = string.Join("|", measured.SelectMany(m => m.Tags.Select(kv => kv.Key + "=" + kv.Value)));
        Assert.DoesNotContain("example.com", everything, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, JsonSerializer.Serialize(await t.RecordsAsync()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Labels_AreOffByDefault_AndAllowListsLabelOthersAsOther()
    {
        var meterName = "TokenMetrics.Tests.Allow." + Guid.NewGuid().ToString("N");
        var labels = new TokenUsageMetricLabelOptions { Feature = true };
        labels.AllowedValues[TokenUsageMetricLabelOptions.FeatureLabel] = ["search"];
        using var exporter = new MeterTokenUsageExporter(meterName, null, labels);
        using var operations = new MetricCollector<long>(null, meterName, "tokenmetrics.operations");
        await using var t = new TestRecorder(null, exporter);
        using var client = t.CreateClient(JsonAnswer(), new TokenMetricsHandlerOptions { FeatureHeader = "x-feature", UserIdHeader = "x-user" });
        foreach (var feature in new[] { "search", "chat" })
        {
            using var response = await client.SendAsync(Chat(false, ("x-feature", feature), ("x-user", "u1")));
            _ = await response.Content.ReadAsByteArrayAsync();
        }

        _ = await t.RecordsAsync(2);
        var measured = operations.GetMeasurementSnapshot();
        Assert.Equal(["search", "other"], measured.Select(m => (string?)m.Tags["tokenmetrics.feature"]));
        Assert.All(measured, m => Assert.False(m.Tags.ContainsKey("user.id")));
    }

    [Fact]
    public async Task HashingWithoutAKey_IsRejectedAtStartUp_WithoutEchoingAnyKey()
    {
        var labels = new TokenUsageMetricLabelOptions { UserId = true, HashUserId = true };
        Assert.Throws<ValidationException>(() => new MeterTokenUsageExporter("x", null, labels));
        var ex = Assert.Throws<ValidationException>(() => new TokenUsageRecorder(Configure(o => { o.MetricLabels.HashUserId = true; o.MetricLabels.UserIdHashKey = "short-k3y"; }), []));
        Assert.Contains("UserIdHashKey", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("short-k3y", ex.Message, StringComparison.Ordinal);
        await Task.CompletedTask;

        static TokenMetricsOptions Configure(Action<TokenMetricsOptions> configure)
        {
            var options = new TokenMetricsOptions();
            configure(options);
            return options;
        }
    }

    [Fact]
    public async Task PathSuffixFilter_MetersOnlyMatchingPaths_StarMeansAll()
    {
        await using var t = new TestRecorder();
        var options = new TokenMetricsHandlerOptions();
        options.EnabledPathSuffixes.Add("/embeddings");
        var primary = StubHttpHandler.Returning((req, _) => StubHttpHandler.Json(req.RequestUri!.AbsolutePath.EndsWith("/embeddings", StringComparison.Ordinal) ? OpenAIFixtures.EmbeddingsJson() : OpenAIFixtures.ChatCompletionJson()));
        using var client = t.CreateClient(primary, options);

        using (var chat = await client.SendAsync(Chat(false)))
        {
            Assert.Contains("Hello!", await chat.Content.ReadAsStringAsync(), StringComparison.Ordinal); // passes through untouched
        }

        using (var embeddings = await client.PostAsync("embeddings", new StringContent("{\"model\":\"text-embedding-3-small\",\"input\":\"hi\"}", Encoding.UTF8, "application/json")))
        {
            _ = await embeddings.Content.ReadAsByteArrayAsync();
        }

        var records = await t.RecordsAsync(1);
        Assert.Equal("embeddings", Assert.Single(records).Operation);

        var star = new TokenMetricsHandlerOptions();
        star.EnabledPathSuffixes.Add("/embeddings");
        star.EnabledPathSuffixes.Add("*");
        await using var t2 = new TestRecorder();
        using var all = t2.CreateClient(JsonAnswer(), star);
        using (var chat = await all.SendAsync(Chat(false)))
        {
            _ = await chat.Content.ReadAsByteArrayAsync();
        }

        Assert.Equal("chat", Assert.Single(await t2.RecordsAsync(1)).Operation);
    }

    [Fact]
    public async Task ContentTypeFilter_UnlistedSuccessPassesThroughUnrecorded_ErrorsStillRecorded()
    {
        await using var t = new TestRecorder();
        var options = new TokenMetricsHandlerOptions();
        options.EnabledContentTypes.Add("text/event-stream");
        var stream = OpenAIFixtures.ChatStream(includeUsage: true);
        var calls = 0;
        var primary = StubHttpHandler.Returning((_, _) => Interlocked.Increment(ref calls) switch
        {
            1 => StubHttpHandler.Json(OpenAIFixtures.ChatCompletionJson()),
            2 => StubHttpHandler.Json("{\"error\":{\"message\":\"slow down\",\"type\":\"rate_limit\"}}", HttpStatusCode.TooManyRequests),
            _ => StubHttpHandler.Sse(stream),
        });
        using var client = t.CreateClient(primary, options);

        using (var json = await client.SendAsync(Chat(false)))
        {
            Assert.Equal(OpenAIFixtures.ChatCompletionJson(), await json.Content.ReadAsStringAsync());
            Assert.IsType<StringContent>(json.Content); // not wrapped: nothing metered
        }

        using (var error = await client.SendAsync(Chat(false)))
        {
            _ = await error.Content.ReadAsByteArrayAsync();
        }

        using (var sse = await client.SendAsync(Chat(true), HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(stream, await sse.Content.ReadAsByteArrayAsync());
        }

        var records = await t.RecordsAsync(2);
        Assert.Equal(2, records.Count);
        Assert.Equal(TokenUsageStatus.Error, records[0].Status);
        Assert.Equal(429, records[0].HttpStatusCode);
        Assert.True(records[1].IsStreaming);
        Assert.Equal(TokenUsageSource.Reported, records[1].Source);
    }

    [Fact]
    public async Task NonLlmUrl_IsNotMetered_EvenWithEveryPathEnabled()
    {
        await using var t = new TestRecorder();
        var options = new TokenMetricsHandlerOptions();
        options.EnabledPathSuffixes.Add("*");
        using var client = t.CreateClient(StubHttpHandler.Returning((_, _) => StubHttpHandler.Json("{\"ok\":true}")), options);
        using (var response = await client.GetAsync("health"))
        {
            _ = await response.Content.ReadAsByteArrayAsync();
        }

        using (var chat = await client.SendAsync(Chat(false)))
        {
            _ = await chat.Content.ReadAsByteArrayAsync();
        }

        Assert.Equal("chat", Assert.Single(await t.RecordsAsync(1)).Operation);
    }
}

/// <summary>Reads a response body to the end.</summary>
internal static class HttpHandlerTestsAccess
{
    public static Task<byte[]> ReadAllAsync(HttpResponseMessage response) => TokenMetricsHandlerTests.ReadAllInOddReadsAsync(response, readSize: 11);
}
