using System.Text;
using System.Text.Json;

namespace TokenMetrics.Testing;

/// <summary>A request as it arrived at the mock server, copied for assertions.</summary>
public sealed class MockLlmRequest
{
    internal MockLlmRequest(int sequence, string method, string path, string queryString, IReadOnlyDictionary<string, string> headers, ReadOnlyMemory<byte> body)
    {
        Sequence = sequence;
        Method = method;
        Path = path;
        QueryString = queryString;
        Headers = headers;
        Body = body;
    }

    /// <summary>Gets the 0-based arrival order of the request on its server.</summary>
    public int Sequence { get; }

    /// <summary>Gets the HTTP method.</summary>
    public string Method { get; }

    /// <summary>Gets the path, for example <c>/v1/chat/completions</c>.</summary>
    public string Path { get; }

    /// <summary>Gets the query string with its leading <c>?</c>, or an empty string.</summary>
    public string QueryString { get; }

    /// <summary>Gets a copy of the request headers (case-insensitive names; several values joined with <c>", "</c>).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>Gets the request body bytes, exactly as received.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>Gets the request body decoded as UTF-8.</summary>
    public string BodyText => Encoding.UTF8.GetString(Body.Span);

    /// <summary>Gets a header value, or <see langword="null"/>.</summary>
    /// <param name="name">The header name.</param>
    /// <returns>The value, or <see langword="null"/> when the header is absent.</returns>
    public string? GetHeader(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    /// <summary>Parses the body as JSON. The caller disposes the document.</summary>
    /// <returns>The parsed document.</returns>
    /// <exception cref="JsonException">The body is not JSON.</exception>
    public JsonDocument ParseBody() => JsonDocument.Parse(Body);

    /// <inheritdoc />
    public override string ToString() => $"{Method} {Path}{QueryString} ({Body.Length} bytes)";
}
