using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TokenMetrics.Exporters.Tests.Infrastructure;

namespace TokenMetrics.Exporters.Tests.InfluxDb;

/// <summary>InfluxDB line protocol against a real influxd 1.x (v1 API) and a fake v2 endpoint.</summary>
public sealed class InfluxDbExporterTests(InfluxDbFixture influx) : IClassFixture<InfluxDbFixture>
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 10, 30, 15, 123, TimeSpan.Zero);

    [Fact]
    public async Task V1_WritesPoints_ThatReadBackWithInfluxQL()
    {
        var db = await influx.CreateDatabaseAsync();
        using var http = new HttpClient();
        var exporter = new InfluxDbTokenUsageExporter(http, V1Options(db));
        var a = Records.Chat(input: 120, output: 30, cached: 100, reasoning: 10, consumer: "team-a", streaming: true, session: "sess_1", timestamp: T0) with { HttpStatusCode = 200 };
        var b = Records.Chat(model: "claude-sonnet-4", provider: "anthropic", input: 7, output: 3, status: TokenUsageStatus.Error, timestamp: T0.AddSeconds(1));
        var c = Records.Chat(source: TokenUsageSource.Missing, status: TokenUsageStatus.Truncated, timestamp: T0.AddSeconds(2));

        Assert.Equal(TokenUsageExportResult.Success, await exporter.ExportAsync([a, b, c], CancellationToken.None));

        var rows = await influx.SelectAsync(db, "SELECT * FROM tokenmetrics_usage ORDER BY time");
        Assert.Equal(3, rows.Count);
        var ra = rows[0];
        Assert.Equal(NanosWithOffset(a), ra["time"].GetInt64());
        Assert.Equal("gpt-4o", ra["model"].GetString());
        Assert.Equal("openai", ra["provider"].GetString());
        Assert.Equal("chat", ra["operation"].GetString());
        Assert.Equal("ok", ra["status"].GetString());
        Assert.Equal("reported", ra["source"].GetString());
        Assert.Equal("team-a", ra["consumer"].GetString());
        Assert.Equal(120, ra["input_tokens"].GetInt64());
        Assert.Equal(30, ra["output_tokens"].GetInt64());
        Assert.Equal(150, ra["total_tokens"].GetInt64());
        Assert.Equal(100, ra["cached_input_tokens"].GetInt64());
        Assert.Equal(10, ra["reasoning_tokens"].GetInt64());
        Assert.Equal(1955, ra["duration_ms"].GetDouble());
        Assert.Equal(309, ra["time_to_first_chunk_ms"].GetDouble());
        Assert.True(ra["streaming"].GetBoolean());
        Assert.Equal(200, ra["http_status"].GetInt64());
        Assert.Equal(a.Id.ToString("N"), ra["record_id"].GetString());
        Assert.Equal("sess_1", ra["session_id"].GetString());
        Assert.Equal("gpt-4o-2024-08-06", ra["response_model"].GetString());

        Assert.Equal("anthropic", rows[1]["provider"].GetString());
        Assert.Equal("error", rows[1]["status"].GetString());
        Assert.Equal("500", rows[1]["error_type"].GetString());
        Assert.Equal(JsonValueKind.Null, rows[1]["consumer"].ValueKind);
        Assert.Equal("missing", rows[2]["source"].GetString());
        Assert.Equal(JsonValueKind.Null, rows[2]["input_tokens"].ValueKind);

        // Integers are stored as integers (the i suffix), so sums stay exact.
        var sum = await influx.SelectAsync(db, "SELECT sum(input_tokens) AS input FROM tokenmetrics_usage");
        Assert.Equal(127, sum[0]["input"].GetInt64());
    }

    [Fact]
    public async Task V1_CostFieldAndCurrencyFeatureTags_SumPerCurrency_ContentNeverWritten()
    {
        var db = await influx.CreateDatabaseAsync();
        using var http = new HttpClient();
        var exporter = new InfluxDbTokenUsageExporter(http, V1Options(db));
        var content = new TokenUsageContent { Question = "secret-question-canary", Answer = "secret-answer-canary" };
        var a = Records.Chat(timestamp: T0) with { Cost = 0.00125m, Currency = "USD", PricedModel = "gpt-4o", Feature = "search", Content = content };
        var b = Records.Chat(timestamp: T0.AddSeconds(1)) with { Cost = 0.5m, Currency = "USD", PricedModel = "gpt-4o", Feature = "chat" };
        var c = Records.Chat(timestamp: T0.AddSeconds(2)) with { Feature = "search" }; // unknown price: no cost field

        Assert.Equal(TokenUsageExportResult.Success, await exporter.ExportAsync([a, b, c], CancellationToken.None));

        var rows = await influx.SelectAsync(db, "SELECT * FROM tokenmetrics_usage ORDER BY time");
        Assert.Equal(3, rows.Count);
        Assert.Equal(0.00125, rows[0]["cost"].GetDouble());
        Assert.Equal("USD", rows[0]["currency"].GetString());
        Assert.Equal("search", rows[0]["feature"].GetString());
        Assert.Equal("gpt-4o", rows[0]["priced_model"].GetString());
        Assert.Equal(JsonValueKind.Null, rows[2]["cost"].ValueKind);
        Assert.Equal(JsonValueKind.Null, rows[2]["currency"].ValueKind);
        Assert.DoesNotContain(rows[0].Keys, k => k.Contains("question", StringComparison.Ordinal) || k.Contains("answer", StringComparison.Ordinal) || k.Contains("content", StringComparison.Ordinal));
        Assert.DoesNotContain(rows[0].Values, v => v.ToString().Contains("canary", StringComparison.Ordinal));

        var sums = await influx.SelectAsync(db, "SELECT sum(cost) AS cost FROM tokenmetrics_usage WHERE currency = 'USD'");
        Assert.Equal(0.50125, Assert.Single(sums)["cost"].GetDouble(), 12);
    }

    [Fact]
    public async Task V1_HostileTagAndFieldValues_RoundTrip()
    {
        var db = await influx.CreateDatabaseAsync();
        using var http = new HttpClient();
        var exporter = new InfluxDbTokenUsageExporter(http, V1Options(db, o => o.UseGzip = true));
        const string model = "a,b=c d\"e\\f ü€😀 x=y,";
        const string consumer = "team\\one=1, two \\x \"q\"";
        const string session = "sess \"quoted\" \\back\\ ,= line1\nline2";
        var record = Records.Chat(model: model, consumer: consumer, session: session, timestamp: T0) with { Operation = "ends-with\\", Provider = "back\\ slash\\,x" };

        await exporter.ExportAsync([record], CancellationToken.None);

        var rows = await influx.SelectAsync(db, "SELECT * FROM tokenmetrics_usage");
        var row = Assert.Single(rows);
        Assert.Equal(model, row["model"].GetString());
        Assert.Equal(consumer, row["consumer"].GetString());
        Assert.Equal("sess \"quoted\" \\back\\ ,= line1 line2", row["session_id"].GetString()); // line break → space

        // Line protocol cannot carry a backslash at the end of a tag value or before a space, comma or '=': documented as '/'.
        Assert.Equal("ends-with/", row["operation"].GetString());
        Assert.Equal("back/ slash/,x", row["provider"].GetString());

        // A hostile tag value is still one series: query it back by exact value.
        var byModel = await influx.SelectAsync(db, "SELECT count(record_id) FROM tokenmetrics_usage WHERE model = 'a,b=c d\"e\\\\f ü€😀 x=y,'");
        Assert.Equal(1, byModel[0]["count"].GetInt64());
    }

    [Fact]
    public async Task V1_ReplayOverwrites_ButCallsInTheSameTickStayApart()
    {
        var db = await influx.CreateDatabaseAsync();
        using var http = new HttpClient();
        var exporter = new InfluxDbTokenUsageExporter(http, V1Options(db));
        var first = Records.Chat(timestamp: T0) with { Id = Guid.Parse("0190a000-0000-7000-8000-000000000001") };
        var second = first with { Id = Guid.Parse("0190a000-0000-7000-8000-000000000002"), Usage = new TokenUsage { InputTokenCount = 5, OutputTokenCount = 1 } };

        await exporter.ExportAsync([first], CancellationToken.None);
        await exporter.ExportAsync([first, second], CancellationToken.None); // a retry of a batch that had partly arrived

        var rows = await influx.SelectAsync(db, "SELECT * FROM tokenmetrics_usage ORDER BY time");
        Assert.Equal(2, rows.Count);
        Assert.Equal(105, rows.Sum(r => r["input_tokens"].GetInt64()));
        Assert.Equal([first.Id.ToString("N"), second.Id.ToString("N")], rows.Select(r => r["record_id"].GetString()));
    }

    [Fact]
    public async Task V1_SplitsBigBatches()
    {
        var db = await influx.CreateDatabaseAsync();
        using var http = new HttpClient();
        var exporter = new InfluxDbTokenUsageExporter(http, V1Options(db, o => { o.MaxPointsPerRequest = 7; o.Precision = InfluxDbPrecision.Milliseconds; }));
        var batch = Enumerable.Range(0, 50).Select(i => Records.Chat(input: i, timestamp: T0.AddMilliseconds(i))).ToList();

        await exporter.ExportAsync(batch, CancellationToken.None);

        var count = await influx.SelectAsync(db, "SELECT count(input_tokens), sum(input_tokens) FROM tokenmetrics_usage");
        Assert.Equal(50, count[0]["count"].GetInt64());
        Assert.Equal(Enumerable.Range(0, 50).Sum(), count[0]["sum"].GetInt64());
    }

    [Fact]
    public async Task V1_WrongPassword_IsPermanent_AndNeverLeaksTheSecret()
    {
        var db = await influx.CreateDatabaseAsync();
        using var http = new HttpClient();
        var exporter = new InfluxDbTokenUsageExporter(http, V1Options(db, o => o.Password = "wrong-Pa55-canary"));

        var error = await Assert.ThrowsAsync<TokenUsageExportException>(() => exporter.ExportAsync([Records.Chat()], CancellationToken.None).AsTask());

        Assert.False(error.IsTransient);
        Assert.Contains("401", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("canary", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task V1_UnknownDatabase_IsPermanent()
    {
        using var http = new HttpClient();
        var exporter = new InfluxDbTokenUsageExporter(http, V1Options("does_not_exist"));
        var error = await Assert.ThrowsAsync<TokenUsageExportException>(() => exporter.ExportAsync([Records.Chat()], CancellationToken.None).AsTask());
        Assert.False(error.IsTransient);
        Assert.Contains("database not found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerDown_IsTransient()
    {
        using var http = new HttpClient();
        var exporter = new InfluxDbTokenUsageExporter(http, V1Options("x", o => o.Endpoint = new Uri($"http://127.0.0.1:{Servers.FreePort()}/")));
        var error = await Assert.ThrowsAsync<TokenUsageExportException>(() => exporter.ExportAsync([Records.Chat()], CancellationToken.None).AsTask());
        Assert.True(error.IsTransient);
    }

    [Fact]
    public async Task V2_SendsTokenHeader_OrgBucketPrecision_AndLineProtocol()
    {
        await using var fake = await KestrelReceiver.StartAsync();
        using var http = new HttpClient();
        var exporter = new InfluxDbTokenUsageExporter(http, new InfluxDbExporterOptions
        {
            Endpoint = new Uri(fake.BaseAddress, "influx/"),
            ApiVersion = InfluxDbApiVersion.V2,
            Organization = "my org",
            Bucket = "llm/usage",
            Token = "tok-123==",
            UseGzip = true,
        });
        var record = Records.Chat(consumer: "c1", timestamp: T0);

        await exporter.ExportAsync([record], CancellationToken.None);

        var request = Assert.Single(fake.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/influx/api/v2/write", request.Path);
        Assert.Equal("?org=my%20org&bucket=llm%2Fusage&precision=ns", request.Query);
        Assert.Equal("Token tok-123==", request.Headers.Authorization.ToString());
        Assert.Equal("gzip", request.Headers.ContentEncoding.ToString());
        Assert.StartsWith("text/plain", request.Headers.ContentType.ToString(), StringComparison.Ordinal);
        using var gzip = new GZipStream(new MemoryStream(request.Body), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        Assert.Equal(
            $"tokenmetrics_usage,consumer=c1,model=gpt-4o,operation=chat,provider=openai,source=reported,status=ok input_tokens=100i,output_tokens=50i,total_tokens=150i,duration_ms=1955,streaming=false,record_id=\"{record.Id:N}\",response_model=\"gpt-4o-2024-08-06\" {NanosWithOffset(record)}\n",
            body);
    }

    [Theory]
    [InlineData(429, true)]
    [InlineData(503, true)]
    [InlineData(400, false)]
    [InlineData(401, false)]
    [InlineData(413, false)]
    public async Task V2_StatusCodes_MapToTransientOrPermanent(int status, bool transient)
    {
        await using var fake = await KestrelReceiver.StartAsync(r => r.Respond = async (ctx, _) =>
        {
            ctx.Response.StatusCode = status;
            ctx.Response.Headers.RetryAfter = "7";
            await ctx.Response.WriteAsync("{\"code\":\"x\",\"message\":\"bad\\nthing\"}");
        });
        using var http = new HttpClient();
        var exporter = new InfluxDbTokenUsageExporter(http, new InfluxDbExporterOptions { Endpoint = fake.BaseAddress, Organization = "o", Bucket = "b", Token = "t-canary" });

        var error = await Assert.ThrowsAsync<TokenUsageExportException>(() => exporter.ExportAsync([Records.Chat()], CancellationToken.None).AsTask());

        Assert.Equal(transient, error.IsTransient);
        Assert.Equal(transient ? TimeSpan.FromSeconds(7) : null, error.RetryAfter);
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("canary", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Options_AreValidatedAtStartUp()
    {
        var services = new ServiceCollection();
        services.AddTokenMetrics().AddInfluxDbExporter(o =>
        {
            o.Endpoint = new Uri("http://influx.example.com:8086/");
            o.ApiVersion = InfluxDbApiVersion.V2;
            o.Token = "tok-canary";
        });
        using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetServices<ITokenUsageExporter>().ToList());
        Assert.Contains("https", error.Message, StringComparison.Ordinal);
        Assert.Contains("Organization and Bucket", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("canary", error.Message, StringComparison.Ordinal);

        Assert.Throws<OptionsValidationException>(() => new InfluxDbTokenUsageExporter(new HttpClient(), new InfluxDbExporterOptions { Endpoint = new Uri("http://user:pw@127.0.0.1/"), ApiVersion = InfluxDbApiVersion.V1, Database = "d" }));
        _ = new InfluxDbTokenUsageExporter(new HttpClient(), new InfluxDbExporterOptions { Endpoint = new Uri("http://localhost:8086"), ApiVersion = InfluxDbApiVersion.V1, Database = "d" });
        _ = new InfluxDbTokenUsageExporter(new HttpClient(), new InfluxDbExporterOptions { Endpoint = new Uri("https://influx.example.com"), Organization = "o", Bucket = "b", Token = "t" });
    }

    private static long NanosWithOffset(TokenUsageRecord r) => ((r.Timestamp.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100) + (r.Id.ToByteArray()[15] % 100);

    private InfluxDbExporterOptions V1Options(string database, Action<InfluxDbExporterOptions>? tweak = null)
    {
        var options = new InfluxDbExporterOptions
        {
            Endpoint = influx.Endpoint,
            ApiVersion = InfluxDbApiVersion.V1,
            Database = database,
            Username = InfluxDbFixture.User,
            Password = InfluxDbFixture.Password,
        };
        tweak?.Invoke(options);
        return options;
    }
}
