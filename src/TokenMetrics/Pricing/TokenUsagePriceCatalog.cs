using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

namespace TokenMetrics;

/// <summary>A price catalog: resolves a model name (and optionally its provider) to the entry that prices it.</summary>
/// <remarks>
/// <para>Matching, in order: configured deployment names (Azure OpenAI) mapped to models; exact keys and aliases; dated
/// snapshots and versions (<c>gpt-4o-2024-08-06</c> → <c>gpt-4o</c>, <c>claude-sonnet-4-5-20250929</c>,
/// <c>claude-3-5-sonnet@20240620</c>, <c>...-v1:0</c>); then the longest catalog name the model starts with. Names are
/// compared case-insensitively; <c>models/</c> (Gemini), <c>vendor/</c> (gateways), ARNs, Bedrock's cross-region prefixes
/// (<c>us.</c>, <c>eu.</c>, <c>apac.</c>, <c>global.</c>...) and Bedrock model ids (<c>anthropic.claude-...-v1:0</c>) are
/// understood. When several vendors price one name, the entry of the record's provider wins, else the model's own vendor.</para>
/// <para>Results are cached per model string (and provider), so a repeated lookup allocates nothing.</para>
/// </remarks>
public sealed class TokenUsagePriceCatalog
{
    /// <summary>The resource name of the shipped catalog.</summary>
    internal const string ResourceName = "TokenMetrics.Pricing.Data.prices.json";

    // Bounds the cache against a stream of distinct garbage names: past it, lookups are computed (still correct), not kept.
    private const int MaxCachedNames = 4096;

    private static readonly Lazy<TokenUsagePriceCatalog> DefaultCatalog = new(LoadDefault, LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly string[] BedrockRegions = ["us.", "eu.", "apac.", "jp.", "au.", "ca.", "us-gov.", "global.", "regional."];

    private static readonly string[] BedrockVendors =
        ["anthropic.", "meta.", "amazon.", "mistral.", "cohere.", "ai21.", "deepseek.", "qwen.", "openai.", "google.", "writer.", "nvidia.", "moonshot.", "minimax."];

    private readonly Dictionary<string, Candidate[]> _names;
    private readonly (string Prefix, bool AnyBoundary, Candidate[] Candidates)[] _prefixes;
    private readonly Dictionary<string, string> _deployments;
    private readonly Dictionary<string, string> _aliases;
    private readonly ConcurrentDictionary<(string Model, string? Provider), TokenUsagePriceMatch?> _cache = new();
    private int _cached;

    /// <summary>Initializes a new instance of the <see cref="TokenUsagePriceCatalog"/> class.</summary>
    /// <param name="entries">The entries; for a name priced by several entries of one provider, the first wins.</param>
    /// <param name="deployments">Deployment names (Azure OpenAI) mapped to model names; optional.</param>
    /// <param name="aliases">Model names mapped to other model names (for example a gateway's name for a vendor model); optional.</param>
    /// <exception cref="ArgumentNullException"><paramref name="entries"/> is <see langword="null"/>.</exception>
    public TokenUsagePriceCatalog(
        IEnumerable<TokenUsagePriceEntry> entries,
        IEnumerable<KeyValuePair<string, string>>? deployments = null,
        IEnumerable<KeyValuePair<string, string>>? aliases = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        Entries = entries.Where(e => e is not null).ToArray();
        var names = new Dictionary<string, List<Candidate>>(StringComparer.OrdinalIgnoreCase);
        var prefixes = new Dictionary<(string, bool), List<Candidate>>();
        foreach (var entry in Entries)
        {
            AddName(names, entry.Key, new Candidate(entry, TokenUsagePriceMatchKind.Exact));
            AddPrefix(prefixes, entry.Key, anyBoundary: false, new Candidate(entry, TokenUsagePriceMatchKind.Prefix));
            foreach (var alias in entry.Aliases ?? [])
            {
                AddName(names, alias, new Candidate(entry, TokenUsagePriceMatchKind.Alias));
            }

            foreach (var prefix in entry.Prefixes ?? [])
            {
                // A curated prefix is also a family name: a dated snapshot stripped to it is a snapshot match.
                AddName(names, prefix, new Candidate(entry, TokenUsagePriceMatchKind.Alias));
                AddPrefix(prefixes, prefix, anyBoundary: true, new Candidate(entry, TokenUsagePriceMatchKind.Prefix));
            }
        }

        _names = names.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.OrdinalIgnoreCase);
        _prefixes = prefixes
            .Select(p => (p.Key.Item1, p.Key.Item2, p.Value.ToArray()))
            .OrderByDescending(p => p.Item1.Length)
            .ToArray();
        _deployments = ToMap(deployments);
        _aliases = ToMap(aliases);
    }

    /// <summary>Gets the catalog shipped with TokenMetrics (dated vendor prices; see each entry's source and date).</summary>
    public static TokenUsagePriceCatalog Default => DefaultCatalog.Value;

