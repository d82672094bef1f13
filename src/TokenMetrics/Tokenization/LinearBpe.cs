using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace TokenMetrics.Internal;

/// <summary>Exact tiktoken BPE of one piece in linear time, after GitHub's <c>bpe</c> crate (rust-gems, crates/bpe,
/// <c>encode_all_prefixes</c> / <c>AppendableEncoder</c>): the encoding of every prefix is fixed by its last token, and a
/// token ending at position <c>p</c> is that last token exactly when it is "compatible" with the last token of the prefix
/// before it (the two tokens re-encode to themselves). Counting needs only the last <see cref="Window"/> positions, so a
/// piece of any length is counted in bounded memory.</summary>
/// <remarks>The crate enumerates the tokens ending at a position with an Aho-Corasick automaton; here the candidate
/// lengths come from a 64K-slot table of length masks keyed by the last 4 bytes (a superset; each is confirmed by a rank
/// lookup), and lengths 1-3 are looked up directly. Built lazily, on the first piece long enough to need it.</remarks>
internal sealed class LinearBpe
{
    /// <summary>Positions remembered per piece: more than the longest token (128 bytes in every OpenAI vocabulary).</summary>
    public const int Window = 256;

    private const int MaskBits = 16;
    private const int CacheBits = 16;

    private readonly RankTable _ranks;
    private readonly int[] _lengths;
    private readonly int[] _splitLeft;
    private readonly int[] _splitRight;
    private readonly PairTable _pairs;

    // Results of IsCompatible, direct-mapped by a hash of the pair: a run of one repeated pattern asks about the same few
    // pairs at every byte. One ulong per slot (the key with the answer in bit 31, which no rank uses), so concurrent
    // readers and writers need no lock: a slot holds either a whole entry or another whole entry.
    private readonly ulong[] _compatible = new ulong[1 << CacheBits];

    // For tokens of >= 4 bytes: bit (length - 1) of lengths 1-64 in _masksLow, of 65-128 in _masksHigh, per hash of the last 4 bytes.
    private readonly ulong[] _masksLow = new ulong[1 << MaskBits];
    private readonly ulong[] _masksHigh = new ulong[1 << MaskBits];

    public LinearBpe(RankTable ranks)
    {
        _ranks = ranks;
        var n = ranks.Count;
        _lengths = new int[n];
        _splitLeft = new int[n];
        _splitRight = new int[n];
        _pairs = new PairTable(n);
        _compatible.AsSpan().Fill(ulong.MaxValue);
        for (var id = 0; id < n; id++)
        {
            var token = ranks.GetBytes(id);
            _lengths[id] = token.Length;
            if (token.Length > 128)
            {
                throw new InvalidOperationException("Token longer than 128 bytes.");
            }

            if (token.Length >= 4)
            {
                var slot = Slot(BinaryPrimitives.ReadUInt32LittleEndian(token[^4..]));
                if (token.Length <= 64)
                {
                    _masksLow[slot] |= 1UL << (token.Length - 1);
                }
                else
                {
                    _masksHigh[slot] |= 1UL << (token.Length - 65);
                }
            }

            // Reverse-engineer the merge that made this token (as the crate does): the longest prefix token whose rest is a
            // token, both older, that form a compatible pair. Base tokens split into themselves.
            _splitLeft[id] = id;
            _splitRight[id] = id;
            for (var l = token.Length - 1; l >= 1; l--)
            {
                var left = ranks.Lookup(token, 0, l);
                if (left >= id)
                {
                    continue;
                }

                var right = ranks.Lookup(token, l, token.Length - l);
                if (right < id && IsCompatibleUncached(left, right))
                {
                    _pairs.Add(Key(left, right), id);
                    _splitLeft[id] = left;
                    _splitRight[id] = right;
                    break;
                }
            }
        }
    }

    /// <summary>Counts the tokens of <c>s[start..start+length]</c>, one pre-tokenizer piece, in O(length) time and O(1) memory.</summary>
    public int Count(ReadOnlySpan<byte> s, int start, int length)
    {
        var state = new Appender(this);
        for (var p = 1; p <= length; p++)
        {
            state.Push(s, start + p);
        }

        return (int)state.CountAt(length);
    }

