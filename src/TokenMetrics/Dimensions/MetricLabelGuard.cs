using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;

namespace TokenMetrics;

/// <summary>Bounds the values one metric label can take: an allow-list, or the first <c>N</c> distinct values, everything else
/// labelled <see cref="Other"/>. Optionally maps each value first (HMAC of a user id).</summary>
/// <remarks>Thread-safe. Memory is bounded by <c>N</c> entries; a known value costs one dictionary lookup and allocates
/// nothing. "First N seen" rather than a true top-N by volume: exact top-N needs per-value counts for every value ever seen,
/// which is the unbounded memory this guard exists to avoid.</remarks>
internal sealed class MetricLabelGuard
{
    /// <summary>The label for values beyond the guard.</summary>
    public const string Other = "other";

    /// <summary>The label for a missing value.</summary>
    public const string None = "none";

    private readonly FrozenDictionary<string, string>? _allowed;
    private readonly ConcurrentDictionary<string, string>? _seen;
    private readonly Func<string, string>? _map;
    private readonly int _max;
    private readonly object _addGate = new();
    private int _count;

    public MetricLabelGuard(IEnumerable<string>? allowed, int maxValues, Func<string, string>? map)
    {
        _map = map;
        _max = maxValues;
        var list = allowed?.Where(v => v is not null).Distinct(StringComparer.Ordinal).ToList();
        if (list is { Count: > 0 })
        {
            _allowed = list.ToFrozenDictionary(v => v, v => map is null ? v : map(v), StringComparer.Ordinal);
        }
        else
        {
            _seen = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        }
    }

    /// <summary>Returns the label for <paramref name="value"/>.</summary>
    /// <param name="value">The raw value.</param>
    /// <returns>The value (mapped), <see cref="Other"/> or <see cref="None"/>.</returns>
    public string Label(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return None;
        }

        if (_allowed is not null)
        {
            return _allowed.TryGetValue(value, out var allowedLabel) ? allowedLabel : Other;
        }

        if (_seen!.TryGetValue(value, out var label))
        {
            return label;
        }

        if (Volatile.Read(ref _count) >= _max)
        {
            return Other;
        }

        lock (_addGate)
        {
            if (_seen.TryGetValue(value, out label))
            {
                return label;
            }

            if (_count >= _max)
            {
                return Other;
            }

            label = _map is null ? value : _map(value);
            _seen[value] = label;
            Volatile.Write(ref _count, _count + 1);
            return label;
        }
    }
}

/// <summary>Pseudonymises user ids with HMAC-SHA256 under a secret key: the same id always gives the same label, and the id
/// cannot be recovered or tested without the key. The key is held as bytes only, never as text, never logged.</summary>
internal sealed class UserIdHasher(byte[] key, int hexLength)
{
    public string Hash(string value)
    {
        Span<byte> mac = stackalloc byte[32];
        var byteCount = Encoding.UTF8.GetByteCount(value);
        byte[]? rented = null;
        var input = byteCount <= 256 ? stackalloc byte[byteCount] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(byteCount)).AsSpan(0, byteCount);
        try
        {
            Encoding.UTF8.GetBytes(value, input);
            HMACSHA256.HashData(key, input, mac);
            return Convert.ToHexStringLower(mac[..(hexLength / 2)]);
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