    /// <summary>Gets the entries, in preference order.</summary>
    public IReadOnlyList<TokenUsagePriceEntry> Entries { get; }

    /// <summary>Reads a catalog from JSON: either the shipped format (<c>{"models":[{"key":..,"provider":..,"input":..,...}]}</c>)
    /// or a plain map of model name to prices (<c>{"my-model":{"input":1.0,"output":2.0}}</c>), prices in USD per 1M tokens.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="source">Recorded as the entries' source when they name none (for example the file path).</param>
    /// <returns>The catalog.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="json"/> is <see langword="null"/>.</exception>
    /// <exception cref="FormatException">The JSON is malformed or a price is not a non-negative number.</exception>
    public static TokenUsagePriceCatalog Parse(string json, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        return new TokenUsagePriceCatalog(PriceCatalogJson.Parse(json, source));
    }

    /// <summary>Resolves a model name to the entry that prices it.</summary>
    /// <param name="model">The model name as a record carries it.</param>
    /// <param name="provider">The record's provider (<c>gen_ai.provider.name</c>); prefers that vendor's entry when several price the name.</param>
    /// <returns>The match, or <see langword="null"/> when the model is not in the catalog.</returns>
    public TokenUsagePriceMatch? Resolve(string? model, string? provider = null)
    {
        if (string.IsNullOrWhiteSpace(model))
        {
            return null;
        }

        if (_cache.TryGetValue((model, provider), out var cached))
        {
            return cached;
        }

        var match = ResolveUncached(model, provider);
        if (Volatile.Read(ref _cached) < MaxCachedNames && _cache.TryAdd((model, provider), match))
        {
            Interlocked.Increment(ref _cached);
        }

        return match;
    }

