namespace TokenMetrics.Providers.Tests.Anthropic;

/// <summary>Adds fixed headers (the mock's x-mock-* switches) below the metering handler, as a test-only transport detail.</summary>
internal sealed class HeaderHandler(HttpMessageHandler inner, params (string Name, string Value)[] headers) : DelegatingHandler(inner)
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        foreach (var (name, value) in headers)
        {
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return base.SendAsync(request, cancellationToken);
    }
}
