using System.Text;
using System.Text.Unicode;
using TokenMetrics.Internal;

namespace TokenMetrics;

/// <summary>Counts the tokens of text that arrives in chunks (a file, a stream, a <see cref="System.IO.TextReader"/>) in
/// bounded memory: the total equals <see cref="TiktokenEncoding.CountTokens(ReadOnlySpan{byte})"/> of the whole text, for
/// any chunking, and the counter never holds more than a fixed window (64 KiB) however long the text or any word in it.</summary>
/// <remarks>
/// <para>Create one with <see cref="TiktokenEncoding.CreateStreamCounter()"/>, feed it with <see cref="Append(ReadOnlySpan{byte})"/>
/// or <see cref="Append(ReadOnlySpan{char})"/> (chunks may split a UTF-8 sequence or a surrogate pair), then call
/// <see cref="Complete"/>. Special-token text counts as ordinary text; invalid UTF-8 and lone surrogates count as U+FFFD.
/// Not thread-safe.</para>
/// <para>How: a piece of the pre-tokenizer is counted once no later byte can change it (its decision never looked past the
/// window). A piece that does not fit the window (one long word, base64, a run of emoji or spaces) is counted as it
/// streams by the linear-time BPE, which needs only its last 128 bytes.</para>
/// </remarks>
public sealed class TiktokenStreamCounter
{
    internal const int DefaultWindow = 1 << 16;

    private readonly BytePairEncoder _encoder;
    private readonly SplitPattern _pattern;
    private readonly byte[] _buffer;
    private readonly byte[] _carry = new byte[4];
    private Encoder? _charEncoder;
    private GiantPiece? _giant;
    private int _start;
    private int _filled;
    private int _carryLength;
    private long _tokens;
    private bool _completed;

    internal TiktokenStreamCounter(TiktokenEncoding encoding, BytePairEncoder encoder, int window = DefaultWindow)
    {
        Encoding = encoding;
        _encoder = encoder;
        _pattern = encoder.Pattern;
        _buffer = new byte[Math.Max(window, 512)];
    }

    /// <summary>Gets the encoding.</summary>
    public TiktokenEncoding Encoding { get; }

    /// <summary>Gets the number of UTF-8 bytes appended so far (after replacing invalid sequences).</summary>
    public long BytesAppended { get; private set; }

    /// <summary>Gets the tokens of the text counted so far: a lower bound until <see cref="Complete"/> (the final pieces wait
    /// for the text after them).</summary>
    public long TokensSoFar => _tokens + (_giant?.Partial ?? 0);

    /// <summary>Appends UTF-8 bytes.</summary>
    /// <param name="utf8">The next bytes; may end inside a UTF-8 sequence.</param>
    /// <exception cref="InvalidOperationException"><see cref="Complete"/> was called.</exception>
    public void Append(ReadOnlySpan<byte> utf8)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (_carryLength > 0)
        {
            var need = SequenceLength(_carry[0]) - _carryLength;
            var take = Math.Clamp(need, 0, utf8.Length);
            utf8[..take].CopyTo(_carry.AsSpan(_carryLength));
            _carryLength += take;
            utf8 = utf8[take..];
            if (_carryLength < SequenceLength(_carry[0]))
            {
                return;
            }

            AppendChecked(_carry.AsSpan(0, _carryLength));
            _carryLength = 0;
        }

