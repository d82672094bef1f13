using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using TokenMetrics.Internal;
using Field = TokenMetrics.Internal.TokenMetricsSettingsRules.Field;

namespace TokenMetrics;

/// <summary>Reads and changes TokenMetrics' runtime settings (<see cref="TokenMetricsSettings"/>) while the app runs: metering on or
/// off, estimation, content capture, sampling, per-exporter switches and price overrides. The next call reads the new settings.</summary>
/// <remarks>
/// <para><b>Precedence.</b> The settings in force are the configured ones (<see cref="TokenMetricsOptions"/>, followed through
/// configuration reloads) with the fields changed at run time laid over them: a field set by <see cref="Update(Func{TokenMetricsSettings, TokenMetricsSettings}, string?)"/>
/// (one whose value the update changed) keeps its runtime value, whatever configuration says, until <see cref="Reset(string?)"/>;
/// every other field follows configuration. Price overrides come only from updates (configured prices belong to the pricing options).</para>
/// <para><b>All or nothing.</b> A change is validated whole: any error (sampling ratio outside 0..1, an unknown exporter name, a
/// negative price, ...) rejects it whole and nothing is applied; the result lists every error. A configuration reload that fails
/// validation is rejected the same way (logged; the settings in force stay), instead of throwing out of the reload.</para>
/// <para><b>Logging.</b> Every applied change is logged at Information with what changed (old -&gt; new) and the caller's reason;
/// every rejection at Warning. Price overrides are logged with their prices (not secrets); nothing else in the settings is sensitive.</para>
/// <para>Thread-safe: changes are serialised and swap one immutable snapshot, so a call never sees half of an update. Use one
/// service per recorder (dependency injection registers one as a singleton).</para>
/// </remarks>
public sealed partial class TokenMetricsSettingsService : IDisposable
{
    private readonly Lock _gate = new();
    private readonly TokenUsageRecorder _recorder;
    private readonly ILogger _logger;
    private readonly List<IDisposable> _registrations = [];
    private TokenMetricsSettings _configured;
    private TokenMetricsSettings _runtime = TokenMetricsSettings.Default;
    private Field _overridden;
    private long _version;
    private IOptionsFactory<TokenMetricsOptions>? _factory;
    private bool _disposed;

    /// <summary>Initializes a new instance of the <see cref="TokenMetricsSettingsService"/> class over the settings the recorder
    /// started with (its <see cref="TokenUsageRecorder.Options"/>); under dependency injection, configuration reloads are followed too.</summary>
    /// <param name="recorder">The recorder whose settings this service changes.</param>
    /// <param name="loggerFactory">Where changes are logged; optional.</param>
    /// <exception cref="ArgumentNullException"><paramref name="recorder"/> is <see langword="null"/>.</exception>
    public TokenMetricsSettingsService(TokenUsageRecorder recorder, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(recorder);
        _recorder = recorder;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("TokenMetrics.Settings");
        ExporterNames = recorder.ExporterNames;
        _configured = recorder.Settings;
    }

    /// <summary>Raised after a change was applied (not for rejected changes, nor for changes that changed nothing).</summary>
    /// <remarks>Raised on the thread that made the change, after it was applied and logged. A handler that throws is fenced:
    /// the exception is counted in <see cref="TokenMetricsStatistics.CallbackFailures"/> and the other handlers still run.</remarks>
    public event EventHandler<TokenMetricsSettingsChangedEventArgs>? Changed;

    /// <summary>Gets the settings in force now (what the next call reads).</summary>
    public TokenMetricsSettings Current => _recorder.Settings;

    /// <summary>Gets the configured settings: what <see cref="Reset(string?)"/> returns to.</summary>
    public TokenMetricsSettings Configured
    {
        get
        {
            lock (_gate)
            {
                return _configured;
            }
        }
    }

    /// <summary>Gets the version of <see cref="Current"/>: 0 at start, one more per applied change (for example an HTTP ETag).</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>Gets the names <see cref="TokenMetricsSettings.DisabledExporters"/> accepts, in registration order (as in
    /// <see cref="TokenMetricsStatistics.Exporters"/>).</summary>
    public IReadOnlyList<string> ExporterNames { get; }

