using System.Buffers;

namespace TokenMetrics.Internal;

/// <summary>A growable list of ranks over pooled arrays.</summary>
internal struct TokenList : IDisposable
{
    private int[] _items;

    public TokenList(int capacity)
    {
        _items = ArrayPool<int>.Shared.Rent(Math.Max(capacity, 16));
        Count = 0;
    }

    public int Count { get; private set; }

    public void Add(int item)
    {
        if (Count == _items.Length)
        {
            var larger = ArrayPool<int>.Shared.Rent(_items.Length * 2);
            _items.AsSpan(0, Count).CopyTo(larger);
            ArrayPool<int>.Shared.Return(_items);
            _items = larger;
        }

        _items[Count++] = item;
    }

    public readonly ReadOnlySpan<int> AsSpan() => _items.AsSpan(0, Count);

    public readonly int[] ToArray() => _items.AsSpan(0, Count).ToArray();

    public void Dispose()
    {
        if (_items is not null)
        {
            ArrayPool<int>.Shared.Return(_items);
            _items = null!;
        }
    }
}
