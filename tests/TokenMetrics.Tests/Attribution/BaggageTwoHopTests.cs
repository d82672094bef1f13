using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TokenMetrics.Testing;

namespace TokenMetrics.Tests.Attribution;

/// <summary>Propagation is process-wide (scopes are static): these tests run alone, not beside other tests.</summary>
[CollectionDefinition(nameof(BaggagePropagationCollection), DisableParallelization = true)]
public sealed class BaggagePropagationCollection
{
}

/// <summary>W3C baggage carries the attribution across an HTTP hop: app A, inside a <see cref="TokenMetricsScope"/>, calls app B over
/// HTTP; B's LLM call (a metered <c>HttpClient</c> to the mock LLM server) is recorded with A's user, session and consumer although B
/// has no scope and no code for it. Plain .NET only: ASP.NET Core puts the incoming baggage on the request's activity, HttpClient
/// sends the current activity's baggage.</summary>
[Collection(nameof(BaggagePropagationCollection))]
public sealed class BaggageTwoHopTests : IAsyncLifetime
{
    private MockLlmServer _llm = null!;
    private WebApplication _appB = null!;
    private TestRecorder _recorderB = null!;
    private Uri _appBAddress = null!;
    private readonly List<string?> _baggageSeenByB = [];

    public async Task InitializeAsync()
    {
        _llm = await MockLlmServer.StartAsync();
        _recorderB = new TestRecorder();   // defaults: reads baggage, does not propagate

        // App B: a plain ASP.NET Core app on Kestrel (127.0.0.1) with nothing about attribution in its code.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        // ASP.NET Core starts a request activity (and extracts baggage into it) when its diagnostics logger is on, or a listener is.
        builder.Logging.ClearProviders().AddConsole().SetMinimumLevel(LogLevel.Warning);
        _appB = builder.Build();
        var llmClient = new HttpClient(new TokenMetricsHandler(_recorderB.Recorder, [TestRecorder.OpenAI], new SocketsHttpHandler())) { BaseAddress = _llm.BaseAddress };
        _appB.MapGet("/answer", async (HttpContext context) =>
        {
            lock (_baggageSeenByB)
            {
                _baggageSeenByB.Add(context.Request.Headers["baggage"].ToString());
            }

            using var response = await llmClient.PostAsync("v1/chat/completions", new StringContent("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
            return await response.Content.ReadAsStringAsync();
        });
        await _appB.StartAsync();
        _appBAddress = new Uri(_appB.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public async Task DisposeAsync()
    {
        await _appB.DisposeAsync();
        await _recorderB.DisposeAsync();
        await _llm.DisposeAsync();
    }

    /// <summary>App A: an ASP.NET Core app on a TestServer whose endpoint begins a scope and calls app B with an ordinary HttpClient.</summary>
    private async Task<(WebApplication App, HttpClient Client)> StartAppAAsync(List<string> activitiesInA)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders().AddConsole().SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var toB = new HttpClient(new SocketsHttpHandler()) { BaseAddress = _appBAddress };
        app.MapGet("/work", async () =>
        {
            using (TokenMetricsScope.Begin(userId: "alice", sessionId: "conv-42", consumer: "team-docs"))
            {
                lock (activitiesInA)
                {
                    activitiesInA.Add(Activity.Current?.OperationName ?? "(none)");
                }

                return await toB.GetStringAsync("answer");
            }
        });
        await app.StartAsync();
        return (app, app.GetTestClient());
    }

    [Fact]
    public async Task BaggageSetByAScopeInAppA_AttributesTheLlmCallAppBMakes()
    {
        var activitiesInA = new List<string>();
        await using var recorderA = new TestRecorder(o => o.Attribution.Baggage.Propagate = true);
        var (appA, client) = await StartAppAAsync(activitiesInA);
        await using (appA)
        {
            var answer = await client.GetStringAsync("/work");
            Assert.Contains("chat.completion", answer, StringComparison.Ordinal);
        }

        var r = Assert.Single(await _recorderB.RecordsAsync(1));
        Assert.Equal("alice", r.UserId);
        Assert.Equal("conv-42", r.SessionId);
        Assert.Equal("team-docs", r.Consumer);
        Assert.Equal(TokenUsageSource.Reported, r.Source);
        // A's scope put its values on A's request activity (ASP.NET Core's), not on one of its own.
        Assert.Equal("Microsoft.AspNetCore.Hosting.HttpRequestIn", Assert.Single(activitiesInA));
        // .NET's default propagator writes "key = value, key = value".
        var header = Assert.Single(_baggageSeenByB)!.Split(',').Select(item => item.Split('=')).ToDictionary(kv => kv[0].Trim(), kv => kv[1].Trim());
        Assert.Equal("alice", header["user.id"]);
        Assert.Equal("conv-42", header["session.id"]);
        Assert.Equal("team-docs", header["tenant.id"]);
    }

    [Fact]
    public async Task WithoutPropagation_AppBsRecordHasNoUser()
    {
        // The control: the same two hops without Propagate. If B's record named alice here, the test above would prove nothing.
        var activitiesInA = new List<string>();
        Assert.Null(Internal.AttributionSettings.Propagating);
        var (appA, client) = await StartAppAAsync(activitiesInA);
        await using (appA)
        {
            _ = await client.GetStringAsync("/work");
        }

        var r = Assert.Single(await _recorderB.RecordsAsync(1));
        Assert.Null(r.UserId);
        Assert.Null(r.SessionId);
        Assert.Null(r.Consumer);
        Assert.DoesNotContain("alice", Assert.Single(_baggageSeenByB) ?? string.Empty, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FromAPlainProcessWithoutAnActivity_TheScopeStartsOneForItsDuration_AndLeavesNothingBehind()
    {
        await using var recorderA = new TestRecorder(o => o.Attribution.Baggage.Propagate = true);
        using var toB = new HttpClient(new SocketsHttpHandler()) { BaseAddress = _appBAddress };
        Assert.Null(Activity.Current);

        using (TokenMetricsScope.Begin(new TokenUsageAttribution { UserId = "bob", Feature = "nightly-report" }))
        {
            Assert.Equal("TokenMetrics.Attribution", Activity.Current?.OperationName);
            _ = await toB.GetStringAsync("answer");
        }

        Assert.Null(Activity.Current);
        var r = Assert.Single(await _recorderB.RecordsAsync(1));
        Assert.Equal("bob", r.UserId);
        Assert.Equal("nightly-report", r.Feature);
    }

    [Fact]
    public async Task OnAnExistingActivity_TheScopesBaggageIsRestoredWhenItEnds()
    {
        await using var recorderA = new TestRecorder(o => o.Attribution.Baggage.Propagate = true);
        using var request = new Activity("request").AddBaggage("user.id", "inherited").Start();
        using var child = new Activity("child").Start();
        _ = child.SetBaggage("session.id", "own-session");

        using (TokenMetricsScope.Begin(userId: "alice"))
        {
            using (TokenMetricsScope.Begin(sessionId: "inner-session"))
            {
                Assert.Same(child, Activity.Current);
                Assert.Equal("alice", child.GetBaggageItem("user.id"));
                Assert.Equal("inner-session", child.GetBaggageItem("session.id"));
            }

            Assert.Equal("alice", child.GetBaggageItem("user.id"));
            Assert.Equal("own-session", child.GetBaggageItem("session.id"));
        }

        Assert.Equal("inherited", child.GetBaggageItem("user.id"));
        Assert.Equal("own-session", child.GetBaggageItem("session.id"));
        Assert.Equal(["session.id", "user.id"], child.Baggage.Select(b => b.Key).Order());
        Assert.Empty(_baggageSeenByB);
        await recorderA.DisposeAsync();
        Assert.Null(Internal.AttributionSettings.Propagating);   // disposing the recorder that asked for it stops propagation
    }
}
