using System.Collections;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;

namespace TokenMetrics;

/// <summary>A small, ordered name → count map for a vendor's usage details (a handful of entries: a flat array beats a hash table).</summary>
/// <remarks>Mutable only while a reader builds it; treat it as read-only once it is on a <see cref="TokenUsage"/>.</remarks>
internal sealed class TokenCountDictionary : IReadOnlyDictionary<string, long>
{
    private KeyValuePair<string, long>[] _items = new KeyValuePair<string, long>[4];
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
                yield return _items[i].Key;
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
                yield return _items[i].Value;
            }
        }
    }

    /// <inheritdoc/>
    public long this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException(key);

    /// <summary>Sets a count, replacing an existing one with the same name (ordinal).</summary>
    /// <param name="key">The name.</param>
    /// <param name="value">The count.</param>
    public void Set(string key, long value)
    {
        ArgumentNullException.ThrowIfNull(key);
        for (var i = 0; i < _count; i++)
        {
            if (string.Equals(_items[i].Key, key, StringComparison.Ordinal))
            {
                _items[i] = new(key, value);
                return;
            }
        }

        if (_count == _items.Length)
        {
            Array.Resize(ref _items, _count * 2);
        }

        _items[_count++] = new(key, value);
    }

    /// <summary>Gets the entry at <paramref name="index"/> (in the order the entries were first set).</summary>
    /// <param name="index">From 0 to <see cref="Count"/> - 1.</param>
    /// <returns>The entry.</returns>
    public KeyValuePair<string, long> ItemAt(int index) => _items.AsSpan(0, _count)[index];

    /// <inheritdoc/>
    public bool ContainsKey(string key) => TryGetValue(key, out _);

    /// <inheritdoc/>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out long value)
    {
        for (var i = 0; i < _count; i++)
        {
            if (string.Equals(_items[i].Key, key, StringComparison.Ordinal))
            {
                value = _items[i].Value;
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
            yield return _items[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
