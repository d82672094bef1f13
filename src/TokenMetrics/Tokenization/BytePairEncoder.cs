using System.Buffers;
using System.Runtime.CompilerServices;

namespace TokenMetrics.Internal;

/// <summary>Splits valid UTF-8 into pieces and merges each piece into ranks exactly as tiktoken's <c>byte_pair_merge</c> does:
/// repeatedly merge the adjacent pair whose concatenated bytes have the lowest rank, the leftmost on ties.</summary>
internal sealed class BytePairEncoder
{
    // Up to this many bytes a piece is merged in stack arrays with a linear scan for the minimum (cache-friendly, as tiktoken);
    // longer pieces use a linked list and a binary heap, O(n log n), so a 100 KB run without spaces stays fast.
    private const int SmallPieceLimit = 128;

    // Pieces over 64 KB (one long word, base64, minified data, a run of emoji) use the linear algorithm: exact, O(n) time and,
    // when counting, O(1) memory. Internal so tests can force it onto short pieces.
    internal const int LinearPieceLimit = 1 << 16;

    private readonly RankTable _ranks;
    private readonly SplitPattern _pattern;
    private readonly PieceCache _cache = new();

    public BytePairEncoder(RankTable ranks, SplitPattern pattern)
    {
        _ranks = ranks;
        _pattern = pattern;
    }

    public RankTable Ranks => _ranks;

    public SplitPattern Pattern => _pattern;

    /// <summary>Counts the tokens of valid UTF-8, treating everything as ordinary text.</summary>
    public int Count(ReadOnlySpan<byte> s) => _pattern switch
    {
        SplitPattern.Cl100k => Count<Cl100kSplitter>(s),
        SplitPattern.O200k => Count<O200kSplitter>(s),
        _ => Count<Gpt2Splitter>(s),
    };

    /// <summary>Appends the ranks of valid UTF-8, treating everything as ordinary text.</summary>
    public void Encode(ReadOnlySpan<byte> s, ref TokenList output)
    {
        var i = 0;
        while (i < s.Length)
        {
            var end = PreTokenizer.Next(_pattern, s, i);
            EncodePiece(s, i, end - i, ref output);
            i = end;
        }
    }

    private int Count<TSplitter>(ReadOnlySpan<byte> s)
        where TSplitter : struct, ISplitter
    {
        var count = 0;
        var i = 0;
        var ranks = _ranks;
        while (i < s.Length)
        {
            var end = TSplitter.Next(s, i);
            var length = end - i;
            if (length == 1)
            {
                count++;
            }
            else if (length == 2 ? ranks.PairRank(s[i], s[i + 1]) != RankTable.NoRank : ranks.Lookup(s, i, length) != RankTable.NoRank)
            {
                count++;
            }
            else if (length is >= PieceCache.MinLength and <= PieceCache.MaxLength)
            {
                count += CachedMerge(s, i, length, ref Unsafe.NullRef<TokenList>());
            }
            else
            {
                count += MergeCount(s, i, length);
            }

            i = end;
        }

        return count;
    }

    /// <summary>The merge loop on all of <paramref name="s"/> as one piece, whatever its length (tests compare it with
    /// <see cref="LinearBpe"/>).</summary>
    internal void MergePiece(ReadOnlySpan<byte> s, ref TokenList output)
    {
        if (s.Length <= SmallPieceLimit)
        {
            MergeSmall(s, 0, s.Length, ref output);
        }
        else
        {
            MergeLarge(s, 0, s.Length, ref output);
        }
    }

    /// <summary>The number of tokens of one piece.</summary>
    internal int CountPiece(ReadOnlySpan<byte> s, int start, int length)
    {
        if (length == 1)
        {
            return 1;
        }

        var rank = length == 2 ? _ranks.PairRank(s[start], s[start + 1]) : _ranks.Lookup(s, start, length);
        return rank != RankTable.NoRank ? 1 : MergeCount(s, start, length);
    }

    private int MergeCount(ReadOnlySpan<byte> s, int start, int length) =>
        length <= SmallPieceLimit ? MergeSmall(s, start, length, ref Unsafe.NullRef<TokenList>())
        : length <= LinearPieceLimit ? MergeLarge(s, start, length, ref Unsafe.NullRef<TokenList>())
        : _ranks.Linear.Count(s, start, length);

