using System.Collections.Generic;
using System.Net.Http;

namespace TokenMetrics.Internal;

/// <summary>The attribution and dimension values of one metered HTTP call, read as the call goes: request headers and body,
/// response headers and body. Never throws into the call: a failure leaves the value unset.</summary>
internal sealed class HttpDimensionCapture : IDisposable
{
    private readonly HttpDimensionPlan _plan;
    private readonly string? _sessionId;
    private readonly string? _consumer;
    private readonly string? _userId;
    private readonly string? _feature;
    private readonly string?[]? _values;
    private ResponseBodyTap? _tap;

    public HttpDimensionCapture(HttpDimensionPlan plan, HttpRequestMessage request, HttpHeaderAttribution attribution)
    {
        _plan = plan;
        (_sessionId, _consumer, _userId, _feature) = attribution;
        var headers = request.Headers;
        if (plan.Dimensions.Length == 0)
        {
            return;
        }

        _values = new string?[plan.Dimensions.Length];
        for (var i = 0; i < _values.Length; i++)
        {
            var d = plan.Dimensions[i];
            _values[i] = d.Source switch
            {
                TokenUsageDimensionSource.FixedValue => d.Value,
                TokenUsageDimensionSource.RequestHeader => plan.Header(headers, d.Value) ?? plan.Header(request.Content?.Headers, d.Value),
                _ => null,
            };
        }
    }

    /// <summary>Gets a value indicating whether a dimension reads the request body.</summary>
    public bool NeedsRequestBody => _plan.HasRequestBody;

    /// <summary>Gets a value indicating whether the response was filtered out by content type: nothing is recorded.</summary>
    public bool Unmetered { get; private set; }

    /// <summary>Evaluates the request-body dimensions on the app's own body (before any rewrite).</summary>
    public void OnRequestBody(ReadOnlyMemory<byte>? body)
    {
        if (body is not { IsEmpty: false } json || _values is null)
        {
            return;
        }

        for (var i = 0; i < _values.Length; i++)
        {
            if (_plan.Dimensions[i].Source == TokenUsageDimensionSource.RequestBody && _plan.Paths[i] is { } path)
            {
                _values[i] = Bound(path.Evaluate(json.Span));
            }
        }
    }

    /// <summary>Applies the content-type filter and reads the response headers; starts the body tap when a dimension needs it.</summary>
    /// <returns><see langword="false"/> when the response is not to be metered.</returns>
    public bool OnResponse(HttpResponseMessage response, int maxBodyBytes, int maxEventBytes)
    {
        if (response.IsSuccessStatusCode && !_plan.IsContentTypeMetered(response.Content?.Headers))
        {
            Unmetered = true;
            return false;
        }

        if (_values is null)
        {
            return true;
        }

        if (_plan.HasResponseHeader)
        {
            for (var i = 0; i < _values.Length; i++)
            {
                var d = _plan.Dimensions[i];
                if (d.Source == TokenUsageDimensionSource.ResponseHeader)
                {
                    _values[i] = _plan.Header(response.Headers, d.Value) ?? _plan.Header(response.Content?.Headers, d.Value);
                }
            }
        }

        if (_plan.HasResponseBody && response.IsSuccessStatusCode)
        {
            var sse = TokenUsageProtocolContext.IsMediaType(response.Content?.Headers, "text/event-stream");
            _tap = new ResponseBodyTap(_plan, sse, maxBodyBytes, maxEventBytes);
        }

        return true;
    }

    /// <summary>Observes response bytes (decompressed), as the app reads them.</summary>
    public void OnBytes(ReadOnlySpan<byte> data) => _tap?.Write(data);

    /// <summary>Fills what code left unset: explicit values (scope, chat options) win over headers, and a tag set in code wins
    /// over a dimension of the same name.</summary>
    public TokenUsageRecord Apply(TokenUsageRecord record)
    {
        if (_tap is not null && _values is not null)
        {
            _tap.Complete(_values);
        }

        Dictionary<string, string>? tags = null;
        List<KeyValuePair<string, object?>>? labels = null;
        if (_values is not null)
        {
            for (var i = 0; i < _values.Length; i++)
            {
                var d = _plan.Dimensions[i];
                var value = _values[i] ?? d.DefaultValue;
                if (d.ApplyToLog && value is not null)
                {
                    (tags ??= new Dictionary<string, string>(StringComparer.Ordinal))[d.Name] = TextTruncation.Truncate(value, _plan.MaxValueLength);
                }

                if (d.ApplyToMetric)
                {
                    (labels ??= []).Add(new(d.Name, d.Guard.Label(value)));
                }
            }

            if (tags is not null && record.Tags is { } explicitTags)
            {
                foreach (var (k, v) in explicitTags)
                {
                    tags[k] = v;
                }
            }
        }

        if (_sessionId is null && _consumer is null && _userId is null && _feature is null && tags is null && labels is null)
        {
            return record;
        }

        return record with
        {
            SessionId = record.SessionId ?? _sessionId,
            Consumer = record.Consumer ?? _consumer,
            UserId = record.UserId ?? _userId,
            Feature = record.Feature ?? _feature,
            Tags = tags ?? record.Tags,
            MetricTags = labels?.ToArray() ?? record.MetricTags,
        };
    }

    /// <summary>Returns the tap's pooled buffers (once the call is recorded).</summary>
    public void Dispose()
    {
        _tap?.Dispose();
        _tap = null;
    }

    private string? Bound(string? value) => value is null ? null : TextTruncation.Truncate(value, _plan.MaxValueLength);
}

/// <summary>The attribution values read from one request's headers (session, consumer, user, feature).</summary>
internal readonly record struct HttpHeaderAttribution(string? SessionId, string? Consumer, string? UserId, string? Feature)
{
    public bool IsEmpty => SessionId is null && Consumer is null && UserId is null && Feature is null;
}
