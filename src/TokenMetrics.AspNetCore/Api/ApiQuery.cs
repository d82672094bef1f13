using System.Collections.Generic;
using System.Globalization;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace TokenMetrics.AspNetCore.Api;

/// <summary>The time range and filters of an API request, parsed and checked (a wrong value is a 400 with its reason, never ignored).</summary>
internal sealed class ApiQuery
{
    private const int MaxValueLength = 512;

    public DateTimeOffset From { get; private init; }

    public DateTimeOffset To { get; private init; }

    public required TokenUsageFilter Filter { get; init; }

    public string? Error { get; private init; }

    /// <summary>Parses <c>from</c>, <c>to</c> (ISO 8601; default: <paramref name="defaultSpan"/> back from now) and the filters, and applies
    /// the tenant scope. With <paramref name="timeOptional"/>, a request without <c>from</c>/<c>to</c> is not limited in time.</summary>
    public static async Task<ApiQuery> ParseAsync(HttpContext context, TokenMetricsEndpointOptions options, TimeSpan defaultSpan, bool timeOptional = false)
    {
        var query = context.Request.Query;
        var now = (context.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System).GetUtcNow();
        if (!TryTime(query, "to", out var to, out var error) || !TryTime(query, "from", out var from, out error))
        {
            return Fail(error);
        }

        var unbounded = timeOptional && from is null && to is null;
        // Without 'to': the end of the current UTC hour, so a default range is whole hours (the last 24 ending with the current
        // one), which the stores answer from their rollup instead of scanning every record.
        var end = to ?? new DateTimeOffset(now.UtcTicks - (now.UtcTicks % TimeSpan.TicksPerHour), TimeSpan.Zero) + (now.UtcTicks % TimeSpan.TicksPerHour == 0 ? TimeSpan.Zero : TimeSpan.FromHours(1));
        var start = from ?? end - defaultSpan;
        if (!unbounded)
        {
            if (start >= end)
            {
                return Fail($"'from' ({Iso(start)}) must be before 'to' ({Iso(end)}).");
            }

            if (end - start > options.MaxRange)
            {
                return Fail($"The range from {Iso(start)} to {Iso(end)} is longer than the longest allowed ({options.MaxRange.TotalDays.ToString(CultureInfo.InvariantCulture)} days).");
            }
        }

        var errors = new List<string>();
        var status = Enum<TokenUsageStatus>(query, "status", errors);
        var source = Enum<TokenUsageSource>(query, "source", errors);
        var tags = Tags(query, errors);
        var filter = new TokenUsageFilter
        {
            From = unbounded ? null : start,
            To = unbounded ? null : end,
            Provider = Text(query, "provider", errors),
            Model = Text(query, "model", errors),
            UserId = Text(query, "user", errors),
            Consumer = Text(query, "consumer", errors),
            SessionId = Text(query, "session", errors),
            Feature = Text(query, "feature", errors),
            Status = status,
            Source = source,
            Tags = tags,
        };
        if (errors.Count > 0)
        {
            return Fail(errors[0]);
        }

        if (options.TenantResolver is { } resolver && !await IsAdminAsync(context).ConfigureAwait(false))
        {
            var tenant = resolver(context);
            if (string.IsNullOrEmpty(tenant))
            {
                return new ApiQuery { Filter = filter, Error = "forbidden" };
            }

            filter = filter with { Consumer = tenant };
        }

        return new ApiQuery { From = start, To = end, Filter = filter };

        ApiQuery Fail(string? message) => new() { Filter = new TokenUsageFilter(), Error = message ?? "Invalid query." };
    }

    /// <summary>Answers the request when parsing failed (400, or 403 for a caller without a tenant); returns whether it did.</summary>
    public async Task<bool> FailedAsync(HttpContext context)
    {
        if (Error is null)
        {
            return false;
        }

        if (Error == "forbidden")
        {
            await ApiHttp.WriteErrorAsync(context, StatusCodes.Status403Forbidden, "No tenant is known for this caller.").ConfigureAwait(false);
        }
        else
        {
            await ApiHttp.WriteErrorAsync(context, StatusCodes.Status400BadRequest, Error).ConfigureAwait(false);
        }

        return true;
    }

