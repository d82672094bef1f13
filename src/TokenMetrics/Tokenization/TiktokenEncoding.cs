using System.Buffers;
using System.Collections.Frozen;
using System.Collections.Generic;
using System.Linq;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using System.Text;
using System.Text.Unicode;
using System.Threading;
using System.Threading.Tasks;
using TokenMetrics.Internal;

namespace TokenMetrics;

/// <summary>An OpenAI tiktoken encoding (<c>cl100k_base</c>, <c>o200k_base</c>, <c>p50k_base</c>, <c>r50k_base</c>, ...) that gives
/// token ids identical to OpenAI's tiktoken, including text with letters and digits outside the Basic Multilingual Plane.</summary>
/// <remarks>
/// <para>Instances are shared and thread-safe. Rank data is embedded in the assembly and loaded once, on first use of an encoding.</para>
/// <para>Text that looks like a special token (<c>&lt;|endoftext|&gt;</c>) is ordinary text unless a method is asked to allow special
/// tokens. <see cref="CountTokens(ReadOnlySpan{byte})"/> and its overloads allocate nothing in steady state.</para>
/// </remarks>
public sealed class TiktokenEncoding
{
    private const int StackLimit = 512;

    private static readonly Lazy<RankTable> Cl100kRanks = new(() => RankTable.Load("TokenMetrics.Tokenization.Data.cl100k_base.ranks.deflate"));
    private static readonly Lazy<RankTable> O200kRanks = new(() => RankTable.Load("TokenMetrics.Tokenization.Data.o200k_base.ranks.deflate"));
    private static readonly Lazy<RankTable> P50kRanks = new(() => RankTable.Load("TokenMetrics.Tokenization.Data.p50k_base.ranks.deflate"));
    private static readonly Lazy<RankTable> R50kRanks = new(() => RankTable.Load("TokenMetrics.Tokenization.Data.r50k_base.ranks.deflate"));