        var tail = IncompleteTail(utf8);
        AppendChecked(utf8[..^tail]);
        utf8[^tail..].CopyTo(_carry);
        _carryLength = tail;
    }

    /// <summary>Appends UTF-16 text.</summary>
    /// <param name="text">The next chars; may end between the two halves of a surrogate pair.</param>
    /// <exception cref="InvalidOperationException"><see cref="Complete"/> was called.</exception>
    public void Append(ReadOnlySpan<char> text)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        _charEncoder ??= new UTF8Encoding(false, false).GetEncoder();
        Span<byte> chunk = stackalloc byte[4096];
        while (!text.IsEmpty)
        {
            _charEncoder.Convert(text, chunk, flush: false, out var used, out var written, out _);
            AppendValid(chunk[..written]);
            text = text[used..];
        }
    }

    /// <summary>Ends the text and returns its token count. Later calls return the same count.</summary>
    /// <returns>The number of tokens of all text appended.</returns>
    public long Complete()
    {
        if (_completed)
        {
            return _tokens;
        }

        if (_charEncoder is not null)
        {
            Span<byte> flush = stackalloc byte[8];
            _charEncoder.Convert([], flush, flush: true, out _, out var written, out _);
            AppendValid(flush[..written]);
        }

        if (_carryLength > 0)
        {
            AppendChecked(_carry.AsSpan(0, _carryLength));
            _carryLength = 0;
        }

        Drain(final: true);
        _completed = true;
        return _tokens;
    }

    private static int SequenceLength(byte lead) => lead switch
    {
        < 0xC0 => 1,
        < 0xE0 => 2,
        < 0xF0 => 3,
        _ => 4,
    };

    /// <summary>The bytes at the end that start a UTF-8 sequence without finishing it (0-3).</summary>
    private static int IncompleteTail(ReadOnlySpan<byte> s)
    {
        for (var k = 1; k <= Math.Min(3, s.Length); k++)
        {
            var b = s[^k];
            if ((b & 0xC0) != 0x80)
            {
                return b >= 0xC0 && SequenceLength(b) > k ? k : 0;
            }
        }

        return 0;
    }

    private void AppendChecked(ReadOnlySpan<byte> utf8)
    {
        if (Utf8.IsValid(utf8))
        {
            AppendValid(utf8);
        }
        else
        {
            // Rare: the replacement a decoder would make for the whole text (maximal invalid subparts become U+FFFD).
            AppendValid(System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(utf8)));
        }
    }

    private void AppendValid(ReadOnlySpan<byte> utf8)
    {
        BytesAppended += utf8.Length;
        while (!utf8.IsEmpty)
        {
            // The window always ends at a char boundary.
            var n = Math.Min(utf8.Length, _buffer.Length - _filled);
            while (n > 0 && n < utf8.Length && (utf8[n] & 0xC0) == 0x80)
            {
                n--;
            }

            if (n == 0)
            {
                Drain(final: false);
                continue;
            }

            utf8[..n].CopyTo(_buffer.AsSpan(_filled));
            _filled += n;
            utf8 = utf8[n..];
        }
    }

    /// <summary>Counts what can be counted and makes room in the window.</summary>
    private void Drain(bool final)
    {
        while (true)
        {
            var s = _buffer.AsSpan(0, _filled);
            if (_giant is not null)
            {
                if (!_giant.Feed(s, ref _start, final, ref _tokens))
                {
                    break; // the piece goes on past the window
                }

                _giant = null;
            }

            if (final)
            {
                _tokens += Encoding.CountValidUtf8(s[_start..], allowSpecialTokens: false);
                _start = _filled;
                return;
            }

            var settled = SettledLimit(s, _start);
            var i = _start;
            while (i < settled)
            {
                var end = PreTokenizer.Next(_pattern, s, i);
                if (end > settled)
                {
                    break;
                }

                _tokens += _encoder.CountPiece(s, i, end - i);
                i = end;
            }

            if (i > _start)
            {
                _start = i;
                break;
            }

            // Nothing settled: wait for more text unless at least half the window is waiting.
            if (_filled - _start < _buffer.Length / 2)
            {
                break;
            }

            // Contractions and digit groups decide within 3 chars: count them in a row (a run of digits has no settled end).
            var progressed = false;
            while (_start < _filled)
            {
                var shortEnd = ShortPieceEnd(s, _start);
                if (shortEnd <= 0 || shortEnd + 8 > _filled)
                {
                    break;
                }

                _tokens += _encoder.CountPiece(s, _start, shortEnd - _start);
                _start = shortEnd;
                progressed = true;
            }

            if (progressed)
            {
                continue;
            }

            // The piece at _start is long (a word, a run of punctuation or white space): count it as it streams by.
            var before = _start;
            _giant = GiantPiece.Create(_encoder.Ranks.Linear, _pattern, s, ref _start);
            if (!_giant.Feed(s, ref _start, final, ref _tokens))
            {
                break;
            }

            _giant = null;
            if (_start == before)
            {
                throw new InvalidOperationException("Unreachable: a long piece ended where it started.");
            }
        }

        // Keep the last 128 bytes before the read position: the linear BPE of a long piece looks back that far.
        var keep = _giant is null ? _start : Math.Max(0, _start - 128);
        _buffer.AsSpan(keep, _filled - keep).CopyTo(_buffer);
        _filled -= keep;
        _start -= keep;
    }

    /// <summary>A position such that every piece ending at or before it is final: its pre-tokenizer decision read nothing at or
    /// past the end of the window. A scan reads at most 4 chars past the end of the class run (letters and marks, digits,
    /// white space, other) that holds the piece's last char, so the limit is the start of the run holding the 5th char from
    /// the end.</summary>
    private static int SettledLimit(ReadOnlySpan<byte> s, int start)
    {
        var t = s.Length;
        for (var k = 0; k < 5; k++)
        {
            if (t <= start)
            {
                return start;
            }

            t = PreviousCharStart(s, t);
        }

        var run = Coarse(CharClass.At(s, t, out _));
        while (t > start)
        {
            var p = PreviousCharStart(s, t);
            if (Coarse(CharClass.At(s, p, out _)) != run)
            {
                break;
            }

            t = p;
        }

        return t;
    }

    private static int PreviousCharStart(ReadOnlySpan<byte> s, int t)
    {
        do
        {
            t--;
        }
        while (t > 0 && (s[t] & 0xC0) == 0x80);
        return t;
    }

    private static int Coarse(byte c) =>
        (c & CharClass.Space) != 0 ? 1 : (c & CharClass.Number) != 0 ? 2 : (c & (CharClass.Letter | CharClass.Upper | CharClass.Lower)) != 0 ? 3 : 0;

    /// <summary>The end of the piece at <paramref name="i"/> when it is a contraction or a digit group, whose decision reads at
    /// most 3 chars ahead (the window holds many more); otherwise 0.</summary>
    private int ShortPieceEnd(ReadOnlySpan<byte> s, int i)
    {
        if (_pattern != SplitPattern.O200k && s[i] == '\'' && PreTokenizer.Contraction(s, i, ignoreCase: _pattern == SplitPattern.Cl100k) > 0)
        {
            return i + PreTokenizer.Contraction(s, i, ignoreCase: _pattern == SplitPattern.Cl100k);
        }

        if (_pattern != SplitPattern.Gpt2 && (CharClass.At(s, i, out _) & CharClass.Number) != 0)
        {
            return PreTokenizer.Next(_pattern, s, i);
        }

        return 0;
    }

    /// <summary>One piece too long for the window, counted as it streams by. Knows the piece's shape from the published
    /// pattern: a run of one class (letters, digits, punctuation and its trailing newlines), o200k's case runs, or white
    /// space with its newline rule.</summary>
    private sealed class GiantPiece
    {
        private readonly SplitPattern _pattern;
        private readonly Kind _kind;
        private readonly byte _mask;
        private readonly bool _invert;
        private readonly LinearBpe.Appender _first;
        private readonly LinearBpe.Appender _rest;
        private int _phase;
        private long _firstTokens = -1;
        private int _restChars;
        private int _lastCharLength;

        private GiantPiece(LinearBpe bpe, SplitPattern pattern, Kind kind, byte mask = 0, bool invert = false)
        {
            _pattern = pattern;
            _kind = kind;
            _mask = mask;
            _invert = invert;
            _first = new LinearBpe.Appender(bpe);
            _rest = new LinearBpe.Appender(bpe);
        }

        private enum Kind
        {
            Run,
            Punctuation,
            O200kLetters,
            WhiteSpace,
        }

        public long Partial => _firstTokens > 0 ? _firstTokens : 0;

        /// <summary>Reads the start of the piece at <paramref name="i"/> the way the pre-tokenizer does, and pushes its prefix
        /// char (if any) so <see cref="Feed"/> continues with the run.</summary>
        public static GiantPiece Create(LinearBpe bpe, SplitPattern pattern, ReadOnlySpan<byte> s, ref int i)
        {
            const byte L = CharClass.Letter;
            const byte N = CharClass.Number;
            const byte S = CharClass.Space;
            var c0 = CharClass.At(s, i, out var l0);
            var c1 = i + l0 < s.Length ? CharClass.At(s, i + l0, out _) : (byte)0;
            var canPrefix = (c0 & (L | N | CharClass.Newline)) == 0;
            GiantPiece giant;
            var prefix = false;
            switch (pattern)
            {
                case SplitPattern.Cl100k:
                    if ((c0 & L) != 0 || (canPrefix && (c1 & L) != 0))
                    {
                        giant = new GiantPiece(bpe, pattern, Kind.Run, L);
                        prefix = (c0 & L) == 0;
                    }
                    else if (PreTokenizer.Punctuation(s, i, s[i], c0, slash: false) > 0)
                    {
                        giant = new GiantPiece(bpe, pattern, Kind.Punctuation);
                        prefix = s[i] == ' ';
                    }
                    else
                    {
                        giant = new GiantPiece(bpe, pattern, Kind.WhiteSpace);
                    }

                    break;
                case SplitPattern.O200k:
                    if ((c0 & (CharClass.Upper | CharClass.Lower)) != 0 || (canPrefix && (c1 & (CharClass.Upper | CharClass.Lower)) != 0))
                    {
                        giant = new GiantPiece(bpe, pattern, Kind.O200kLetters);
                        prefix = (c0 & (CharClass.Upper | CharClass.Lower)) == 0;
                    }
                    else if (PreTokenizer.Punctuation(s, i, s[i], c0, slash: true) > 0)
                    {
                        giant = new GiantPiece(bpe, pattern, Kind.Punctuation);
                        prefix = s[i] == ' ';
                    }
                    else
                    {
                        giant = new GiantPiece(bpe, pattern, Kind.WhiteSpace);
                    }

                    break;
                default:
                    var first = s[i] == ' ' && (c1 & S) == 0 ? c1 : c0;
                    prefix = s[i] == ' ' && (c1 & S) == 0;
                    giant = (first & L) != 0 ? new GiantPiece(bpe, pattern, Kind.Run, L)
                        : (first & N) != 0 ? new GiantPiece(bpe, pattern, Kind.Run, N)
                        : (first & S) == 0 ? new GiantPiece(bpe, pattern, Kind.Run, L | N | S, invert: true)
                        : new GiantPiece(bpe, pattern, Kind.WhiteSpace);
                    break;
            }

            if (prefix)
            {
                Push(giant._first, s, ref i, l0);
            }

            return giant;
        }

        /// <summary>Pushes chars from <paramref name="pos"/>; returns <see langword="true"/> when the piece (and, for white
        /// space and o200k's case runs, the piece after it) ended and is counted, with <paramref name="pos"/> where the
        /// pre-tokenizer resumes.</summary>
        public bool Feed(ReadOnlySpan<byte> s, ref int pos, bool final, ref long tokens)
        {
            while (pos < s.Length)
            {
                var c = CharClass.At(s, pos, out var l);
                switch (_kind)
                {
                    case Kind.Run:
                        if (((c & _mask) != 0) == _invert)
                        {
                            tokens += _first.Count;
                            return true;
                        }

                        Push(_first, s, ref pos, l);
                        break;
                    case Kind.Punctuation:
                        var other = (c & (CharClass.Letter | CharClass.Number | CharClass.Space)) == 0;
                        var tail = s[pos] is (byte)'\r' or (byte)'\n' || (_pattern == SplitPattern.O200k && s[pos] == '/');
                        if (_phase == 0 && other)
                        {
                            Push(_first, s, ref pos, l);
                        }
                        else if (tail)
                        {
                            _phase = 1;
                            Push(_first, s, ref pos, l);
                        }
                        else
                        {
                            tokens += _first.Count;
                            return true;
                        }

                        break;
                    case Kind.O200kLetters:
                        if (!FeedO200k(s, ref pos, c, l, final, ref tokens, out var done))
                        {
                            return false;
                        }

                        if (done)
                        {
                            return true;
                        }

                        break;
                    default:
                        if ((c & CharClass.Space) == 0)
                        {
                            EndWhiteSpace(ref pos, atEndOfText: false, ref tokens);
                            return true;
                        }

                        if ((c & CharClass.Newline) != 0 && _pattern != SplitPattern.Gpt2)
                        {
                            Push(_first, s, ref pos, l);
                            _firstTokens = _first.Count;
                            _rest.Reset();
                            _restChars = 0;
                        }
                        else
                        {
                            var p = pos;
                            Push(_first, s, ref p, l);
                            if (_firstTokens >= 0)
                            {
                                // After a newline the chars after it are their own piece.
                                p = pos;
                                Push(_rest, s, ref p, l);
                            }

                            pos += l;
                            _restChars++;
                            _lastCharLength = l;
                        }

                        break;
                }
            }

            if (!final)
            {
                return false;
            }

            // End of text.
            switch (_kind)
            {
                case Kind.O200kLetters:
                    EndO200k(s, ref pos, ref tokens);
                    break;
                case Kind.WhiteSpace:
                    EndWhiteSpace(ref pos, atEndOfText: true, ref tokens);
                    break;
                default:
                    tokens += _first.Count;
                    break;
            }

            return true;
        }

        private static void Push(LinearBpe.Appender appender, ReadOnlySpan<byte> s, ref int pos, int l)
        {
            for (var k = 1; k <= l; k++)
            {
                appender.Push(s, pos + k);
            }

            pos += l;
        }

        // o200k: P?[UP]*[LO]+C? | P?[UP]+[LO]*C?. Phase 0 reads [UP]* remembering where the last char that is also [LO] ended
        // (_firstTokens = the count up to there; _rest = the pure-upper chars after it); phase 1 reads the [LO]+ run.
        private bool FeedO200k(ReadOnlySpan<byte> s, ref int pos, byte c, int l, bool final, ref long tokens, out bool done)
        {
            done = false;
            if (_phase == 0 && (c & CharClass.Upper) != 0)
            {
                var at = pos;
                Push(_first, s, ref pos, l);
                if ((c & CharClass.Lower) != 0)
                {
                    _firstTokens = _first.Count;
                    _rest.Reset();
                }
                else
                {
                    var p = at;
                    Push(_rest, s, ref p, l);
                }

                return true;
            }

            if ((c & CharClass.Lower) != 0)
            {
                _phase = 1;
                _firstTokens = -1;
                Push(_first, s, ref pos, l);
                return true;
            }

            // The run ended at pos; a contraction may follow and needs up to 3 bytes to decide.
            if (s[pos] == '\'' && pos + 3 > s.Length && !final)
            {
                return false;
            }

            EndO200k(s, ref pos, ref tokens);
            done = true;
            return true;
        }

        private void EndO200k(ReadOnlySpan<byte> s, ref int pos, ref long tokens)
        {
            // In phase 0 with a [LO] char seen: the first piece ends after it; pure upper chars after it form the second piece.
            var last = _first;
            if (_phase == 0 && _firstTokens >= 0 && _rest.Length > 0)
            {
                tokens += _firstTokens;
                last = _rest;
            }

            var m = pos < s.Length && s[pos] == '\'' ? PreTokenizer.Contraction(s, pos, ignoreCase: true) : 0;
            Push(last, s, ref pos, m);
            tokens += last.Count;
        }

        private void EndWhiteSpace(ref int pos, bool atEndOfText, ref long tokens)
        {
            var rest = _first;
            if (_firstTokens >= 0)
            {
                tokens += _firstTokens; // \s*[\r\n]+ up to the last newline
                rest = _rest;
            }

            if (_restChars == 0)
            {
                return;
            }

            if (atEndOfText)
            {
                tokens += rest.Count;
            }
            else if (_restChars == 1 && _firstTokens < 0)
            {
                tokens += rest.Count; // a lone white-space char that is no prefix (\s+)
            }
            else if (_restChars == 1)
            {
                pos -= _lastCharLength; // one char after a newline: the pre-tokenizer takes it with what follows
            }
            else
            {
                tokens += rest.CountAt(rest.Length - _lastCharLength); // \s+(?!\S): all but the last char
                pos -= _lastCharLength;
            }
        }
    }
}