    private void EncodePiece(ReadOnlySpan<byte> s, int start, int length, ref TokenList output)
    {
        if (length == 1)
        {
            output.Add(_ranks.ByteRank(s[start]));
            return;
        }

        var rank = _ranks.Lookup(s, start, length);
        if (rank != RankTable.NoRank)
        {
            output.Add(rank);
            return;
        }

        if (length <= PieceCache.MaxLength)
        {
            if (length >= PieceCache.MinLength)
            {
                CachedMerge(s, start, length, ref output);
            }
            else
            {
                MergeSmall(s, start, length, ref output);
            }
        }
        else if (length <= SmallPieceLimit)
        {
            MergeSmall(s, start, length, ref output);
        }
        else if (length <= LinearPieceLimit)
        {
            MergeLarge(s, start, length, ref output);
        }
        else
        {
            _ranks.Linear.Encode(s, start, length, ref output);
        }
    }

    /// <summary>The merge of a medium piece through <see cref="PieceCache"/>: recurring pieces (emoji sequences, a chat's
    /// words) skip the merge loop; returns the number of tokens and appends them unless <paramref name="output"/> is a null
    /// reference.</summary>
    private int CachedMerge(ReadOnlySpan<byte> s, int start, int length, ref TokenList output)
    {
        var piece = s.Slice(start, length);
        var cached = _cache.Get(piece, out var slot);
        if (cached is not null)
        {
            if (!Unsafe.IsNullRef(ref output))
            {
                foreach (var rank in cached)
                {
                    output.Add(rank);
                }
            }

            return cached.Length;
        }

        if (_cache.IsTaken(slot))
        {
            return MergeSmall(s, start, length, ref output);
        }

        var ranks = new TokenList(length);
        try
        {
            var n = MergeSmall(s, start, length, ref ranks);
            var merged = ranks.AsSpan();
            _cache.TryAdd(slot, piece, merged);
            if (!Unsafe.IsNullRef(ref output))
            {
                foreach (var rank in merged)
                {
                    output.Add(rank);
                }
            }

            return n;
        }
        finally
        {
            ranks.Dispose();
        }
    }

    /// <summary>tiktoken's merge loop over stack arrays; returns the number of tokens and, when <paramref name="output"/> is
    /// not a null reference, appends them.</summary>
    private int MergeSmall(ReadOnlySpan<byte> s, int start, int length, ref TokenList output)
    {
        var ranks = _ranks;
        Span<int> pos = stackalloc int[length + 1];
        Span<int> rank = stackalloc int[length + 1];
        for (var k = 0; k < length - 1; k++)
        {
            pos[k] = start + k;
            rank[k] = ranks.PairRank(s[start + k], s[start + k + 1]);
        }

        pos[length - 1] = start + length - 1;
        rank[length - 1] = RankTable.NoRank;
        pos[length] = start + length;
        rank[length] = RankTable.NoRank;
        var m = length + 1;

        while (true)
        {
            var min = RankTable.NoRank;
            var i = -1;
            for (var k = 0; k < m - 2; k++)
            {
                if (rank[k] < min)
                {
                    min = rank[k];
                    i = k;
                }
            }

            if (i < 0)
            {
                break;
            }

            rank[i] = i + 3 < m ? ranks.Lookup(s, pos[i], pos[i + 3] - pos[i]) : RankTable.NoRank;
            if (i > 0)
            {
                rank[i - 1] = ranks.Lookup(s, pos[i - 1], pos[i + 2] - pos[i - 1]);
            }

            pos.Slice(i + 2, m - i - 2).CopyTo(pos[(i + 1)..]);
            rank.Slice(i + 2, m - i - 2).CopyTo(rank[(i + 1)..]);
            m--;
        }

        if (!Unsafe.IsNullRef(ref output))
        {
            for (var k = 0; k < m - 1; k++)
            {
                output.Add(ranks.Lookup(s, pos[k], pos[k + 1] - pos[k]));
            }
        }

        return m - 1;
    }

