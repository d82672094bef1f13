using System.Collections.Concurrent;
using System.Globalization;
using System.IO;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TokenMetrics.Testing.Internal;

namespace TokenMetrics.Testing;

/// <summary>A local mock LLM server: real Kestrel on 127.0.0.1, speaking the OpenAI wire format deterministically.</summary>
/// <remarks>
/// <para>Endpoints: <c>POST /v1/chat/completions</c>, <c>POST /v1/responses</c>, <c>POST /v1/completions</c>,
/// <c>POST /v1/embeddings</c>, <c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>. Anything else gets OpenAI's 404 JSON error.</para>
/// <para>Behaviour comes from a <see cref="MockScenario"/> per request; see its remarks for the layers (headers, model name, queue, defaults).</para>
/// </remarks>
/// <example>
/// <code>
/// await using var server = await MockLlmServer.StartAsync();
/// using var http = new HttpClient { BaseAddress = server.BaseAddress };
/// server.Enqueue(MockScenario.Cut(3));
/// </code>
/// </example>
public sealed class MockLlmServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly MockLlmServerOptions _options;
    private readonly MockRouter _router;
    private readonly ConcurrentQueue<MockScenario> _queue = new();
    private readonly List<MockLlmRequest> _requests = [];
    private readonly Lock _requestsLock = new();
    private readonly CancellationTokenSource _stopping = new();
    private int _disposed;

    private MockLlmServer(WebApplication app, MockLlmServerOptions options)
    {
        _app = app;
        _options = options;
        _router = new MockRouter(new OpenAIProtocol(), new AnthropicProtocol(), new BedrockProtocol(), new GeminiMockProtocol(), new DashScopeMockProtocol(), new OllamaMockProtocol(), new DeepLMockProtocol(), new CohereMockProtocol());
        BaseAddress = new Uri("http://127.0.0.1/");
    }

    /// <summary>Gets the server's base address, for example <c>http://127.0.0.1:41234/</c> (with a trailing slash).</summary>
    public Uri BaseAddress { get; private set; }

    /// <summary>Gets a snapshot of the requests received so far, in arrival order.</summary>
    public IReadOnlyList<MockLlmRequest> Requests
    {
        get
        {
            lock (_requestsLock)
            {
                return _requests.ToArray();
            }
        }
    }

    /// <summary>Gets the number of queued scenarios not yet used.</summary>
    public int PendingScenarios => _queue.Count;

    /// <summary>Starts a server.</summary>
    /// <param name="options">The options; <see langword="null"/> for the defaults (a random free port).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server. Dispose it to stop it.</returns>
    public static async Task<MockLlmServer> StartAsync(MockLlmServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new MockLlmServerOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Port, 65535);
        ArgumentNullException.ThrowIfNull(options.DefaultScenario);

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, options.Port, listen => listen.Protocols = options.Protocols);
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.AddServerHeader = false;
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);
        var app = builder.Build();
        var server = new MockLlmServer(app, options);
        app.Run(server.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(address).Port;
        server.BaseAddress = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/"));
        return server;
    }

    /// <summary>Queues a scenario for the next request to a generating endpoint (chat, responses, completions, embeddings); first in, first out.</summary>
    /// <param name="scenario">The scenario. Headers and model-name conventions of that request still take precedence.</param>
    public void Enqueue(MockScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        _queue.Enqueue(scenario);
    }

    /// <summary>Forgets the recorded requests and the queued scenarios.</summary>
    public void Reset()
    {
        _queue.Clear();
        lock (_requestsLock)
        {
            _requests.Clear();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            _stopping.Dispose();
        }
    }

    private async Task HandleAsync(HttpContext http)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, _stopping.Token);
        var cancellationToken = linked.Token;
        var path = http.Request.Path.Value ?? "/";
        var (protocol, route) = _router.Match(http.Request.Method, path);
        JsonDocument? document = null;
        try
        {
            var body = await ReadBodyAsync(http.Request, cancellationToken).ConfigureAwait(false);
            var request = Record(http.Request, path, body);
            if (route is null)
            {
                await WriteRawAsync(http, 404, "application/json", OpenAIProtocol.ErrorBody(404, $"Invalid URL ({http.Request.Method} {path})", code: null), cancellationToken).ConfigureAwait(false);
                return;
            }

            if (body.Length > 0)
            {
                try
                {
                    document = JsonDocument.Parse(body);
                }
                catch (JsonException)
                {
                    throw new MockRequestException("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)");
                }
            }

            var json = document?.RootElement;
            var model = (route.SelectModel ?? OpenAIProtocol.ReadModel)(json, http);
            var queued = route.Generates && _queue.TryDequeue(out var next) ? next : null;
            var scenario = ScenarioResolver.Resolve(http.Request.Headers, model, queued, _options.DefaultScenario);
            var context = new MockRequestContext(http, request, json, model, scenario, protocol, cancellationToken);
            if (route.Generates && scenario.ResponseDelay > TimeSpan.Zero)
            {
                await Task.Delay(scenario.ResponseDelay, cancellationToken).ConfigureAwait(false);
            }

            if (route.Generates && scenario.ErrorStatusCode is int status)
            {
                await WriteErrorAsync(context, status).ConfigureAwait(false);
                return;
            }

            await route.Handler(context).ConfigureAwait(false);
        }
        catch (MockRequestException ex) when (!http.Response.HasStarted)
        {
            await WriteRawAsync(http, 400, "application/json", protocol.ErrorBody(400, ex.Message), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away or the server is stopping: nothing left to answer.
            http.Abort();
        }
        catch (IOException) when (cancellationToken.IsCancellationRequested || http.RequestAborted.IsCancellationRequested)
        {
            http.Abort();
        }
        finally
        {
            document?.Dispose();
        }
    }

    private static async Task WriteErrorAsync(MockRequestContext context, int status)
    {
        var scenario = context.Scenario;
        var contentType = scenario.ErrorContentType;
        byte[] body;
        if (scenario.ErrorBody is string text)
        {
            body = Encoding.UTF8.GetBytes(text);
        }
        else if (contentType.StartsWith("text/html", StringComparison.OrdinalIgnoreCase))
        {
            body = Encoding.UTF8.GetBytes(HtmlErrorPage(status));
        }
        else
        {
            body = context.Protocol.ErrorBody(status, null);
        }

        if (scenario.RetryAfterSeconds is int retryAfter)
        {
            context.Http.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        }

        var writer = context.CreateWriter();

        await using var writerScope = writer.ConfigureAwait(false);
        await writer.WriteBodyAsync(status, contentType, body, honourCut: false).ConfigureAwait(false);
    }

    private static string HtmlErrorPage(int status)
    {
        var reason = ReasonPhrases.GetReasonPhrase(status);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n");
    }

    private static async Task WriteRawAsync(HttpContext http, int status, string contentType, byte[] body, CancellationToken cancellationToken)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = contentType;
        http.Response.ContentLength = body.Length;
        await http.Response.Body.WriteAsync(body, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }

    private MockLlmRequest Record(HttpRequest request, string path, byte[] body)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in request.Headers)
        {
            headers[header.Key] = header.Value.ToString();
        }

        lock (_requestsLock)
        {
            var recorded = new MockLlmRequest(_requests.Count, request.Method, path, request.QueryString.Value ?? string.Empty, headers, body);
            _requests.Add(recorded);
            return recorded;
        }
    }
}