    private static TokenUsagePriceCatalog LoadDefault()
    {
        using var stream = typeof(TokenUsagePriceCatalog).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded price catalog {ResourceName} is missing.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd());
    }

    private static Dictionary<string, string> ToMap(IEnumerable<KeyValuePair<string, string>>? pairs)
    {
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in pairs ?? [])
        {
            if (!string.IsNullOrWhiteSpace(key) && !string.IsNullOrWhiteSpace(value))
            {
                map[key.Trim()] = value.Trim();
            }
        }

        return map;
    }

    private static void AddName(Dictionary<string, List<Candidate>> names, string name, Candidate candidate)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return;
        }

        if (!names.TryGetValue(name, out var list))
        {
            names[name] = list = [];
        }

        // One entry per provider and name: the first (a user price, then the vendor's own) wins.
        if (!list.Exists(c => string.Equals(c.Entry.Provider, candidate.Entry.Provider, StringComparison.OrdinalIgnoreCase)))
        {
            list.Add(candidate);
        }
    }

    /// <summary>Whether a model name continues past a known name with a new part (<c>gpt-4o-mini</c> then <c>-2099</c>, <c>+tuned</c>,
    /// <c>:free</c>) rather than being another model (<c>gpt-4</c> then <c>.1</c> or <c>o</c>): any separator but the version dot.</summary>
    private static bool IsNameBoundary(char c) => !char.IsLetterOrDigit(c) && c != '.';

    private static void AddPrefix(Dictionary<(string, bool), List<Candidate>> prefixes, string prefix, bool anyBoundary, Candidate candidate)
    {
        if (string.IsNullOrWhiteSpace(prefix))
        {
            return;
        }

        var key = (prefix.ToLowerInvariant(), anyBoundary);
        if (!prefixes.TryGetValue(key, out var list))
        {
            prefixes[key] = list = [];
        }

        if (!list.Exists(c => string.Equals(c.Entry.Provider, candidate.Entry.Provider, StringComparison.OrdinalIgnoreCase)))
        {
            list.Add(candidate);
        }
    }

    private static TokenUsagePriceEntry Pick(Candidate[] candidates, string? provider, out TokenUsagePriceMatchKind kind)
    {
        if (provider is not null)
        {
            foreach (var candidate in candidates)
            {
                if (candidate.Entry.Provider is null || string.Equals(candidate.Entry.Provider, provider, StringComparison.OrdinalIgnoreCase))
                {
                    kind = candidate.Kind;
                    return candidate.Entry;
                }
            }
        }

        // No entry of that provider (Azure pricing a model at OpenAI's rates, a gateway in front of a vendor): the model's own vendor.
        kind = candidates[0].Kind;
        return candidates[0].Entry;
    }

    internal TokenUsagePriceMatch? ResolveUncached(string model, string? provider)
    {
        var name = model.Trim();
        if (_deployments.TryGetValue(name, out var deployed))
        {
            var target = Find(deployed, provider);
            return target is null ? null : new TokenUsagePriceMatch(target.Entry, TokenUsagePriceMatchKind.Deployment, model);
        }

        var found = Find(name, provider);
        return found is null ? null : found with { Model = model };
    }

    private TokenUsagePriceMatch? Find(string name, string? provider)
    {
        var forms = Forms(name);
        foreach (var form in forms)
        {
            if (FindName(form, provider, followAliases: true) is { } exact)
            {
                return exact;
            }

            var stripped = form;
            while (StripSnapshot(ref stripped))
            {
                if (FindName(stripped, provider, followAliases: true) is { } snapshot)
                {
                    return snapshot with { Kind = TokenUsagePriceMatchKind.Snapshot };
                }
            }
        }

        foreach (var form in forms)
        {
            foreach (var (prefix, anyBoundary, candidates) in _prefixes)
            {
                if (prefix.Length < form.Length && form.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
                    && (anyBoundary || IsNameBoundary(form[prefix.Length])))
                {
                    return new TokenUsagePriceMatch(Pick(candidates, provider, out _), TokenUsagePriceMatchKind.Prefix, name);
                }
            }
        }

        return null;
    }

    private TokenUsagePriceMatch? FindName(string name, string? provider, bool followAliases)
    {
        if (followAliases && _aliases.TryGetValue(name, out var target))
        {
            var aliased = FindName(target, provider, followAliases: false);
            if (aliased is null)
            {
                var stripped = target;
                while (aliased is null && StripSnapshot(ref stripped))
                {
                    aliased = FindName(stripped, provider, followAliases: false);
                }
            }

            if (aliased is not null)
            {
                return aliased with { Kind = TokenUsagePriceMatchKind.Alias };
            }
        }

        if (_names.TryGetValue(name, out var candidates))
        {
            var entry = Pick(candidates, provider, out var kind);
            return new TokenUsagePriceMatch(entry, kind, name);
        }

        return null;
    }

    /// <summary>The spellings of one model name to try, most specific first.</summary>
    private static List<string> Forms(string name)
    {
        var forms = new List<string>(4) { name };
        var current = name;
        if (current.StartsWith("models/", StringComparison.OrdinalIgnoreCase))
        {
            current = current["models/".Length..];
            forms.Add(current);
        }

        // ARNs (inference profiles), gateway ids (anthropic/claude-...), Vertex resource paths: the model is the last segment.
        var slash = current.LastIndexOf('/');
        if (slash >= 0 && slash < current.Length - 1)
        {
            current = current[(slash + 1)..];
            forms.Add(current);
        }

        foreach (var region in BedrockRegions)
        {
            if (current.StartsWith(region, StringComparison.OrdinalIgnoreCase) && current.IndexOf('.', region.Length) > region.Length)
            {
                current = current[region.Length..];
                forms.Add(current);
                break;
            }
        }

        foreach (var vendor in BedrockVendors)
        {
            if (current.StartsWith(vendor, StringComparison.OrdinalIgnoreCase) && current.Length > vendor.Length)
            {
                // A Bedrock id the catalog does not list: the vendor's own model, priced by the vendor's entry.
                forms.Add(current[vendor.Length..]);
                break;
            }
        }

        return forms;
    }

    /// <summary>Removes one snapshot or version suffix; returns false when there is none.</summary>
    internal static bool StripSnapshot(ref string name)
    {
        var at = name.LastIndexOf('@');
        if (at > 0)
        {
            name = name[..at];
            return true;
        }

        var span = name.AsSpan();
        int cut;
        if ((cut = SuffixLength(span)) > 0 && cut < span.Length)
        {
            name = name[..^cut];
            return true;
        }

        return false;
    }

    private static int SuffixLength(ReadOnlySpan<char> s)
    {
        // -2024-08-06
        if (s.Length > 11 && s[^11] == '-' && Digits(s[^10..^6]) && s[^6] == '-' && Digits(s[^5..^3]) && s[^3] == '-' && Digits(s[^2..]))
        {
            return 11;
        }

        // -v1:0, -v2, :0 (Bedrock versions)
        var colon = s.LastIndexOf(':');
        if (colon > 0 && Digits(s[(colon + 1)..]))
        {
            return s.Length - colon;
        }

        var dash = s.LastIndexOf('-');
        if (dash <= 0)
        {
            return 0;
        }

        var tail = s[(dash + 1)..];
        if (tail.Length >= 2 && (tail[0] == 'v' || tail[0] == 'V') && Digits(tail[1..]))
        {
            return tail.Length + 1;
        }

        // -20250929, -0613, -002, -2411; -05-20 and -09-2025 (preview dates) come off one part at a time.
        if (Digits(tail) && tail.Length is 2 or 3 or 4 or 6 or 8)
        {
            return tail.Length + 1;
        }

        return tail.Equals("latest", StringComparison.OrdinalIgnoreCase) ? tail.Length + 1 : 0;
    }

    private static bool Digits(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty)
        {
            return false;
        }

        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private readonly record struct Candidate(TokenUsagePriceEntry Entry, TokenUsagePriceMatchKind Kind);
}
