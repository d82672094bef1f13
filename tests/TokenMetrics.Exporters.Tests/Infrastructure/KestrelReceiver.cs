using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TokenMetrics.Exporters.Tests.Infrastructure;

/// <summary>A request as a test receiver saw it.</summary>
internal sealed record ReceivedRequest(string Method, string Path, string Query, IHeaderDictionary Headers, byte[] Body);

/// <summary>A real Kestrel server on 127.0.0.1 (free port) that records requests and answers with <see cref="Respond"/>.</summary>
internal sealed class KestrelReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private KestrelReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    /// <summary>Gets or sets the handler that writes the response (default 204).</summary>
    public Func<HttpContext, ReceivedRequest, Task> Respond { get; set; } = (ctx, _) =>
    {
        ctx.Response.StatusCode = 204;
        return Task.CompletedTask;
    };

    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<KestrelReceiver> StartAsync(Action<KestrelReceiver>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new KestrelReceiver(app);
        configure?.Invoke(receiver);
        app.Run(async ctx =>
        {
            using var body = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(body);
            var request = new ReceivedRequest(ctx.Request.Method, ctx.Request.Path, ctx.Request.QueryString.Value ?? "", new HeaderDictionary(ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value)), body.ToArray());
            receiver.Requests.Enqueue(request);
            await receiver.Respond(ctx, request);
        });
        await app.StartAsync();
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        receiver.BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
