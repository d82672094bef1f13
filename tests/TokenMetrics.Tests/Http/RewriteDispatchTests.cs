using System.Buffers;
using System.Net;
using System.Text;
using TokenMetrics.Tests.TestHelpers;

namespace TokenMetrics.Tests.Http;

/// <summary>The handler's rewriting plumbing, with a toy vendor: request rewritten, answer transformed back, errors recorded.</summary>
public class RewriteDispatchTests
{
    private sealed class ToyRewriter : ITokenUsageRewriter
    {
        public string Name => "toy";

        public bool CanHandle(HttpRequestMessage request) => request.RequestUri!.AbsolutePath.EndsWith("/chat/completions", StringComparison.Ordinal);

        public async ValueTask OnRequestAsync(TokenUsageProtocolContext context, CancellationToken cancellationToken)
        {
            var body = await context.GetRequestBodyAsync(cancellationToken);
            if (Encoding.UTF8.GetString(body!.Value.Span).Contains("logit_bias", StringComparison.Ordinal))
            {
                throw new NotSupportedException("The toy vendor does not support 'logit_bias'.");
            }

            context.Provider = "toy";
            context.Operation = "chat";
            context.Request.RequestUri = new Uri("https://toy.example.test/generate");
            context.ReplaceRequestBody(Encoding.UTF8.GetBytes("{\"prompt\":\"hi\"}"));
        }

        public TokenUsageResponseReader? CreateResponseReader(TokenUsageProtocolContext context, HttpResponseMessage response) => new ToyReader();
    }

    /// <summary>Toy answers are "TOKENS:n TEXT"; the app gets OpenAI-ish JSON.</summary>
    private sealed class ToyReader : TokenUsageResponseReader
    {
        private readonly StringBuilder _body = new();

        public override bool TransformsContent => true;

        public override string? TransformedMediaType => "application/json";

        public override void Write(ReadOnlySpan<byte> data) => _body.Append(Encoding.UTF8.GetString(data));

        public override void Transform(ReadOnlySpan<byte> data, IBufferWriter<byte> output, bool final)
        {
            Write(data);
            if (!final)
            {
                return;
            }

            var text = _body.ToString();
            var space = text.IndexOf(' ', StringComparison.Ordinal);
            if (text.StartsWith("TOKENS:", StringComparison.Ordinal) && space > 0)
            {
                Usage = new TokenUsage { OutputTokenCount = long.Parse(text[7..space], System.Globalization.CultureInfo.InvariantCulture) };
                Completed = true;
                output.Write(Encoding.UTF8.GetBytes("{\"choices\":[{\"message\":{\"content\":\"" + text[(space + 1)..] + "\"}}]}"));
            }
            else
            {
                output.Write(Encoding.UTF8.GetBytes("{\"error\":{\"message\":\"" + text + "\"}}"));
            }
        }
    }

    private static (HttpClient Client, StubHttpHandler Server) Create(TestRecorder t, string answer, HttpStatusCode status = HttpStatusCode.OK)
    {
        var server = StubHttpHandler.Returning((_, _) => new HttpResponseMessage(status) { Content = new StringContent(answer, Encoding.UTF8, "text/plain") });
        var options = new TokenMetricsHandlerOptions { RewriteTo = "toy" };
        var client = new HttpClient(new TokenMetricsHandler(t.Recorder, [TestRecorder.OpenAI, new ToyRewriter()], server, options)) { BaseAddress = new Uri("https://api.openai.com/v1/") };
        return (client, server);
    }

    [Fact]
    public async Task RewriteTo_SendsTheVendorRequest_AndTheAppReadsTheTransformedAnswer()
    {
        await using var t = new TestRecorder();
        var (client, server) = Create(t, "TOKENS:5 hello");
        using var _ = client;

        using var response = await client.PostAsync("chat/completions", new StringContent(OpenAIFixtures.ChatRequest(false), Encoding.UTF8, "application/json"));

        Assert.Equal("https://toy.example.test/generate", server.Requests.Single().RequestUri!.ToString());
        Assert.Equal("{\"prompt\":\"hi\"}", Encoding.UTF8.GetString(server.RequestBodies.Single()!));
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("{\"choices\":[{\"message\":{\"content\":\"hello\"}}]}", await response.Content.ReadAsStringAsync());
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal("toy", record.Provider);
        Assert.Equal(5, record.Usage.OutputTokenCount);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
    }

    [Fact]
    public async Task UnsupportedField_FailsTheCallWithTheFieldName_AndNothingIsSent()
    {
        await using var t = new TestRecorder();
        var (client, server) = Create(t, "unused");
        using var _ = client;

        var ex = await Assert.ThrowsAsync<NotSupportedException>(() => client.PostAsync("chat/completions", new StringContent("{\"model\":\"m\",\"logit_bias\":{}}", Encoding.UTF8, "application/json")));

        Assert.Contains("logit_bias", ex.Message, StringComparison.Ordinal);
        Assert.Empty(server.Requests);
        Assert.Equal(TokenUsageStatus.Error, Assert.Single(await t.RecordsAsync(1)).Status);
    }

    [Fact]
    public async Task VendorError_IsTransformedForTheApp_AndRecordedAsAnError()
    {
        await using var t = new TestRecorder();
        var (client, _) = Create(t, "overloaded", HttpStatusCode.ServiceUnavailable);
        using var __ = client;

        using var response = await client.PostAsync("chat/completions", new StringContent(OpenAIFixtures.ChatRequest(false), Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("{\"error\":{\"message\":\"overloaded\"}}", await response.Content.ReadAsStringAsync());
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageStatus.Error, record.Status);
        Assert.Equal("503", record.ErrorType);
    }

    [Fact]
    public async Task WithoutRewriteTo_RewritersAreIgnored()
    {
        await using var t = new TestRecorder();
        var server = OpenAIFixtures.ChatServer();
        using var client = new HttpClient(new TokenMetricsHandler(t.Recorder, [new ToyRewriter(), TestRecorder.OpenAI], server)) { BaseAddress = new Uri("https://api.openai.com/v1/") };

        using var response = await client.PostAsync("chat/completions", new StringContent(OpenAIFixtures.ChatRequest(false), Encoding.UTF8, "application/json"));
        _ = await response.Content.ReadAsStringAsync();

        Assert.Equal("openai", Assert.Single(await t.RecordsAsync(1)).Provider);
    }
}
