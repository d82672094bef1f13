using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.Extensions.Logging;

namespace TokenMetrics;

/// <summary>Prices records in place, the first step of delivery: the effective catalog (shipped, configured, file, runtime
/// overrides), the record's own model, its normalised usage. Never throws.</summary>
internal sealed partial class TokenUsagePricer : IDisposable
{
    private static readonly TimeSpan ReloadDelay = TimeSpan.FromMilliseconds(100);
    private readonly TokenMetricsPricingOptions _options;
    private readonly ILogger _logger;
    private readonly Action<string, Exception> _reportError;
    private readonly Lock _rebuild = new();
    private readonly FileSystemWatcher? _watcher;
    private readonly ITimer? _reloadTimer;
    private IReadOnlyList<TokenUsagePriceEntry> _fileEntries = [];
    private Snapshot _current;
    private long _priceUnknown;
    private long _noUsage;

    public TokenUsagePricer(TokenMetricsPricingOptions options, TimeProvider timeProvider, ILogger logger, Action<string, Exception> reportError)
    {
        _options = options;
        _logger = logger;
        _reportError = reportError;
        Enabled = options.Enabled;
        if (Enabled && options.PriceFile is { } file)
        {
            var path = Path.GetFullPath(file);
            _fileEntries = PriceCatalogJson.Parse(File.ReadAllText(path), path);
            _reloadTimer = timeProvider.CreateTimer(_ => ReloadFile(path), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _watcher = new FileSystemWatcher(Path.GetDirectoryName(path)!, Path.GetFileName(path))
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
            };

            // Editors write in several steps (truncate, write, rename): wait for the burst to settle, then read once.
            FileSystemEventHandler changed = (_, _) => _reloadTimer.Change(ReloadDelay, Timeout.InfiniteTimeSpan);
            _watcher.Changed += changed;
            _watcher.Created += changed;
            _watcher.Renamed += (_, _) => _reloadTimer.Change(ReloadDelay, Timeout.InfiniteTimeSpan);
            _watcher.EnableRaisingEvents = true;
        }

        _current = Build(null);
    }

    public bool Enabled { get; }

    /// <summary>Gets the records with usage whose model has no price (cost left null).</summary>
    public long PriceUnknown => Interlocked.Read(ref _priceUnknown);

    /// <summary>Gets the records without usage to price (cost left null).</summary>
    public long NoUsage => Interlocked.Read(ref _noUsage);

    /// <summary>Gets the catalog in force for these runtime overrides.</summary>
    public TokenUsagePriceCatalog GetCatalog(IReadOnlyDictionary<string, TokenUsagePrice>? overrides)
    {
        var current = Volatile.Read(ref _current);
        if (ReferenceEquals(current.Overrides, overrides))
        {
            return current.Catalog;
        }

        // Settings changed (a new snapshot): rebuild once, then every call reads the new catalog and its cache.
        lock (_rebuild)
        {
            current = _current;
            if (!ReferenceEquals(current.Overrides, overrides))
            {
                current = Build(overrides);
                Volatile.Write(ref _current, current);
            }

            return current.Catalog;
        }
    }

    /// <summary>Prices the record in place (<see cref="TokenUsageRecord.SetCost"/>); a record already priced is left alone.</summary>
    public void Apply(TokenUsageRecord record, TokenMetricsSettings settings)
    {
        if (!Enabled || record.Cost is not null)
        {
            return;
        }

        try
        {
            var usage = record.Usage;
            if (usage.InputTokenCount is null && usage.OutputTokenCount is null)
            {
                Interlocked.Increment(ref _noUsage);
                return;
            }

            var catalog = GetCatalog(settings.PriceOverrides);
            var match = Resolve(catalog, record);
            var cost = match?.Entry.Price.ComputeCost(usage);
            if (cost is null)
            {
                Interlocked.Increment(ref _priceUnknown);
                return;
            }

            record.SetCost(cost, match!.Entry.Price.Currency, match.Entry.Key);
        }
        catch (Exception ex)
        {
            _reportError(nameof(TokenUsagePricer), ex);
        }
    }

