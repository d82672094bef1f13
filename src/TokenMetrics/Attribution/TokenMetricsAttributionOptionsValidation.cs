using System.Collections.Generic;
using Microsoft.Extensions.Options;

namespace TokenMetrics.Internal;

/// <summary>Start-up checks of <see cref="TokenMetricsAttributionOptions"/> (part of <see cref="TokenMetricsOptions"/>' validation).</summary>
internal static class TokenMetricsAttributionOptionsValidation
{
    /// <summary>More keys than this per list is a configuration mistake (and a cost on every call).</summary>
    internal const int MaxKeysPerList = 16;

    public static void Validate(ValidateOptionsResultBuilder builder, TokenMetricsAttributionOptions? options)
    {
        if (options is null)
        {
            builder.AddError("must not be null", nameof(TokenMetricsOptions.Attribution));
            return;
        }

        if (options.Baggage is not { } baggage)
        {
            builder.AddError("must not be null", "Attribution.Baggage");
            return;
        }

        CheckKeys(builder, baggage.UserKeys, nameof(TokenMetricsBaggageOptions.UserKeys));
        CheckKeys(builder, baggage.SessionKeys, nameof(TokenMetricsBaggageOptions.SessionKeys));
        CheckKeys(builder, baggage.ConsumerKeys, nameof(TokenMetricsBaggageOptions.ConsumerKeys));
        CheckKeys(builder, baggage.FeatureKeys, nameof(TokenMetricsBaggageOptions.FeatureKeys));
        CheckKeys(builder, baggage.TagKeys, nameof(TokenMetricsBaggageOptions.TagKeys));
    }

    private static void CheckKeys(ValidateOptionsResultBuilder builder, IList<string>? keys, string name)
    {
        if (keys is null)
        {
            return;
        }

        var member = "Attribution.Baggage." + name;
        if (keys.Count > MaxKeysPerList)
        {
            builder.AddError($"must hold at most {MaxKeysPerList} keys (was {keys.Count})", member);
        }

        foreach (var key in keys)
        {
            if (!IsToken(key))
            {
                builder.AddError($"'{key}' is not a baggage key (a non-empty token: no spaces, controls or separators such as , ; = \")", member);
            }
        }
    }

    /// <summary>W3C baggage keys are RFC 7230 tokens.</summary>
    private static bool IsToken(string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return false;
        }

        foreach (var c in key)
        {
            if (c <= ' ' || c >= 0x7F || "\"(),/:;<=>?@[\\]{}".Contains(c, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
