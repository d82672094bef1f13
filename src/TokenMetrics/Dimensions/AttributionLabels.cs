using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Linq;
using System.Text;

namespace TokenMetrics.Internal;

/// <summary>The opted-in attribution labels of the meter exporter, each with its guard (see <see cref="TokenUsageMetricLabelOptions"/>).</summary>
internal sealed class AttributionLabels
{
    private readonly MetricLabelGuard? _user;
    private readonly MetricLabelGuard? _consumer;
    private readonly MetricLabelGuard? _session;
    private readonly MetricLabelGuard? _feature;

    private AttributionLabels(TokenUsageMetricLabelOptions options)
    {
        Func<string, string>? hash = null;
        if (options.HashUserId)
        {
            // The key lives only as bytes inside the hasher's closure.
            hash = new UserIdHasher(Encoding.UTF8.GetBytes(options.UserIdHashKey!), options.UserIdHashLength).Hash;
        }

        _user = options.UserId ? Guard(options, TokenUsageMetricLabelOptions.UserIdLabel, hash) : null;
        _consumer = options.Consumer ? Guard(options, TokenUsageMetricLabelOptions.ConsumerLabel, null) : null;
        _session = options.SessionId ? Guard(options, TokenUsageMetricLabelOptions.SessionIdLabel, null) : null;
        _feature = options.Feature ? Guard(options, TokenUsageMetricLabelOptions.FeatureLabel, null) : null;
    }

    public static AttributionLabels? Create(TokenUsageMetricLabelOptions? options)
    {
        if (options is null)
        {
            return null;
        }

        var problems = options.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new ValidationException("Invalid TokenUsageMetricLabelOptions: " + string.Join("; ", problems.Select(p => p.Member + " " + p.Message)));
        }

        return options is { UserId: false, Consumer: false, SessionId: false, Feature: false } ? null : new AttributionLabels(options);
    }

    public void AddTo(ref TagList tags, TokenUsageRecord record)
    {
        if (_user is not null)
        {
            tags.Add(TokenUsageMetricLabelOptions.UserIdLabel, _user.Label(record.UserId));
        }

        if (_consumer is not null)
        {
            tags.Add(TokenUsageMetricLabelOptions.ConsumerLabel, _consumer.Label(record.Consumer));
        }

        if (_session is not null)
        {
            tags.Add(TokenUsageMetricLabelOptions.SessionIdLabel, _session.Label(record.SessionId));
        }

        if (_feature is not null)
        {
            tags.Add(TokenUsageMetricLabelOptions.FeatureLabel, _feature.Label(record.Feature));
        }
    }

    private static MetricLabelGuard Guard(TokenUsageMetricLabelOptions options, string label, Func<string, string>? map) =>
        new(options.AllowedValues.TryGetValue(label, out var allowed) ? allowed : null, options.MaxDistinctValues, map);
}