    /// <summary>Appends the ranks of one piece; O(length) time, one int per byte of scratch.</summary>
    public void Encode(ReadOnlySpan<byte> s, int start, int length, ref TokenList output)
    {
        var last = ArrayPool<int>.Shared.Rent(length + 1);
        try
        {
            var state = new Appender(this);
            for (var p = 1; p <= length; p++)
            {
                last[p] = state.Push(s, start + p);
            }

            var count = (int)state.CountAt(length);
            var ids = ArrayPool<int>.Shared.Rent(count);
            try
            {
                var k = count;
                for (var p = length; p > 0; p -= _lengths[ids[k]])
                {
                    ids[--k] = last[p];
                }

                for (var i = 0; i < count; i++)
                {
                    output.Add(ids[i]);
                }
            }
            finally
            {
                ArrayPool<int>.Shared.Return(ids);
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(last);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Slot(uint last4) => (int)((last4 * 0x9E3779B1u) >> (32 - MaskBits));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Key(int left, int right) => ((ulong)(uint)left << 32) | (uint)right;

    /// <summary>Whether BPE over the bytes of the two tokens yields exactly these two tokens (the crate's
    /// <c>is_valid_token_pair</c>): unmerge both along their merge trees and check that no merge across the boundary would
    /// have happened before the merges that made them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IsCompatible(int token1, int token2)
    {
        var key = Key(token1, token2);
        ref var slot = ref _compatible[(int)((key * 0x9E3779B97F4A7C15) >> (64 - CacheBits))];
        var entry = slot;
        if ((entry & ~(1UL << 31)) == key)
        {
            return (entry & (1UL << 31)) != 0;
        }

        var compatible = IsCompatibleUncached(token1, token2);
        slot = compatible ? key | (1UL << 31) : key;
        return compatible;
    }

    private bool IsCompatibleUncached(int token1, int token2)
    {
        var limit = int.MaxValue;
        while (true)
        {
            if (_pairs.Get(Key(token1, token2)) < limit)
            {
                return false;
            }

            if (token1 > token2)
            {
                limit = token1;
                token1 = _splitRight[token1];
                if (token1 == limit)
                {
                    limit = token2 + 1;
                    token2 = _splitLeft[token2];
                    if (token2 + 1 == limit)
                    {
                        return true;
                    }
                }
            }
            else
            {
                limit = token2 + 1;
                token2 = _splitLeft[token2];
                if (token2 + 1 == limit)
                {
                    limit = token1;
                    token1 = _splitRight[token1];
                    if (token1 == limit)
                    {
                        return true;
                    }
                }
            }
        }
    }

    /// <summary>The last token and the token count of the latest <see cref="Window"/> prefixes of a piece being appended
    /// to; the caller keeps the piece's last 128 bytes readable in the span it passes.</summary>
    public sealed class Appender
    {
        private readonly LinearBpe _bpe;
        private readonly int[] _last;
        private readonly long[] _counts;

        public Appender(LinearBpe bpe)
        {
            _bpe = bpe;
            _last = new int[Window];
            _counts = new long[Window];
            Length = 0;
        }

        /// <summary>Gets the number of bytes appended so far.</summary>
        public long Length { get; private set; }

        /// <summary>Gets the token count of all bytes appended so far.</summary>
        public long Count => CountAt(Length);

        /// <summary>Starts a new piece.</summary>
        public void Reset() => Length = 0;

        /// <summary>The token count of the prefix of <paramref name="length"/> bytes (one of the latest <see cref="Window"/>).</summary>
        public long CountAt(long length) => length == 0 ? 0 : _counts[(int)(length & (Window - 1))];

        /// <summary>Appends the byte <c>s[end - 1]</c>; <c>s[end - 128..end]</c> must hold the piece's latest bytes (fewer at
        /// its start). Returns the last token of the new prefix.</summary>
        public int Push(ReadOnlySpan<byte> s, int end)
        {
            var p = ++Length;
            var bpe = _bpe;
            var ranks = bpe._ranks;
            var max = (int)Math.Min(p, 128);

            // Exactly one token ending here is compatible with the last token before it (two would make two BPE encodings of
            // the prefix), so candidates may be tried in any order. Try first the previous last token grown by one byte: in a
            // run of one repeated pattern (spaces, "aaaa", emoji) that is nearly always it, and it skips up to 127 lookups.
            if (p > 1)
            {
                var grown = bpe._lengths[_last[(int)((p - 1) & (Window - 1))]] + 1;
                if (grown <= max && TryAccept(s, end, grown, p, ranks, out var guess))
                {
                    return guess;
                }
            }

            if (max >= 4)
            {
                var slot = Slot(BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(end - 4, 4)));
                var high = bpe._masksHigh[slot];
                if (max < 128)
                {
                    high &= max > 64 ? (1UL << (max - 64)) - 1 : 0;
                }

                while (high != 0)
                {
                    var bit = 63 - BitOperations.LeadingZeroCount(high);
                    high &= ~(1UL << bit);
                    if (TryAccept(s, end, bit + 65, p, ranks, out var token))
                    {
                        return token;
                    }
                }

                var low = bpe._masksLow[slot];
                if (max < 64)
                {
                    low &= (1UL << max) - 1;
                }

                low &= ~7UL;
                while (low != 0)
                {
                    var bit = 63 - BitOperations.LeadingZeroCount(low);
                    low &= ~(1UL << bit);
                    if (TryAccept(s, end, bit + 1, p, ranks, out var token))
                    {
                        return token;
                    }
                }
            }

            for (var length = Math.Min(max, 3); length >= 1; length--)
            {
                if (TryAccept(s, end, length, p, ranks, out var token))
                {
                    return token;
                }
            }

            throw new InvalidOperationException("Unreachable: every byte is a token.");
        }

        private bool TryAccept(ReadOnlySpan<byte> s, int end, int length, long p, RankTable ranks, out int token)
        {
            token = length switch
            {
                1 => ranks.ByteRank(s[end - 1]),
                2 => ranks.PairRank(s[end - 2], s[end - 1]),
                _ => ranks.Lookup(s, end - length, length),
            };
            if (token == RankTable.NoRank)
            {
                return false;
            }

            long count;
            if (length == p)
            {
                count = 1;
            }
            else
            {
                var before = (int)((p - length) & (Window - 1));
                if (!_bpe.IsCompatible(_last[before], token))
                {
                    return false;
                }

                count = _counts[before] + 1;
            }

            var at = (int)(p & (Window - 1));
            _last[at] = token;
            _counts[at] = count;
            return true;
        }
    }

    /// <summary>Pair of ranks to the rank of their merge: open addressing with a multiplicative hash (a
    /// <c>Dictionary&lt;ulong, int&gt;</c> hashes a ulong as <c>high ^ low</c>, which puts the pairs of a vocabulary into long
    /// collision chains).</summary>
    private sealed class PairTable
    {
        private const ulong Empty = ulong.MaxValue;
        private readonly ulong[] _keys;
        private readonly int[] _values;
        private readonly int _shift;
        private readonly int _mask;

        public PairTable(int capacity)
        {
            var size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity * 2, 16));
            _keys = new ulong[size];
            _values = new int[size];
            _keys.AsSpan().Fill(Empty);
            _mask = size - 1;
            _shift = 64 - BitOperations.Log2((uint)size);
        }

        public void Add(ulong key, int value)
        {
            var i = Index(key);
            while (_keys[i] != Empty && _keys[i] != key)
            {
                i = (i + 1) & _mask;
            }

            _keys[i] = key;
            _values[i] = value;
        }

        /// <summary>The merged rank, or <see cref="int.MaxValue"/> when the pair never merges.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Get(ulong key)
        {
            var i = Index(key);
            while (true)
            {
                var k = _keys[i];
                if (k == key)
                {
                    return _values[i];
                }

                if (k == Empty)
                {
                    return int.MaxValue;
                }

                i = (i + 1) & _mask;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private int Index(ulong key) => (int)((key * 0x9E3779B97F4A7C15) >> _shift);
    }
}
