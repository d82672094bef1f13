using System.Collections.Generic;
using Microsoft.Extensions.Options;

namespace TokenMetrics.Internal;

/// <summary>Start-up checks of the attribution headers, dimensions and filters of <see cref="TokenMetricsHandlerOptions"/>.</summary>
internal sealed class TokenMetricsHandlerDimensionValidator : IValidateOptions<TokenMetricsHandlerOptions>
{
    // Headers that carry credentials: never read into a record, a tag or a label (a key in a store is a leaked key).
    private static readonly HashSet<string> CredentialHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie", "set-cookie",
        "ocp-apim-subscription-key", "x-amz-security-token", "x-auth-token", "x-access-token", "www-authenticate", "proxy-authenticate",
    };

    private static readonly string[] CredentialFragments = ["authorization", "api-key", "apikey", "api_key", "secret", "password", "cookie", "credential", "security-token", "access-token", "auth-token", "subscription-key"];

    public ValidateOptionsResult Validate(string? name, TokenMetricsHandlerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        CheckHeader(builder, options.SessionIdHeader, nameof(TokenMetricsHandlerOptions.SessionIdHeader));
        CheckHeader(builder, options.ConsumerHeader, nameof(TokenMetricsHandlerOptions.ConsumerHeader));
        CheckHeader(builder, options.UserIdHeader, nameof(TokenMetricsHandlerOptions.UserIdHeader));
        CheckHeader(builder, options.FeatureHeader, nameof(TokenMetricsHandlerOptions.FeatureHeader));

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Dimensions.Count; i++)
        {
            var d = options.Dimensions[i];
            var member = $"{nameof(TokenMetricsHandlerOptions.Dimensions)}[{i}]";
            if (d is null)
            {
                builder.AddError("must not be null", member);
                continue;
            }

            if (string.IsNullOrWhiteSpace(d.Name))
            {
                builder.AddError("must have a Name", member);
            }
            else if (!names.Add(d.Name))
            {
                builder.AddError($"repeats the name '{d.Name}'", member);
            }
            else if (d.ApplyToMetric && IsReservedLabel(d.Name))
            {
                builder.AddError($"cannot use '{d.Name}' as a metric label: TokenMetrics sets it", member);
            }

            switch (d.Source)
            {
                case TokenUsageDimensionSource.FixedValue:
                    if (d.Value is null && d.DefaultValue is null)
                    {
                        builder.AddError("needs a Value (the fixed text)", member);
                    }

                    break;
                case TokenUsageDimensionSource.RequestHeader or TokenUsageDimensionSource.ResponseHeader:
                    if (string.IsNullOrWhiteSpace(d.Value))
                    {
                        builder.AddError("needs a Value (the header name)", member);
                    }
                    else
                    {
                        CheckHeader(builder, d.Value, member);
                    }

                    break;
                case TokenUsageDimensionSource.RequestBody or TokenUsageDimensionSource.ResponseBody:
                    if (JsonPathValue.TryParse(d.Value, out var error) is null)
                    {
                        builder.AddError($"has an invalid JSON path '{d.Value}': it {error}", member);
                    }

                    break;
                default:
                    builder.AddError($"has an unknown Source {d.Source}", member);
                    break;
            }

            if (d.MaxMetricValues is < 1 or > 10000)
            {
                builder.AddError("MaxMetricValues must be between 1 and 10000", member);
            }
        }

        CheckEntries(builder, options.EnabledPathSuffixes, nameof(TokenMetricsHandlerOptions.EnabledPathSuffixes));
        CheckEntries(builder, options.EnabledContentTypes, nameof(TokenMetricsHandlerOptions.EnabledContentTypes));
        return builder.Build();
    }

    /// <summary>Whether a header name carries credentials and so may never be read into a record.</summary>
    internal static bool IsCredentialHeader(string header)
    {
        if (CredentialHeaders.Contains(header))
        {
            return true;
        }

        foreach (var fragment in CredentialFragments)
        {
            if (header.Contains(fragment, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsReservedLabel(string name) =>
        name.StartsWith("gen_ai.", StringComparison.Ordinal) || name.StartsWith("tokenmetrics.", StringComparison.Ordinal)
        || name.StartsWith("server.", StringComparison.Ordinal) || name is "error.type" or TokenUsageMetricLabelOptions.UserIdLabel or TokenUsageMetricLabelOptions.SessionIdLabel;

    private static void CheckHeader(ValidateOptionsResultBuilder builder, string? header, string member)
    {
        if (header is null)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(header))
        {
            builder.AddError("must not be empty (use null for none)", member);
        }
        else if (IsCredentialHeader(header))
        {
            builder.AddError($"names the credential header '{header}': credentials are never read into records, tags or labels", member);
        }
    }

    private static void CheckEntries(ValidateOptionsResultBuilder builder, IList<string> entries, string member)
    {
        foreach (var entry in entries)
        {
            if (string.IsNullOrWhiteSpace(entry))
            {
                builder.AddError("must not contain an empty entry", member);
                return;
            }
        }
    }
}
