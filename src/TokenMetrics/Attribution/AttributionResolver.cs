using System.Collections.Generic;
using System.Diagnostics;
using Microsoft.Extensions.AI;

namespace TokenMetrics.Internal;

/// <summary>Resolves who a call is for, once per call: values given with the call, then the ambient scope, then baggage.</summary>
internal static class AttributionResolver
{
    /// <summary>The ambient attribution: the scope's values, completed from baggage. Allocates only when baggage adds something.</summary>
    public static TokenUsageAttribution? Ambient(AttributionSettings settings)
    {
        var scope = TokenMetricsScope.Current;
        if (!settings.ReadBaggage || Activity.Current is not { } activity
            || (scope is { UserId: not null, SessionId: not null, Consumer: not null, Feature: not null } && settings.TagKeys.Length == 0))
        {
            return scope; // nothing baggage could add
        }

        return Merge(scope, ReadBaggage(settings, activity));
    }

    /// <summary>The attribution of one chat-client call: its <c>ChatOptions</c> over <paramref name="ambient"/>.</summary>
    public static TokenUsageAttribution? ForChatCall(ChatOptions? options, TokenUsageAttribution? ambient) =>
        Merge(FromChatOptions(options), ambient);

    /// <summary>Field by field, <paramref name="primary"/>'s non-null values win; tags are merged, <paramref name="primary"/>'s over the others.</summary>
    public static TokenUsageAttribution? Merge(TokenUsageAttribution? primary, TokenUsageAttribution? fallback)
    {
        if (primary is null || ReferenceEquals(primary, fallback))
        {
            return fallback;
        }

        if (fallback is null || !AddsTo(primary, fallback))
        {
            return primary;
        }

        return new TokenUsageAttribution
        {
            UserId = primary.UserId ?? fallback.UserId,
            Consumer = primary.Consumer ?? fallback.Consumer,
            SessionId = primary.SessionId ?? fallback.SessionId,
            Feature = primary.Feature ?? fallback.Feature,
            Tags = MergeTags(primary.Tags, fallback.Tags),
        };
    }

    /// <summary>Reads the configured keys from the activity's baggage (its own items first, then its parents'), in one pass.</summary>
    internal static TokenUsageAttribution? ReadBaggage(AttributionSettings settings, Activity? activity)
    {
        if (activity is null)
        {
            return null;
        }

        string? user = null, session = null, consumer = null, feature = null;
        int userRank = int.MaxValue, sessionRank = int.MaxValue, consumerRank = int.MaxValue, featureRank = int.MaxValue;
        Dictionary<string, string>? tags = null;
        foreach (var (key, value) in activity.Baggage)
        {
            if (string.IsNullOrEmpty(value))
            {
                continue;
            }

            // The first occurrence of a key is the innermost activity's: a later (outer) one never replaces it (strict '<').
            Pick(settings.UserKeys, key, value, ref user, ref userRank);
            Pick(settings.SessionKeys, key, value, ref session, ref sessionRank);
            Pick(settings.ConsumerKeys, key, value, ref consumer, ref consumerRank);
            Pick(settings.FeatureKeys, key, value, ref feature, ref featureRank);
            if (Array.IndexOf(settings.TagKeys, key) >= 0)
            {
                tags ??= new(StringComparer.Ordinal);
                tags.TryAdd(key, value);
            }
        }

        return user is null && session is null && consumer is null && feature is null && tags is null
            ? null
            : new TokenUsageAttribution { UserId = user, SessionId = session, Consumer = consumer, Feature = feature, Tags = tags };
    }

    /// <summary>The values given with one chat call: <see cref="TokenUsageAttributionKeys"/> in <c>AdditionalProperties</c>, and
    /// <c>ConversationId</c> as the session.</summary>
    internal static TokenUsageAttribution? FromChatOptions(ChatOptions? options)
    {
        if (options is null)
        {
            return null;
        }

        var conversation = options.ConversationId is { Length: > 0 } c ? c : null;
        if (options.AdditionalProperties is not { Count: > 0 } properties)
        {
            return conversation is null ? null : new TokenUsageAttribution { SessionId = conversation };
        }

        var whole = properties.TryGetValue(TokenUsageAttributionKeys.Attribution, out var w) ? w as TokenUsageAttribution : null;
        var user = GetString(properties, TokenUsageAttributionKeys.UserId);
        var consumer = GetString(properties, TokenUsageAttributionKeys.Consumer);
        var session = GetString(properties, TokenUsageAttributionKeys.SessionId);
        var feature = GetString(properties, TokenUsageAttributionKeys.Feature);
        var tags = properties.TryGetValue(TokenUsageAttributionKeys.Tags, out var t) ? CopyTags(t) : null;
        if (user is null && consumer is null && session is null && feature is null && tags is null)
        {
            return whole is null
                ? conversation is null ? null : new TokenUsageAttribution { SessionId = conversation }
                : conversation is null || whole.SessionId is not null ? whole : Merge(whole, new TokenUsageAttribution { SessionId = conversation });
        }

        return new TokenUsageAttribution
        {
            UserId = user ?? whole?.UserId,
            Consumer = consumer ?? whole?.Consumer,
            SessionId = session ?? whole?.SessionId ?? conversation,
            Feature = feature ?? whole?.Feature,
            Tags = MergeTags(tags, whole?.Tags),
        };
    }

    private static void Pick(string[] keys, string key, string value, ref string? found, ref int rank)
    {
        var index = Array.IndexOf(keys, key);
        if (index >= 0 && index < rank)
        {
            found = value;
            rank = index;
        }
    }

    private static bool AddsTo(TokenUsageAttribution primary, TokenUsageAttribution fallback) =>
        (primary.UserId is null && fallback.UserId is not null)
        || (primary.Consumer is null && fallback.Consumer is not null)
        || (primary.SessionId is null && fallback.SessionId is not null)
        || (primary.Feature is null && fallback.Feature is not null)
        || fallback.Tags is { Count: > 0 };

    private static IReadOnlyDictionary<string, string>? MergeTags(IReadOnlyDictionary<string, string>? primary, IReadOnlyDictionary<string, string>? fallback)
    {
        if (fallback is not { Count: > 0 })
        {
            return primary;
        }

        if (primary is not { Count: > 0 })
        {
            return fallback;
        }

        var tags = new Dictionary<string, string>(fallback, StringComparer.Ordinal);
        foreach (var (key, value) in primary)
        {
            tags[key] = value;
        }

        return tags;
    }

    private static string? GetString(AdditionalPropertiesDictionary properties, string key) =>
        properties.TryGetValue(key, out var value) && value is string { Length: > 0 } s ? s : null;

    /// <summary>Copies the caller's tags: the record is exported later, and the caller may change its dictionary meanwhile.</summary>
    private static Dictionary<string, string>? CopyTags(object? value)
    {
        Dictionary<string, string>? tags = null;
        switch (value)
        {
            case IEnumerable<KeyValuePair<string, string>> strings:
                foreach (var (k, v) in strings)
                {
                    if (k is not null && v is not null)
                    {
                        (tags ??= new(StringComparer.Ordinal))[k] = v;
                    }
                }

                break;
            case IEnumerable<KeyValuePair<string, object?>> objects:
                foreach (var (k, v) in objects)
                {
                    if (k is not null && v?.ToString() is { } s)
                    {
                        (tags ??= new(StringComparer.Ordinal))[k] = s;
                    }
                }

                break;
        }

        return tags;
    }
}