    /// <summary>Changes the settings: <paramref name="change"/> gets the settings in force and returns the new ones (typically with
    /// <c>with</c>). The fields whose values it changes override configuration until <see cref="Reset(string?)"/>.</summary>
    /// <param name="change">Returns the new settings; called once, under the service's lock (keep it quick and free of side effects).</param>
    /// <param name="reason">Who or why, for the log and <see cref="Changed"/>; optional.</param>
    /// <returns>Applied whole, or rejected whole with every error (nothing applied). A <paramref name="change"/> that throws or
    /// returns <see langword="null"/> is rejected.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="change"/> is <see langword="null"/>.</exception>
    public TokenMetricsSettingsUpdateResult Update(Func<TokenMetricsSettings, TokenMetricsSettings> change, string? reason = null)
    {
        ArgumentNullException.ThrowIfNull(change);
        reason = TokenMetricsSettingsRules.SanitizeReason(reason);
        TokenMetricsSettingsChangedEventArgs? changed;
        TokenMetricsSettingsUpdateResult result;
        lock (_gate)
        {
            var before = _recorder.Settings;
            var errors = new List<string>();
            TokenMetricsSettings? proposed = null;
            try
            {
                proposed = change(before);
                if (proposed is null)
                {
                    errors.Add("the change returned no settings");
                }
            }
            catch (Exception ex)
            {
                errors.Add($"the change threw {ex.GetType().Name}: {ex.Message}");
            }

            var after = proposed is null ? before : TokenMetricsSettingsRules.Normalize(proposed, ExporterNames, errors);
            if (errors.Count > 0)
            {
                LogRejected(_logger, TokenMetricsSettingsChangeSource.Update, string.Join("; ", errors), reason);
                return new TokenMetricsSettingsUpdateResult { Succeeded = false, Errors = errors, Settings = before, Version = Version };
            }

            var fields = TokenMetricsSettingsRules.Diff(before, after);
            _runtime = TokenMetricsSettingsRules.Compose(_runtime, after, fields);
            _overridden |= fields;
            (changed, result) = Apply(before, after, fields, TokenMetricsSettingsChangeSource.Update, reason);
        }

        Raise(changed);
        return result;
    }

    /// <summary>Replaces the settings with <paramref name="settings"/>: the same as <see cref="Update(Func{TokenMetricsSettings, TokenMetricsSettings}, string?)"/>
    /// with a change that returns it (fields equal to the settings in force stay as they are, following configuration or not).</summary>
    /// <param name="settings">The new settings.</param>
    /// <param name="reason">Who or why, for the log and <see cref="Changed"/>; optional.</param>
    /// <returns>Applied whole, or rejected whole with every error.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="settings"/> is <see langword="null"/>.</exception>
    public TokenMetricsSettingsUpdateResult Update(TokenMetricsSettings settings, string? reason = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Update(_ => settings, reason);
    }

    /// <summary>Drops every runtime change: the configured settings (as last reloaded) are in force again, and every field follows
    /// configuration.</summary>
    /// <param name="reason">Who or why, for the log and <see cref="Changed"/>; optional.</param>
    /// <returns>The outcome (always applied).</returns>
    public TokenMetricsSettingsUpdateResult Reset(string? reason = null)
    {
        reason = TokenMetricsSettingsRules.SanitizeReason(reason);
        TokenMetricsSettingsChangedEventArgs? changed;
        TokenMetricsSettingsUpdateResult result;
        lock (_gate)
        {
            var before = _recorder.Settings;
            _runtime = TokenMetricsSettings.Default;
            _overridden = Field.None;
            (changed, result) = Apply(before, _configured, TokenMetricsSettingsRules.Diff(before, _configured), TokenMetricsSettingsChangeSource.Reset, reason);
        }

        Raise(changed);
        return result;
    }

    /// <summary>Stops following configuration reloads.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var registration in _registrations)
            {
                registration.Dispose();
            }