    /// <summary>The same merge order as <see cref="MergeSmall"/> with a linked list of parts and a min-heap of
    /// (rank, position) keys; stale heap entries are skipped when popped.</summary>
    private int MergeLarge(ReadOnlySpan<byte> s, int start, int length, ref TokenList output)
    {
        const int Dead = -1;
        var ranks = _ranks;
        var nextArray = ArrayPool<int>.Shared.Rent(length + 1);
        var prevArray = ArrayPool<int>.Shared.Rent(length + 1);
        var rankArray = ArrayPool<int>.Shared.Rent(length + 1);
        // Each merge pops one entry and pushes at most two, so the heap never holds more than 2 * length entries.
        var heapArray = ArrayPool<ulong>.Shared.Rent((2 * length) + 2);
        try
        {
            var next = nextArray.AsSpan(0, length + 1);
            var prev = prevArray.AsSpan(0, length + 1);
            var rank = rankArray.AsSpan(0, length + 1);
            var heap = new MinHeap(heapArray.AsSpan(0, (2 * length) + 2));
            for (var k = 0; k < length; k++)
            {
                next[k] = k + 1;
                prev[k] = k - 1;
                rank[k] = k + 1 < length ? ranks.PairRank(s[start + k], s[start + k + 1]) : RankTable.NoRank;
                if (rank[k] != RankTable.NoRank)
                {
                    heap.Push(((ulong)(uint)rank[k] << 32) | (uint)k);
                }
            }

            prev[length] = length - 1;
            var parts = length;
            while (heap.Count > 0)
            {
                var top = heap.Pop();
                var p = (int)(uint)top;
                var r = (int)(top >> 32);
                if (rank[p] != r)
                {
                    continue; // merged away, or its pair changed since this entry was pushed
                }

                var q = next[p];
                var after = next[q];
                next[p] = after;
                prev[after] = p;
                rank[q] = Dead;
                parts--;

                rank[p] = after < length ? ranks.Lookup(s, start + p, next[after] - p) : RankTable.NoRank;
                if (rank[p] != RankTable.NoRank)
                {
                    heap.Push(((ulong)(uint)rank[p] << 32) | (uint)p);
                }

                if (p > 0)
                {
                    var pp = prev[p];
                    rank[pp] = ranks.Lookup(s, start + pp, after - pp);
                    if (rank[pp] != RankTable.NoRank)
                    {
                        heap.Push(((ulong)(uint)rank[pp] << 32) | (uint)pp);
                    }
                }
            }

            if (!Unsafe.IsNullRef(ref output))
            {
                for (var p = 0; p < length; p = next[p])
                {
                    output.Add(ranks.Lookup(s, start + p, next[p] - p));
                }
            }

            return parts;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(nextArray);
            ArrayPool<int>.Shared.Return(prevArray);
            ArrayPool<int>.Shared.Return(rankArray);
            ArrayPool<ulong>.Shared.Return(heapArray);
        }
    }

    private interface ISplitter
    {
        static abstract int Next(ReadOnlySpan<byte> s, int i);
    }

    private readonly struct Cl100kSplitter : ISplitter
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Next(ReadOnlySpan<byte> s, int i) => PreTokenizer.NextCl100k(s, i);
    }

    private readonly struct O200kSplitter : ISplitter
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Next(ReadOnlySpan<byte> s, int i) => PreTokenizer.NextO200k(s, i);
    }

    private readonly struct Gpt2Splitter : ISplitter
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Next(ReadOnlySpan<byte> s, int i) => PreTokenizer.NextGpt2(s, i);
    }

    /// <summary>A binary min-heap over a caller-provided span.</summary>
    private ref struct MinHeap
    {
        private readonly Span<ulong> _items;

        public MinHeap(Span<ulong> items)
        {
            _items = items;
            Count = 0;
        }

        public int Count { get; private set; }

        public void Push(ulong item)
        {
            var i = Count++;
            while (i > 0)
            {
                var parent = (i - 1) >> 1;
                if (_items[parent] <= item)
                {
                    break;
                }

                _items[i] = _items[parent];
                i = parent;
            }

            _items[i] = item;
        }

        public ulong Pop()
        {
            var top = _items[0];
            var last = _items[--Count];
            var i = 0;
            while (true)
            {
                var child = (2 * i) + 1;
                if (child >= Count)
                {
                    break;
                }

                if (child + 1 < Count && _items[child + 1] < _items[child])
                {
                    child++;
                }

                if (last <= _items[child])
                {
                    break;
                }

                _items[i] = _items[child];
                i = child;
            }

            _items[i] = last;
            return top;
        }
    }
}
