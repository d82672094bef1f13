using System.Threading;

namespace TokenMetrics;

/// <summary>Turns metering off for the calls made inside a scope, so exporters that post over HTTP are never metered themselves.</summary>
/// <remarks>Like OpenTelemetry's <c>SuppressInstrumentationScope</c>: the export pipeline runs every exporter inside one.</remarks>
internal static class TokenMetricsSuppression
{
    private static readonly AsyncLocal<int> Depth = new();

    /// <summary>Gets a value indicating whether metering is suppressed on the current async flow.</summary>
    public static bool IsSuppressed => Depth.Value > 0;

    /// <summary>Suppresses metering until the returned scope is disposed.</summary>
    /// <returns>The scope.</returns>
    public static IDisposable Begin()
    {
        Depth.Value++;
        return new Scope();
    }

    private sealed class Scope : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Depth.Value--;
            }
        }
    }
}