            _registrations.Clear();
        }
    }

    /// <summary>The service registered by <c>AddTokenMetrics()</c>: over the registered recorder, following configuration reloads.</summary>
    internal static TokenMetricsSettingsService Create(IServiceProvider services)
    {
        var service = new TokenMetricsSettingsService(services.GetRequiredService<TokenUsageRecorder>(), services.GetService<ILoggerFactory>());
        service.WatchConfiguration(
            services.GetRequiredService<IOptionsFactory<TokenMetricsOptions>>(),
            services.GetServices<IOptionsChangeTokenSource<TokenMetricsOptions>>());
        return service;
    }

    /// <summary>Follows configuration reloads through the same change-token sources and options factory (configure, post-configure,
    /// validate) that <see cref="IOptionsMonitor{TOptions}"/> uses. Not through the monitor itself: on a reload that fails
    /// validation it throws out of the reload and never tells its listeners, and here such a reload must be logged and ignored.</summary>
    internal void WatchConfiguration(IOptionsFactory<TokenMetricsOptions> factory, IEnumerable<IOptionsChangeTokenSource<TokenMetricsOptions>> sources)
    {
        lock (_gate)
        {
            _factory = factory;
            foreach (var source in sources.Where(s => (s.Name ?? Options.DefaultName) == Options.DefaultName))
            {
                _registrations.Add(ChangeToken.OnChange(source.GetChangeToken, OnConfigurationChanged));
            }
        }

        // Configuration may have changed between the recorder's start and these registrations.
        OnConfigurationChanged();
    }

    // Runs on the thread that reloaded configuration: never throws into it.
    private void OnConfigurationChanged()
    {
        TokenMetricsSettingsChangedEventArgs? changed = null;
        try
        {
            var factory = _factory;
            if (factory is null || Volatile.Read(ref _disposed))
            {
                return;
            }

            var errors = new List<string>();
            TokenMetricsSettings? configured = null;
            try
            {
                configured = TokenMetricsSettingsRules.Normalize(TokenMetricsSettingsRules.FromOptionsUnchecked(factory.Create(Options.DefaultName)), ExporterNames, errors);
            }
            catch (OptionsValidationException ex)
            {
                errors.AddRange(ex.Failures);
            }

            if (configured is null || errors.Count > 0)
            {
                LogRejected(_logger, TokenMetricsSettingsChangeSource.Configuration, string.Join("; ", errors), null);
                return;
            }

            lock (_gate)
            {
                var shadowed = TokenMetricsSettingsRules.Diff(_configured, configured) & _overridden;
                if (shadowed != Field.None)
                {
                    LogShadowed(_logger, shadowed);
                }

                _configured = configured;
                var before = _recorder.Settings;
                var after = TokenMetricsSettingsRules.Compose(configured, _runtime, _overridden);
                (changed, _) = Apply(before, after, TokenMetricsSettingsRules.Diff(before, after), TokenMetricsSettingsChangeSource.Configuration, null);
            }
        }
        catch (Exception ex)
        {
            _recorder.ReportInternalError(nameof(TokenMetricsSettingsService), ex);
            return;
        }

        Raise(changed);
    }

    // Under _gate. A change that changes nothing is not applied, counted or logged (the caller still gets success).
    private (TokenMetricsSettingsChangedEventArgs? Changed, TokenMetricsSettingsUpdateResult Result) Apply(
        TokenMetricsSettings before, TokenMetricsSettings after, Field fields, TokenMetricsSettingsChangeSource source, string? reason)
    {
        if (fields == Field.None)
        {
            return (null, new TokenMetricsSettingsUpdateResult { Succeeded = true, Settings = before, Version = Version });
        }

        _recorder.ApplySettings(after);
        var version = Interlocked.Increment(ref _version);
        if (_logger.IsEnabled(LogLevel.Information))
        {
#pragma warning disable CA1873 // guarded by IsEnabled just above
            LogChanged(_logger, source, version, TokenMetricsSettingsRules.Describe(before, after, fields), reason);
#pragma warning restore CA1873
        }

        return (
            new TokenMetricsSettingsChangedEventArgs(before, after, source, reason, version),
            new TokenMetricsSettingsUpdateResult { Succeeded = true, Settings = after, Version = version });
    }

    private void Raise(TokenMetricsSettingsChangedEventArgs? args)
    {
        if (args is null || Changed is not { } handlers)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList().Cast<EventHandler<TokenMetricsSettingsChangedEventArgs>>())
        {
            try
            {
                handler(this, args);
            }
            catch (Exception ex)
            {
                _recorder.ReportCallbackFailure(nameof(Changed), ex);
            }
        }
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "TokenMetrics settings changed by {Source} (version {Version}): {Changes}. Reason: {Reason}")]
    private static partial void LogChanged(ILogger logger, TokenMetricsSettingsChangeSource source, long version, string changes, string? reason);

    [LoggerMessage(EventId = 41, Level = LogLevel.Warning, Message = "TokenMetrics settings {Source} rejected, nothing applied: {Errors}. Reason: {Reason}")]
    private static partial void LogRejected(ILogger logger, TokenMetricsSettingsChangeSource source, string errors, string? reason);

    [LoggerMessage(EventId = 42, Level = LogLevel.Information, Message = "TokenMetrics configuration changed {Fields}, which runtime updates override until Reset: the runtime values stay in force.")]
    private static partial void LogShadowed(ILogger logger, Field fields);
}