    private static readonly FrozenDictionary<string, Lazy<TiktokenEncoding>> Encodings = new Dictionary<string, Lazy<TiktokenEncoding>>(StringComparer.OrdinalIgnoreCase)
    {
        [Cl100kBaseName] = new(() => new(Cl100kBaseName, Cl100kRanks.Value, SplitPattern.Cl100k, 100277, new Dictionary<string, int>
        {
            ["<|endoftext|>"] = 100257,
            ["<|fim_prefix|>"] = 100258,
            ["<|fim_middle|>"] = 100259,
            ["<|fim_suffix|>"] = 100260,
            ["<|endofprompt|>"] = 100276,
        })),
        [O200kBaseName] = new(() => new(O200kBaseName, O200kRanks.Value, SplitPattern.O200k, 200019, new Dictionary<string, int>
        {
            ["<|endoftext|>"] = 199999,
            ["<|endofprompt|>"] = 200018,
        })),
        [O200kHarmonyName] = new(() => new(O200kHarmonyName, O200kRanks.Value, SplitPattern.O200k, 201088, HarmonySpecialTokens())),
        [P50kBaseName] = new(() => new(P50kBaseName, P50kRanks.Value, SplitPattern.Gpt2, 50281, new Dictionary<string, int> { ["<|endoftext|>"] = 50256 })),
        ["p50k_edit"] = new(() => new("p50k_edit", P50kRanks.Value, SplitPattern.Gpt2, 50284, new Dictionary<string, int>
        {
            ["<|endoftext|>"] = 50256,
            ["<|fim_prefix|>"] = 50281,
            ["<|fim_middle|>"] = 50282,
            ["<|fim_suffix|>"] = 50283,
        })),
        [R50kBaseName] = new(() => new(R50kBaseName, R50kRanks.Value, SplitPattern.Gpt2, 50257, new Dictionary<string, int> { ["<|endoftext|>"] = 50256 })),

        // tiktoken's "gpt2" has the same ranks, pattern and special token as r50k_base.
        ["gpt2"] = new(() => new("gpt2", R50kRanks.Value, SplitPattern.Gpt2, 50257, new Dictionary<string, int> { ["<|endoftext|>"] = 50256 })),
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private readonly BytePairEncoder _encoder;
    private readonly FrozenDictionary<int, byte[]> _specialBytesById;
    private readonly (byte[] Bytes, int Id)[] _specials;

    private TiktokenEncoding(string name, RankTable ranks, SplitPattern pattern, int vocabularySize, Dictionary<string, int> specialTokens)
    {
        Name = name;
        VocabularySize = vocabularySize;
        _encoder = new BytePairEncoder(ranks, pattern);
        SpecialTokens = specialTokens.ToFrozenDictionary(StringComparer.Ordinal);
        _specials = [.. specialTokens.Select(p => (Encoding.UTF8.GetBytes(p.Key), p.Value)).OrderByDescending(p => p.Item1.Length)];
        _specialBytesById = _specials.GroupBy(p => p.Id).ToFrozenDictionary(g => g.Key, g => g.First().Bytes);
    }

    /// <summary>The name of the encoding of GPT-4, GPT-3.5 and the text-embedding-3 and ada-002 embedding models.</summary>
    public const string Cl100kBaseName = "cl100k_base";

    /// <summary>The name of the encoding of GPT-4o, GPT-4.1, GPT-5 and the o-series.</summary>
    public const string O200kBaseName = "o200k_base";

    /// <summary>The name of the encoding of gpt-oss (o200k_base ranks plus the harmony chat-format special tokens).</summary>
    public const string O200kHarmonyName = "o200k_harmony";

    /// <summary>The name of the encoding of text-davinci-002/003 and the Codex models.</summary>
    public const string P50kBaseName = "p50k_base";

    /// <summary>The name of the encoding of GPT-3 (davinci, curie, babbage, ada).</summary>
    public const string R50kBaseName = "r50k_base";

    /// <summary>Gets <c>cl100k_base</c>.</summary>
    public static TiktokenEncoding Cl100kBase => GetEncoding(Cl100kBaseName);

    /// <summary>Gets <c>o200k_base</c>.</summary>
    public static TiktokenEncoding O200kBase => GetEncoding(O200kBaseName);

    /// <summary>Gets the names of the supported encodings.</summary>
    public static IReadOnlyList<string> EncodingNames { get; } = [Cl100kBaseName, O200kBaseName, O200kHarmonyName, P50kBaseName, "p50k_edit", R50kBaseName, "gpt2"];

    /// <summary>Gets the encoding's name, for example <c>o200k_base</c>.</summary>
    public string Name { get; }

    /// <summary>Gets the number of token ids, special tokens included (tiktoken's <c>n_vocab</c>).</summary>
    public int VocabularySize { get; }

    /// <summary>Gets the special tokens and their ids.</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }

    /// <summary>Gets an encoding by name (case-insensitive).</summary>
    /// <param name="name">One of <see cref="EncodingNames"/>.</param>
    /// <returns>The shared instance.</returns>
    /// <exception cref="ArgumentException">The name is unknown.</exception>
    public static TiktokenEncoding GetEncoding(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TryGetEncoding(name, out var encoding)
            ? encoding
            : throw new ArgumentException($"Unknown encoding '{name}'. Known encodings: {string.Join(", ", EncodingNames)}.", nameof(name));
    }

    /// <summary>Gets an encoding by name (case-insensitive).</summary>
    /// <param name="name">The name.</param>
    /// <param name="encoding">The shared instance, when found.</param>
    /// <returns><see langword="true"/> when the name is known.</returns>
    public static bool TryGetEncoding(string? name, [NotNullWhen(true)] out TiktokenEncoding? encoding)
    {
        if (name is not null && Encodings.TryGetValue(name.Trim(), out var lazy))
        {
            encoding = lazy.Value;
            return true;
        }

        encoding = null;
        return false;
    }

    /// <summary>Gets the encoding for a model. OpenAI models map to their own encoding (see <see cref="TiktokenModels"/>); any
    /// other model, or none, gets <c>o200k_base</c>, whose count is then only an approximation.</summary>
    /// <param name="model">The model name, for example <c>gpt-4o-2024-08-06</c> or <c>ft:gpt-4.1-mini:org::id</c>.</param>
    /// <returns>The shared instance.</returns>
    public static TiktokenEncoding ForModel(string? model) => GetEncoding(TiktokenModels.GetEncodingName(model, out _));

    /// <summary>Counts tokens, treating special-token text as ordinary text. Allocates nothing in steady state.</summary>
    /// <param name="text">The text. Lone surrogates count as U+FFFD, as in tiktoken.</param>
    /// <returns>The number of tokens.</returns>
    public int CountTokens(ReadOnlySpan<char> text) => CountTokens(text, allowSpecialTokens: false);

    /// <summary>Counts tokens.</summary>
    /// <param name="text">The text.</param>
    /// <param name="allowSpecialTokens"><see langword="true"/> to count special-token text such as <c>&lt;|endoftext|&gt;</c> as its single special token.</param>
    /// <returns>The number of tokens.</returns>
    public int CountTokens(ReadOnlySpan<char> text, bool allowSpecialTokens)
    {
        if (text.IsEmpty)
        {
            return 0;
        }

        byte[]? rented = null;
        var bytes = text.Length <= StackLimit
            ? stackalloc byte[text.Length * 3]
            : (rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetByteCount(text)));
        try
        {
            var length = Encoding.UTF8.GetBytes(text, bytes);
            return CountValidUtf8(bytes[..length], allowSpecialTokens);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Counts the tokens of UTF-8 text, treating special-token text as ordinary text. Allocates nothing in steady state.</summary>
    /// <param name="utf8Text">The UTF-8 bytes. Invalid sequences count as U+FFFD, as when the bytes are decoded to a string first.</param>
    /// <returns>The number of tokens.</returns>
    public int CountTokens(ReadOnlySpan<byte> utf8Text) => CountTokens(utf8Text, allowSpecialTokens: false);

    /// <summary>Counts the tokens of UTF-8 text.</summary>
    /// <param name="utf8Text">The UTF-8 bytes.</param>
    /// <param name="allowSpecialTokens"><see langword="true"/> to count special-token text as its single special token.</param>
    /// <returns>The number of tokens.</returns>
    public int CountTokens(ReadOnlySpan<byte> utf8Text, bool allowSpecialTokens)
    {
        if (Utf8.IsValid(utf8Text))
        {
            return CountValidUtf8(utf8Text, allowSpecialTokens);
        }

        // Rare: replace invalid sequences with U+FFFD exactly as decoding to a string would.
        var chars = ArrayPool<char>.Shared.Rent(Encoding.UTF8.GetCharCount(utf8Text));
        try
        {
            var length = Encoding.UTF8.GetChars(utf8Text, chars);
            return CountTokens(chars.AsSpan(0, length), allowSpecialTokens);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    /// <summary>Creates a counter that takes the text in chunks and counts it in bounded memory (a 64 KiB window, whatever the
    /// length of the text or of any word in it).</summary>
    /// <returns>A new counter; special-token text counts as ordinary text.</returns>
    public TiktokenStreamCounter CreateStreamCounter() => new(this, _encoder);

    internal TiktokenStreamCounter CreateStreamCounter(int window) => new(this, _encoder, window);

    /// <summary>Counts the tokens of a UTF-8 stream in bounded memory; the total equals counting the whole text at once.</summary>
    /// <param name="utf8Stream">The stream, read to its end.</param>
    /// <param name="progress">Receives the number of bytes read so far; may be <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The number of tokens, special-token text counted as ordinary text.</returns>
    public async Task<long> CountTokensAsync(Stream utf8Stream, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(utf8Stream);
        var counter = CreateStreamCounter();
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            long done = 0;
            int read;
            while ((read = await utf8Stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                counter.Append(buffer.AsSpan(0, read));
                done += read;
                progress?.Report(done);
            }

            return counter.Complete();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Counts the tokens of text read from a <see cref="TextReader"/> in bounded memory.</summary>
    /// <param name="reader">The reader, read to its end.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The number of tokens, special-token text counted as ordinary text.</returns>
    public async Task<long> CountTokensAsync(TextReader reader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var counter = CreateStreamCounter();
        var buffer = ArrayPool<char>.Shared.Rent(1 << 15);
        try
        {
            int read;
            while ((read = await reader.ReadAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false)) > 0)
            {
                counter.Append(buffer.AsSpan(0, read));
            }

            return counter.Complete();
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    /// <summary>Encodes text to token ids, treating special-token text as ordinary text.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The token ids.</returns>
    public int[] Encode(ReadOnlySpan<char> text) => Encode(text, allowSpecialTokens: false);

    /// <summary>Encodes text to token ids.</summary>
    /// <param name="text">The text.</param>
    /// <param name="allowSpecialTokens"><see langword="true"/> to encode special-token text as its special token id.</param>
    /// <returns>The token ids.</returns>
    public int[] Encode(ReadOnlySpan<char> text, bool allowSpecialTokens)
    {
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetByteCount(text));
        try
        {
            var length = Encoding.UTF8.GetBytes(text, bytes);
            return EncodeValidUtf8(bytes.AsSpan(0, length), allowSpecialTokens);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>Encodes UTF-8 text to token ids.</summary>
    /// <param name="utf8Text">The UTF-8 bytes. Invalid sequences are encoded as U+FFFD.</param>
    /// <param name="allowSpecialTokens"><see langword="true"/> to encode special-token text as its special token id.</param>
    /// <returns>The token ids.</returns>
    public int[] EncodeUtf8(ReadOnlySpan<byte> utf8Text, bool allowSpecialTokens = false) =>
        Utf8.IsValid(utf8Text) ? EncodeValidUtf8(utf8Text, allowSpecialTokens) : Encode(Encoding.UTF8.GetString(utf8Text), allowSpecialTokens);

    /// <summary>Decodes token ids to the bytes they stand for.</summary>
    /// <param name="tokens">The token ids.</param>
    /// <returns>The bytes; a token may hold part of a UTF-8 sequence.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary.</exception>
    public byte[] DecodeToBytes(ReadOnlySpan<int> tokens)
    {
        var output = new ArrayBufferWriter<byte>(Math.Max(16, tokens.Length * 4));
        foreach (var token in tokens)
        {
            var bytes = _encoder.Ranks.GetBytes(token);
            if (bytes.IsEmpty)
            {
                bytes = _specialBytesById.TryGetValue(token, out var special)
                    ? special
                    : throw new ArgumentOutOfRangeException(nameof(tokens), token, $"Token id {token} is not in {Name}.");
            }

            output.Write(bytes);
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>Decodes token ids to text; bytes that do not form valid UTF-8 become U+FFFD.</summary>
    /// <param name="tokens">The token ids.</param>
    /// <returns>The text.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary.</exception>
    public string Decode(ReadOnlySpan<int> tokens) => Encoding.UTF8.GetString(DecodeToBytes(tokens));

    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <summary>Test hook: the linear-time algorithm on the whole of <paramref name="utf8"/> as one piece (no pre-tokenizer).</summary>
    internal int[] EncodeAsOnePieceLinear(ReadOnlySpan<byte> utf8)
    {
        var output = new TokenList(utf8.Length);
        try
        {
            _encoder.Ranks.Linear.Encode(utf8, 0, utf8.Length, ref output);
            return output.ToArray();
        }
        finally
        {
            output.Dispose();
        }
    }

    /// <summary>Test hook: counts <paramref name="utf8"/> as one piece with the linear-time algorithm.</summary>
    internal int CountAsOnePieceLinear(ReadOnlySpan<byte> utf8) => utf8.IsEmpty ? 0 : _encoder.Ranks.Linear.Count(utf8, 0, utf8.Length);

    /// <summary>Test hook: the merge loop (tiktoken's order) on the whole of <paramref name="utf8"/> as one piece.</summary>
    internal int[] EncodeAsOnePieceMerge(ReadOnlySpan<byte> utf8)
    {
        var output = new TokenList(utf8.Length);
        try
        {
            _encoder.MergePiece(utf8, ref output);
            return output.ToArray();
        }
        finally
        {
            output.Dispose();
        }
    }

    internal int CountValidUtf8(ReadOnlySpan<byte> utf8, bool allowSpecialTokens)
    {
        if (!allowSpecialTokens)
        {
            return _encoder.Count(utf8);
        }

        var count = 0;
        while (true)
        {
            var (at, length) = FindSpecial(utf8);
            if (at < 0)
            {
                return count + _encoder.Count(utf8);
            }

            count += _encoder.Count(utf8[..at]) + 1;
            utf8 = utf8[(at + length)..];
        }
    }

    private int[] EncodeValidUtf8(ReadOnlySpan<byte> utf8, bool allowSpecialTokens)
    {
        var output = new TokenList(utf8.Length / 3);
        try
        {
            while (true)
            {
                var (at, length) = allowSpecialTokens ? FindSpecial(utf8) : (-1, 0);
                if (at < 0)
                {
                    _encoder.Encode(utf8, ref output);
                    return output.ToArray();
                }

                _encoder.Encode(utf8[..at], ref output);
                output.Add(SpecialIdAt(utf8.Slice(at, length)));
                utf8 = utf8[(at + length)..];
            }
        }
        finally
        {
            output.Dispose();
        }
    }

    private (int At, int Length) FindSpecial(ReadOnlySpan<byte> utf8)
    {
        var offset = 0;
        while (true)
        {
            var at = utf8[offset..].IndexOf("<|"u8);
            if (at < 0)
            {
                return (-1, 0);
            }

            at += offset;
            foreach (var (bytes, _) in _specials)
            {
                if (utf8[at..].StartsWith(bytes))
                {
                    return (at, bytes.Length);
                }
            }

            offset = at + 1;
        }
    }

    private int SpecialIdAt(ReadOnlySpan<byte> text)
    {
        foreach (var (bytes, id) in _specials)
        {
            if (text.SequenceEqual(bytes))
            {
                return id;
            }
        }

        throw new InvalidOperationException("Unreachable: the special token was found by FindSpecial.");
    }

    private static Dictionary<string, int> HarmonySpecialTokens()
    {
        var tokens = new Dictionary<string, int>
        {
            ["<|startoftext|>"] = 199998,
            ["<|endoftext|>"] = 199999,
            ["<|return|>"] = 200002,
            ["<|constrain|>"] = 200003,
            ["<|channel|>"] = 200005,
            ["<|start|>"] = 200006,
            ["<|end|>"] = 200007,
            ["<|message|>"] = 200008,
            ["<|call|>"] = 200012,
            ["<|endofprompt|>"] = 200018,
        };
        foreach (var id in (ReadOnlySpan<int>)[200000, 200001, 200004, 200009, 200010, 200011])
        {
            tokens[$"<|reserved_{id}|>"] = id;
        }

        // As in tiktoken, 200018 is both <|endofprompt|> (from o200k_base) and <|reserved_200018|>.
        for (var id = 200013; id < 201088; id++)
        {
            tokens[$"<|reserved_{id}|>"] = id;
        }

        return tokens;
    }
}
