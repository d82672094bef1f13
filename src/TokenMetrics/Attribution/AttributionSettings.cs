using System.Collections.Generic;
using System.Threading;

namespace TokenMetrics.Internal;

/// <summary>The attribution options, compiled once at start-up (the options object stays the app's to change).</summary>
internal sealed class AttributionSettings
{
    private static AttributionSettings? s_propagating;

    private AttributionSettings(TokenMetricsBaggageOptions baggage)
    {
        ReadBaggage = baggage.Read;
        Propagate = baggage.Propagate;
        UserKeys = Keys(baggage.UserKeys, TokenMetricsBaggageOptions.DefaultUserKeys);
        SessionKeys = Keys(baggage.SessionKeys, TokenMetricsBaggageOptions.DefaultSessionKeys);
        ConsumerKeys = Keys(baggage.ConsumerKeys, TokenMetricsBaggageOptions.DefaultConsumerKeys);
        FeatureKeys = Keys(baggage.FeatureKeys, TokenMetricsBaggageOptions.DefaultFeatureKeys);
        TagKeys = baggage.TagKeys is { } tags ? [.. tags] : [];
    }

    /// <summary>Gets the settings that make scopes put their values into baggage, or <see langword="null"/>.</summary>
    /// <remarks>Process-wide, as scopes are: set by the recorder whose options ask for it, cleared when it is disposed.</remarks>
    public static AttributionSettings? Propagating => Volatile.Read(ref s_propagating);

    public bool ReadBaggage { get; }

    public bool Propagate { get; }

    public string[] UserKeys { get; }

    public string[] SessionKeys { get; }

    public string[] ConsumerKeys { get; }

    public string[] FeatureKeys { get; }

    public string[] TagKeys { get; }

    public static AttributionSettings Create(TokenMetricsAttributionOptions? options)
    {
        var settings = new AttributionSettings(options?.Baggage ?? new TokenMetricsBaggageOptions());
        if (settings.Propagate)
        {
            Volatile.Write(ref s_propagating, settings);
        }

        return settings;
    }

    /// <summary>Stops scopes propagating, unless a later recorder asked for it again.</summary>
    public void Release()
    {
        if (Propagate)
        {
            _ = Interlocked.CompareExchange(ref s_propagating, null, this);
        }
    }

    private static string[] Keys(IList<string>? configured, IReadOnlyList<string> defaults) =>
        configured is null ? [.. defaults] : [.. configured];
}
