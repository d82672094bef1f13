using System.Collections.Generic;

namespace TokenMetrics.Internal;

/// <summary>The content of one call, gathered as it streams by; exists only when content capture is on, so a call without it
/// does no capture work at all.</summary>
/// <remarks>Readers append to the parts the options capture (a part switched off is <see langword="null"/>). Nothing is redacted
/// or cut until <see cref="Build"/>.</remarks>
internal sealed class ContentCapture(ContentPolicy policy)
{
    private ContentText? _answer;
    private ContentText? _reasoning;
    private ToolCallAssembler? _toolCalls;
    private string? _question;

    /// <summary>Gets the answer text, or <see langword="null"/> when answers are not captured.</summary>
    public ContentText? Answer => policy.Answer ? _answer ??= new ContentText(policy.Limit) : null;

    /// <summary>Gets the reasoning text, or <see langword="null"/> when reasoning is not captured.</summary>
    public ContentText? Reasoning => policy.Reasoning ? _reasoning ??= new ContentText(policy.Limit) : null;

    /// <summary>Gets the tool calls, or <see langword="null"/> when tool calls are not captured.</summary>
    public ToolCallAssembler? ToolCalls => policy.ToolCalls ? _toolCalls ??= new ToolCallAssembler(policy.Limit) : null;

    /// <summary>Gets a value indicating whether the question is captured.</summary>
    public bool WantsQuestion => policy.Question && _question is null;

    /// <summary>Sets the last user message (ignored when questions are not captured).</summary>
    public void SetQuestion(string? question)
    {
        if (policy.Question && !string.IsNullOrEmpty(question))
        {
            _question = question;
        }
    }

    /// <summary>Redacts and cuts every part; <see langword="null"/> when nothing was captured.</summary>
    public TokenUsageContent? Build()
    {
        var question = policy.Finish(TokenUsageContentPart.Question, _question);
        var answer = _answer?.Build(policy, TokenUsageContentPart.Answer);
        var reasoning = _reasoning?.Build(policy, TokenUsageContentPart.Reasoning);
        var toolCalls = _toolCalls?.Build(policy);
        return question is null && answer is null && reasoning is null && toolCalls is null
            ? null
            : new TokenUsageContent { Question = question, Answer = answer, Reasoning = reasoning, ToolCalls = toolCalls };
    }
}

/// <summary>Assembles streamed tool calls by index, with Higress' rule: id, type and name are overwritten when a fragment
/// carries a non-empty value, arguments are appended; the calls come out in index order, gaps skipped.</summary>
internal sealed class ToolCallAssembler(int limit)
{
    /// <summary>Bounds the calls kept (a stream with absurd indices); calls past it are ignored.</summary>
    internal const int MaxCalls = 128;

    private readonly SortedList<int, Entry> _calls = [];

    public int Count => _calls.Count;

    /// <summary>Overwrites id, type and name of call <paramref name="index"/> with the values that are not empty.</summary>
    public void Set(int index, string? id, string? type, string? name)
    {
        if (Get(index) is not { } entry)
        {
            return;
        }

        if (!string.IsNullOrEmpty(id))
        {
            entry.Id = id;
        }

        if (!string.IsNullOrEmpty(type))
        {
            entry.Type = type;
        }

        if (!string.IsNullOrEmpty(name))
        {
            entry.Name = name;
        }
    }

    /// <summary>Gets the arguments of call <paramref name="index"/>, to append to; <see langword="null"/> past <see cref="MaxCalls"/>.</summary>
    public ContentText? Arguments(int index) => Get(index)?.Arguments;

    /// <summary>Gets whether a call with this index was seen.</summary>
    public bool Contains(int index) => _calls.ContainsKey(index);

    public IReadOnlyList<TokenUsageToolCall>? Build(ContentPolicy policy)
    {
        if (_calls.Count == 0)
        {
            return null;
        }

        var result = new TokenUsageToolCall[_calls.Count];
        var i = 0;
        foreach (var (index, entry) in _calls)
        {
            result[i++] = new TokenUsageToolCall
            {
                Index = index,
                Id = entry.Id,
                Type = entry.Type,
                Name = entry.Name,
                Arguments = entry.Arguments.Build(policy, TokenUsageContentPart.ToolCallArguments),
            };
        }

        return result;
    }

    private Entry? Get(int index)
    {
        if (index < 0)
        {
            return null;
        }

        if (_calls.TryGetValue(index, out var entry))
        {
            return entry;
        }

        if (_calls.Count >= MaxCalls)
        {
            return null;
        }

        entry = new Entry(new ContentText(limit));
        _calls.Add(index, entry);
        return entry;
    }

    private sealed class Entry(ContentText arguments)
    {
        public string? Id { get; set; }

        public string? Type { get; set; }

        public string? Name { get; set; }

        public ContentText Arguments { get; } = arguments;
    }
}