    /// <summary>The model the vendor billed: the one that answered (a dated snapshot), else the one the request was routed to,
    /// else the one asked for; the first that has a price.</summary>
    internal static TokenUsagePriceMatch? Resolve(TokenUsagePriceCatalog catalog, TokenUsageRecord record) =>
        catalog.Resolve(record.ResponseModel, record.Provider)
        ?? catalog.Resolve(record.RoutedModel, record.Provider)
        ?? catalog.Resolve(record.RequestModel, record.Provider);

    public void Dispose()
    {
        _watcher?.Dispose();
        _reloadTimer?.Dispose();
    }

    /// <summary>Combines the layers: shipped catalog, configured prices, the price file, runtime overrides (each wins over the previous).</summary>
    private Snapshot Build(IReadOnlyDictionary<string, TokenUsagePrice>? overrides)
    {
        var entries = new List<TokenUsagePriceEntry>(_options.UseBuiltInCatalog ? TokenUsagePriceCatalog.Default.Entries : []);
        Apply(entries, _options.Prices.Select(p => UserEntry(p.Key, p.Value, "configuration")));
        Apply(entries, Volatile.Read(ref _fileEntries));
        if (overrides is not null)
        {
            Apply(entries, overrides.Where(p => p.Value is not null).Select(p => UserEntry(p.Key, p.Value, "settings")));
        }

        return new Snapshot(new TokenUsagePriceCatalog(entries, _options.Deployments, _options.Aliases), overrides);
    }

    private static TokenUsagePriceEntry UserEntry(string name, TokenUsagePrice price, string source)
    {
        var trimmed = name.Trim();
        return trimmed.EndsWith('*')
            ? new TokenUsagePriceEntry { Key = trimmed, Price = price, Prefixes = [trimmed.TrimEnd('*')], Source = source }
            : new TokenUsagePriceEntry { Key = trimmed, Price = price, Source = source };
    }

    /// <summary>A user entry named like a catalog key replaces that key's prices (every provider, aliases and snapshots kept);
    /// any other is put first, so its name wins over the catalog's matching.</summary>
    private static void Apply(List<TokenUsagePriceEntry> entries, IEnumerable<TokenUsagePriceEntry> layer)
    {
        var added = new List<TokenUsagePriceEntry>();
        foreach (var user in layer)
        {
            var replaced = false;
            for (var i = 0; i < entries.Count; i++)
            {
                var entry = entries[i];
                if (string.Equals(entry.Key, user.Key, StringComparison.OrdinalIgnoreCase)
                    && (user.Provider is null || string.Equals(entry.Provider, user.Provider, StringComparison.OrdinalIgnoreCase)))
                {
                    entries[i] = entry with { Price = user.Price, Source = user.Source, Date = user.Date };
                    replaced = true;
                }
            }

            if (!replaced)
            {
                added.Add(user);
            }
        }

        entries.InsertRange(0, added);
    }

    private void ReloadFile(string path)
    {
        try
        {
            var entries = PriceCatalogJson.Parse(File.ReadAllText(path), path);
            Volatile.Write(ref _fileEntries, entries);
            lock (_rebuild)
            {
                Volatile.Write(ref _current, Build(_current.Overrides));
            }

            LogPriceFileReloaded(_logger, path, entries.Count);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            // Half-written or wrong: the previous prices stay; the next change on disk tries again.
            LogPriceFileRejected(_logger, path, ex);
        }
        catch (Exception ex)
        {
            _reportError(nameof(ReloadFile), ex);
        }
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "TokenMetrics reloaded the price file {Path} ({Count} prices).")]
    private static partial void LogPriceFileReloaded(ILogger logger, string path, int count);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "TokenMetrics kept the previous prices: the price file {Path} could not be read.")]
    private static partial void LogPriceFileRejected(ILogger logger, string path, Exception exception);

    private sealed record Snapshot(TokenUsagePriceCatalog Catalog, IReadOnlyDictionary<string, TokenUsagePrice>? Overrides);
}
