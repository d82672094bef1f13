using System.Diagnostics.Tracing;

namespace TokenMetrics.Internal;

/// <summary>Self-diagnostics: what TokenMetrics swallowed so that the app never saw it.</summary>
[EventSource(Name = TokenMetricsDiagnostics.EventSourceName)]
internal sealed class TokenMetricsEventSource : EventSource
{
    public static readonly TokenMetricsEventSource Log = new();

    [NonEvent]
    public void InternalError(string where, Exception exception)
    {
        if (IsEnabled(EventLevel.Warning, EventKeywords.All))
        {
            InternalError(where, exception.ToString());
        }
    }

    [NonEvent]
    public void ExporterFailed(string exporter, Exception exception)
    {
        if (IsEnabled(EventLevel.Warning, EventKeywords.All))
        {
            ExporterFailed(exporter, exception.ToString());
        }
    }

    [NonEvent]
    public void CallbackFailed(string callback, Exception exception)
    {
        if (IsEnabled(EventLevel.Warning, EventKeywords.All))
        {
            CallbackFailed(callback, exception.ToString());
        }
    }

    [Event(1, Message = "TokenMetrics internal error in {0}: {1}", Level = EventLevel.Warning)]
    public void InternalError(string where, string exception) => WriteEvent(1, where, exception);

    [Event(2, Message = "Exporter {0} failed: {1}", Level = EventLevel.Warning)]
    public void ExporterFailed(string exporter, string exception) => WriteEvent(2, exporter, exception);

    [Event(3, Message = "User callback {0} threw: {1}", Level = EventLevel.Warning)]
    public void CallbackFailed(string callback, string exception) => WriteEvent(3, callback, exception);

    [Event(4, Message = "Record dropped: {0}", Level = EventLevel.Warning)]
    public void RecordDropped(string reason) => WriteEvent(4, reason);
}