    public TokenUsageAggregateQuery Aggregate() => new()
    {
        From = Filter.From, To = Filter.To, Provider = Filter.Provider, Model = Filter.Model, UserId = Filter.UserId, Consumer = Filter.Consumer,
        SessionId = Filter.SessionId, Feature = Filter.Feature, Tags = Filter.Tags, Status = Filter.Status, Source = Filter.Source,
    };

    public TokenUsageSessionQuery Sessions() => new()
    {
        From = Filter.From, To = Filter.To, Provider = Filter.Provider, Model = Filter.Model, UserId = Filter.UserId, Consumer = Filter.Consumer,
        SessionId = Filter.SessionId, Feature = Filter.Feature, Tags = Filter.Tags, Status = Filter.Status, Source = Filter.Source,
    };

    /// <summary>Parses an optional integer parameter in a range; <see langword="null"/> error when valid.</summary>
    public static string? Int(IQueryCollection query, string name, int defaultValue, int min, out int value)
    {
        value = defaultValue;
        var raw = query[name];
        if (StringValues.IsNullOrEmpty(raw))
        {
            return null;
        }

        if (raw.Count > 1 || !int.TryParse(raw[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out value))
        {
            return $"'{name}' must be an integer (was '{Clip(raw.ToString())}').";
        }

        return value < min ? $"'{name}' must be at least {min} (was {value})." : null;
    }

    public static string Iso(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string Clip(string value) => value.Length > 64 ? value[..64] + "…" : value;

    private static async Task<bool> IsAdminAsync(HttpContext context)
    {
        var authorization = context.RequestServices.GetService<IAuthorizationService>();
        return authorization is not null && (await authorization.AuthorizeAsync(context.User, TokenMetricsPolicies.Admin).ConfigureAwait(false)).Succeeded;
    }

    private static bool TryTime(IQueryCollection query, string name, out DateTimeOffset? value, out string? error)
    {
        value = null;
        error = null;
        var raw = query[name];
        if (StringValues.IsNullOrEmpty(raw))
        {
            return true;
        }

        if (raw.Count == 1 && DateTimeOffset.TryParse(raw[0], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            value = parsed;
            return true;
        }

        error = $"'{name}' must be an ISO 8601 time such as 2026-12-05T00:00:00Z (was '{Clip(raw.ToString())}').";
        return false;
    }

    private static string? Text(IQueryCollection query, string name, List<string> errors)
    {
        var raw = query[name];
        if (StringValues.IsNullOrEmpty(raw))
        {
            return null;
        }

        if (raw.Count > 1)
        {
            errors.Add($"'{name}' may be given once.");
            return null;
        }

        if (raw[0]!.Length > MaxValueLength)
        {
            errors.Add($"'{name}' is longer than {MaxValueLength} characters.");
            return null;
        }

        return raw[0];
    }

    private static T? Enum<T>(IQueryCollection query, string name, List<string> errors)
        where T : struct, Enum
    {
        var text = Text(query, name, errors);
        if (text is null)
        {
            return null;
        }

        if (System.Enum.TryParse<T>(text, ignoreCase: true, out var value) && System.Enum.IsDefined(value) && !char.IsAsciiDigit(text[0]) && text[0] != '-')
        {
            return value;
        }

        errors.Add($"'{name}' must be one of {string.Join(", ", System.Enum.GetNames<T>()).ToLowerInvariant()} (was '{Clip(text)}').");
        return null;
    }

    private static Dictionary<string, string>? Tags(IQueryCollection query, List<string> errors)
    {
        var raw = query["tag"];
        if (StringValues.IsNullOrEmpty(raw))
        {
            return null;
        }

        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in raw)
        {
            var colon = item?.IndexOf(':', StringComparison.Ordinal) ?? -1;
            if (item is null || colon <= 0 || item.Length > MaxValueLength)
            {
                errors.Add($"'tag' must be key:value (was '{Clip(item ?? string.Empty)}').");
                return null;
            }

            tags[item[..colon]] = item[(colon + 1)..];
        }

        return tags;
    }
}
