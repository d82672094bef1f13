using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Headers;

namespace TokenMetrics.Internal;

/// <summary>What a handler reads from each call for attribution and dimensions, and which calls it meters; compiled once from
/// <see cref="TokenMetricsHandlerOptions"/> when the handler is built.</summary>
internal sealed class HttpDimensionPlan
{
    private readonly string[]? _contentTypes;

    private HttpDimensionPlan(TokenMetricsHandlerOptions options)
    {
        var sessions = new List<string>();
        if (!string.IsNullOrEmpty(options.SessionIdHeader))
        {
            sessions.Add(options.SessionIdHeader);
        }

        if (options.UseDefaultSessionIdHeaders)
        {
            sessions.AddRange(TokenMetricsHandlerOptions.DefaultSessionIdHeaders.Where(h => !sessions.Contains(h, StringComparer.OrdinalIgnoreCase)));
        }

        SessionHeaders = [.. sessions];
        ConsumerHeader = options.ConsumerHeader;
        UserIdHeader = options.UserIdHeader;
        FeatureHeader = options.FeatureHeader;
        MaxValueLength = options.MaxValueLength;
        Dimensions = [.. options.Dimensions];
        Paths = new JsonPathValue?[Dimensions.Length];
        for (var i = 0; i < Dimensions.Length; i++)
        {
            var d = Dimensions[i];
            if (d.Source is TokenUsageDimensionSource.RequestBody or TokenUsageDimensionSource.ResponseBody)
            {
                Paths[i] = JsonPathValue.TryParse(d.Value, out _);
                HasRequestBody |= d.Source == TokenUsageDimensionSource.RequestBody;
                HasResponseBody |= d.Source == TokenUsageDimensionSource.ResponseBody;
            }

            HasResponseHeader |= d.Source == TokenUsageDimensionSource.ResponseHeader;
        }

        _contentTypes = options.EnabledContentTypes.Count == 0 ? null : [.. options.EnabledContentTypes.Select(t => t.Trim())];
    }

    public string[] SessionHeaders { get; }

    public string? ConsumerHeader { get; }

    public string? UserIdHeader { get; }

    public string? FeatureHeader { get; }

    public int MaxValueLength { get; }

    public TokenUsageDimension[] Dimensions { get; }

    public JsonPathValue?[] Paths { get; }

    public bool HasRequestBody { get; }

    public bool HasResponseBody { get; }

    public bool HasResponseHeader { get; }

    /// <summary>Compiles the options; <see langword="null"/> when there is nothing to read and nothing to filter.</summary>
    public static HttpDimensionPlan? Create(TokenMetricsHandlerOptions options)
    {
        var plan = new HttpDimensionPlan(options);
        var empty = plan.SessionHeaders.Length == 0 && plan.ConsumerHeader is null && plan.UserIdHeader is null && plan.FeatureHeader is null
            && plan.Dimensions.Length == 0 && plan._contentTypes is null;
        return empty ? null : plan;
    }

    /// <summary>Whether the request's path ends with one of the enabled suffixes (always, without a list).</summary>
    public static bool IsPathMetered(string[]? suffixes, Uri uri)
    {
        if (suffixes is null)
        {
            return true;
        }

        var path = EndpointCache.Path(uri);
        foreach (var suffix in suffixes)
        {
            if (path.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The path suffixes of <paramref name="options"/>, or <see langword="null"/> for every path: an empty list or
    /// <c>*</c> anywhere in it (Higress checks the wildcard first).</summary>
    public static string[]? PathSuffixes(TokenMetricsHandlerOptions options) =>
        options.EnabledPathSuffixes.Count == 0 || options.EnabledPathSuffixes.Contains("*") ? null : [.. options.EnabledPathSuffixes];

    /// <summary>Whether a response of this media type is metered (always, without a list).</summary>
    public bool IsContentTypeMetered(HttpContentHeaders? headers)
    {
        if (_contentTypes is null)
        {
            return true;
        }

        foreach (var type in _contentTypes)
        {
            if (TokenUsageProtocolContext.IsMediaType(headers, type))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Starts reading one call: the request headers are read now. <see langword="null"/> when there is nothing to keep
    /// (no dimensions, no content-type filter and none of the attribution headers sent): the common call allocates nothing here.</summary>
    public HttpDimensionCapture? Begin(HttpRequestMessage request)
    {
        var headers = request.Headers;
        string? session = null;
        foreach (var header in SessionHeaders)
        {
            // The configured header first, then the defaults in order: the first non-empty value wins.
            if ((session = Header(headers, header)) is not null)
            {
                break;
            }
        }

        var attribution = new HttpHeaderAttribution(session, Header(headers, ConsumerHeader), Header(headers, UserIdHeader), Header(headers, FeatureHeader));
        return Dimensions.Length == 0 && _contentTypes is null && attribution.IsEmpty ? null : new(this, request, attribution);
    }

    /// <summary>The first non-empty value of <paramref name="header"/> on <paramref name="headers"/>, bounded.</summary>
    internal string? Header(HttpHeaders? headers, string? header)
    {
        // NonValidated: no parsing, and no allocation when the header is absent.
        if (header is null || headers is null || !headers.NonValidated.TryGetValues(header, out var values) || values.Count == 0)
        {
            return null;
        }

        foreach (var value in values)
        {
            var trimmed = value.Trim();
            if (trimmed.Length > 0)
            {
                return TextTruncation.Truncate(trimmed, MaxValueLength);
            }
        }

        return null;
    }
}
