using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>What caused a settings change.</summary>
public enum TokenMetricsSettingsChangeSource
{
    /// <summary>A runtime update through <see cref="TokenMetricsSettingsService"/>.</summary>
    Update,

    /// <summary><see cref="TokenMetricsSettingsService.Reset(string?)"/>: back to the configured settings.</summary>
    Reset,

    /// <summary>A configuration reload (for example <c>appsettings.json</c> changed).</summary>
    Configuration,
}

/// <summary>The outcome of an update or reset: applied whole, or rejected whole with the reasons.</summary>
public sealed record TokenMetricsSettingsUpdateResult
{
    /// <summary>Gets a value indicating whether the change was applied (also <see langword="true"/> when it changed nothing).</summary>
    public required bool Succeeded { get; init; }

    /// <summary>Gets why the change was rejected; empty when it succeeded.</summary>
    public IReadOnlyList<string> Errors { get; init; } = [];

    /// <summary>Gets the settings in force after the call (unchanged when it was rejected).</summary>
    public required TokenMetricsSettings Settings { get; init; }

    /// <summary>Gets the version of <see cref="Settings"/> (see <see cref="TokenMetricsSettingsService.Version"/>).</summary>
    public long Version { get; init; }
}

/// <summary>Describes a change of the settings in force.</summary>
public sealed class TokenMetricsSettingsChangedEventArgs : EventArgs
{
    /// <summary>Initializes a new instance of the <see cref="TokenMetricsSettingsChangedEventArgs"/> class.</summary>
    /// <param name="previous">The settings before.</param>
    /// <param name="current">The settings now in force.</param>
    /// <param name="source">What caused the change.</param>
    /// <param name="reason">Who or why, as the caller said; <see langword="null"/> when not given.</param>
    /// <param name="version">The version of <paramref name="current"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="previous"/> or <paramref name="current"/> is <see langword="null"/>.</exception>
    public TokenMetricsSettingsChangedEventArgs(TokenMetricsSettings previous, TokenMetricsSettings current, TokenMetricsSettingsChangeSource source, string? reason, long version)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(current);
        Previous = previous;
        Current = current;
        Source = source;
        Reason = reason;
        Version = version;
    }

    /// <summary>Gets the settings before the change.</summary>
    public TokenMetricsSettings Previous { get; }

    /// <summary>Gets the settings now in force.</summary>
    public TokenMetricsSettings Current { get; }

    /// <summary>Gets what caused the change.</summary>
    public TokenMetricsSettingsChangeSource Source { get; }

    /// <summary>Gets who or why, as the caller said (control characters removed, at most 200 characters).</summary>
    public string? Reason { get; }

    /// <summary>Gets the version of <see cref="Current"/>.</summary>
    public long Version { get; }
}
