using System.Collections;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;

namespace TokenMetrics;

/// <summary>A small, ordered name → count map for a vendor's usage details (a handful of entries: a flat array beats a hash table).</summary>
/// <remarks>Mutable only while a reader builds it; treat it as read-only once it is on a <see cref="TokenUsage"/>.</remarks>
internal sealed class TokenCountDictionary : IReadOnlyDictionary<string, long>
{
    // The first entries live inline (a vendor reports two to six details): one object per dictionary instead of two.
    private Inline _inline;
    private KeyValuePair<string, long>[]? _more;
    private int _count;

    /// <inheritdoc/>
    public int Count => _count;

    /// <inheritdoc/>
    public IEnumerable<string> Keys
    {
        get
        {
            for (var i = 0; i < _count; i++)
            {
                yield return Entry(i).Key;
            }
        }
    }

    /// <inheritdoc/>
    public IEnumerable<long> Values
    {
        get
        {
            for (var i = 0; i < _count; i++)
            {
                yield return Entry(i).Value;
            }
        }
    }

    /// <inheritdoc/>
    public long this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException(key);

    // Frozen maps handed out by Share, by a hash of their content: most calls report the same details (all zero, or the same
    // cached count), so records share one read-only instance instead of one map each. Bounded; a collision only costs a copy.
    private static readonly TokenCountDictionary?[] s_shared = new TokenCountDictionary?[64];

    /// <summary>Returns a read-only map with the same entries as <paramref name="scratch"/> (shared with earlier calls when one
    /// is cached, else a copy that is cached), or <see langword="null"/> when it is empty; <paramref name="scratch"/> is then
    /// cleared for reuse. The result must never be changed.</summary>
    /// <param name="scratch">A map a reader filled; it stays the reader's.</param>
    /// <returns>The shared map.</returns>
    public static TokenCountDictionary? Share(TokenCountDictionary scratch)
    {
        ArgumentNullException.ThrowIfNull(scratch);
        if (scratch._count == 0)
        {
            return null;
        }

        var hash = 17;
        for (var i = 0; i < scratch._count; i++)
        {
            ref var entry = ref scratch.Entry(i);
            hash = unchecked((hash * 31) + entry.Key.Length + (entry.Key[^1] << 8) + (int)entry.Value + (int)(entry.Value >> 32));
        }

        ref var slot = ref s_shared[hash & (s_shared.Length - 1)];
        var cached = System.Threading.Volatile.Read(ref slot);
        if (cached is null || !cached.SameEntries(scratch))
        {
            cached = new TokenCountDictionary();
            for (var i = 0; i < scratch._count; i++)
            {
                ref var entry = ref scratch.Entry(i);
                cached.Set(entry.Key, entry.Value);
            }

            System.Threading.Volatile.Write(ref slot, cached);
        }

        scratch.Clear();
        return cached;
    }

    /// <summary>Removes every entry (a reader's scratch map, between uses).</summary>
    public void Clear()
    {
        for (var i = 0; i < _count; i++)
        {
            Entry(i) = default;
        }

        _count = 0;
    }

    /// <summary>Sets a count, replacing an existing one with the same name (ordinal).</summary>
    /// <param name="key">The name.</param>
    /// <param name="value">The count.</param>
    public void Set(string key, long value)
    {
        ArgumentNullException.ThrowIfNull(key);
        for (var i = 0; i < _count; i++)
        {
            if (string.Equals(Entry(i).Key, key, StringComparison.Ordinal))
            {
                Entry(i) = new(key, value);
                return;
            }
        }

        if (_count >= Inline.Length && (_more is null || _count - Inline.Length == _more.Length))
        {
            Array.Resize(ref _more, Math.Max(4, (_more?.Length ?? 0) * 2));
        }

        Entry(_count++) = new(key, value);
    }

    /// <summary>Gets the entry at <paramref name="index"/> (in the order the entries were first set).</summary>
    /// <param name="index">From 0 to <see cref="Count"/> - 1.</param>
    /// <returns>The entry.</returns>
    public KeyValuePair<string, long> ItemAt(int index) => (uint)index < (uint)_count ? Entry(index) : throw new ArgumentOutOfRangeException(nameof(index));

    /// <inheritdoc/>
    public bool ContainsKey(string key) => TryGetValue(key, out _);

    /// <inheritdoc/>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out long value)
    {
        for (var i = 0; i < _count; i++)
        {
            if (string.Equals(Entry(i).Key, key, StringComparison.Ordinal))
            {
                value = Entry(i).Value;
                return true;
            }
        }

        value = 0;
        return false;
    }

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, long>> GetEnumerator()
    {
        for (var i = 0; i < _count; i++)
        {
            yield return Entry(i);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private bool SameEntries(TokenCountDictionary other)
    {
        if (_count != other._count)
        {
            return false;
        }

        for (var i = 0; i < _count; i++)
        {
            ref var mine = ref Entry(i);
            ref var theirs = ref other.Entry(i);
            if (mine.Value != theirs.Value || !string.Equals(mine.Key, theirs.Key, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private ref KeyValuePair<string, long> Entry(int index) => ref index < Inline.Length ? ref _inline[index] : ref _more![index - Inline.Length];

    [System.Runtime.CompilerServices.InlineArray(Length)]
    private struct Inline
    {
        public const int Length = 4;

        private KeyValuePair<string, long> _first;
    }
}
