using System.Net;

namespace TokenMetrics.AspNetCore.Tests.Infrastructure;

/// <summary>Keeps cookies across requests to a TestServer (its client has no cookie container), like a browser; never follows redirects.</summary>
public sealed class CookieJarHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    public CookieContainer Cookies { get; } = new();

    public List<string> SetCookieHeaders { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri!;
        var header = Cookies.GetCookieHeader(uri);
        if (header.Length > 0)
        {
            request.Headers.Add("Cookie", header);
        }

        var response = await base.SendAsync(request, cancellationToken);
        if (response.Headers.TryGetValues("Set-Cookie", out var values))
        {
            foreach (var value in values)
            {
                SetCookieHeaders.Add(value);
                Cookies.SetCookies(uri, value);
            }
        }

        return response;
    }
}
