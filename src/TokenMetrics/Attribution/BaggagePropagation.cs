using System.Diagnostics;

namespace TokenMetrics.Internal;

/// <summary>Puts a scope's attribution into the current activity's baggage for the scope's lifetime, and takes it out again.</summary>
/// <remarks>
/// <c>HttpClient</c> sends <see cref="Activity.Current"/>'s baggage as the <c>baggage</c> header (through
/// <see cref="DistributedContextPropagator.Current"/>), so the next service sees who the work is for. An existing activity is changed in
/// place and restored at the end rather than replaced by a child: a child that no tracer exports would leave the spans beneath it
/// with a parent that does not exist.
/// </remarks>
internal sealed class BaggagePropagation
{
    /// <summary>The name of the activity a scope starts when there is none to carry its baggage.</summary>
    internal const string ActivityName = "TokenMetrics.Attribution";

    private readonly Activity _activity;
    private readonly bool _started;
    private readonly (string Key, string? Previous)[] _set;
    private readonly int _count;

    private BaggagePropagation(Activity activity, bool started, (string, string?)[] set, int count)
    {
        _activity = activity;
        _started = started;
        _set = set;
        _count = count;
    }

    public static BaggagePropagation? Push(AttributionSettings settings, TokenUsageAttribution attribution)
    {
        var set = new (string Key, string? Previous)[4];
        var activity = Activity.Current;
        var started = false;
        if (activity is null)
        {
            if (attribution.UserId is null && attribution.SessionId is null && attribution.Consumer is null && attribution.Feature is null)
            {
                return null;
            }

            activity = new Activity(ActivityName).Start();
            started = true;
        }

        var count = 0;
        Set(activity, settings.UserKeys, attribution.UserId, set, ref count);
        Set(activity, settings.SessionKeys, attribution.SessionId, set, ref count);
        Set(activity, settings.ConsumerKeys, attribution.Consumer, set, ref count);
        Set(activity, settings.FeatureKeys, attribution.Feature, set, ref count);
        if (count == 0 && !started)
        {
            return null;
        }

        return new BaggagePropagation(activity, started, set, count);
    }

    public void Pop()
    {
        if (_started)
        {
            // Stop restores Activity.Current to what it was before the scope (nothing) when the scope ends on its own flow.
            _activity.Stop();
            return;
        }

        for (var i = _count - 1; i >= 0; i--)
        {
            var (key, previous) = _set[i];
            _ = _activity.SetBaggage(key, previous);
        }
    }

    private static void Set(Activity activity, string[] keys, string? value, (string, string?)[] set, ref int count)
    {
        if (value is null || keys.Length == 0)
        {
            return;
        }

        var key = keys[0];
        // What to put back: the activity's own item. A value equal to the parent's is inherited (or indistinguishable from it),
        // so removing ours shows the same value again.
        var visible = activity.GetBaggageItem(key);
        var own = visible is not null && !string.Equals(visible, activity.Parent?.GetBaggageItem(key), StringComparison.Ordinal) ? visible : null;
        set[count++] = (key, own);
        _ = activity.SetBaggage(key, value);
    }
}
