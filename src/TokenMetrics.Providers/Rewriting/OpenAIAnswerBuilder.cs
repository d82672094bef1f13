using System.Buffers;
using System.Collections.Generic;
using System.Text;

namespace TokenMetrics.Providers.Rewriting;

/// <summary>Turns a vendor's answer, piece by piece, into the OpenAI Chat Completions answer the app expects: streamed deltas as
/// they arrive (through <see cref="OpenAIAnswerWriter"/>), or one <c>chat.completion</c> at the end. Shared by the rewriters.</summary>
internal sealed class OpenAIAnswerBuilder
{
    private readonly bool _stream;
    private readonly bool _includeUsage;
    private readonly string _fallbackModel;
    private readonly long _created;
    private readonly StringBuilder _text = new();
    private readonly StringBuilder _reasoning = new();
    private readonly List<(string Id, string Name, StringBuilder Arguments)> _toolCalls = [];
    private OpenAIAnswerWriter? _writer;
    private bool _hasText;
    private bool _ended;

    public OpenAIAnswerBuilder(bool stream, bool includeUsage, string model, long created)
    {
        _stream = stream;
        _includeUsage = includeUsage;
        _fallbackModel = model;
        _created = created;
    }

    /// <summary>Gets or sets the vendor's finish reason (raw; mapped when written).</summary>
    public string? VendorFinishReason { get; set; }

    /// <summary>Gets the number of tool calls seen.</summary>
    public int ToolCallCount => _toolCalls.Count;

    /// <summary>Gets a value indicating whether the end (or an error) was written.</summary>
    public bool Ended => _ended;

    /// <summary>Starts the answer (idempotent): the id and model come from the vendor when it gave them.</summary>
    public void Start(IBufferWriter<byte>? output, string? vendorId, string? vendorModel)
    {
        if (_writer is not null)
        {
            return;
        }

        var id = "chatcmpl-" + (string.IsNullOrEmpty(vendorId) ? Guid.NewGuid().ToString("N") : vendorId);
        _writer = new OpenAIAnswerWriter(id, _created, vendorModel ?? _fallbackModel, _includeUsage);
        if (_stream && output is not null)
        {
            _writer.WriteRoleChunk(output);
        }
    }

    public void Text(IBufferWriter<byte>? output, string text)
    {
        if (text.Length == 0)
        {
            return;
        }

        _hasText = true;
        if (_stream)
        {
            if (output is not null)
            {
                _writer!.WriteContentChunk(output, text);
            }
        }
        else
        {
            _text.Append(text);
        }
    }

    public void Reasoning(IBufferWriter<byte>? output, string text)
    {
        if (text.Length == 0)
        {
            return;
        }

        if (_stream)
        {
            if (output is not null)
            {
                _writer!.WriteReasoningChunk(output, text);
            }
        }
        else
        {
            _reasoning.Append(text);
        }
    }

    /// <summary>Adds a tool call, or an arguments fragment of one already started (same <paramref name="index"/>).</summary>
    /// <param name="output">The app's stream, when streaming.</param>
    /// <param name="index">The call's index, or <see langword="null"/> for a new, complete call.</param>
    /// <param name="id">The vendor's call id, or <see langword="null"/> to generate one.</param>
    /// <param name="name">The function name (first fragment only).</param>
    /// <param name="arguments">The arguments (JSON text) or a fragment of them.</param>
    public void ToolCall(IBufferWriter<byte>? output, int? index, string? id, string? name, string? arguments)
    {
        var i = index ?? _toolCalls.Count;
        string? newId = null;
        while (_toolCalls.Count <= i)
        {
            newId = string.IsNullOrEmpty(id) ? "call_" + Guid.NewGuid().ToString("N")[..24] : id;
            _toolCalls.Add((newId, name ?? string.Empty, new StringBuilder()));
        }

        var call = _toolCalls[i];
        if (newId is null && !string.IsNullOrEmpty(name) && call.Name.Length == 0)
        {
            _toolCalls[i] = call = (call.Id, name, call.Arguments);
        }

        call.Arguments.Append(arguments);
        if (_stream && output is not null)
        {
            _writer!.WriteToolCallChunk(output, i, newId, newId is null ? null : call.Name, arguments ?? string.Empty);
        }
    }

    /// <summary>Writes the end: the finish and usage chunks and <c>[DONE]</c>, or the whole <c>chat.completion</c>.</summary>
    public void End(IBufferWriter<byte>? output, TokenUsage? usage)
    {
        if (_ended || output is null)
        {
            return;
        }

        _ended = true;
        Start(output, null, null);
        var finish = _toolCalls.Count > 0 && VendorFinishReason is null or "STOP" or "stop" or "tool_calls" ? "tool_calls" : OpenAIAnswerWriter.FinishReason(VendorFinishReason);
        if (_stream)
        {
            _writer!.WriteEnd(output, finish, usage);
            return;
        }

        var calls = new List<(string Id, string Name, string Arguments)>(_toolCalls.Count);
        foreach (var (id, name, arguments) in _toolCalls)
        {
            calls.Add((id, name, arguments.Length == 0 ? "{}" : arguments.ToString()));
        }

        _writer!.WriteCompletion(output, _hasText || calls.Count == 0 ? _text.ToString() : null, _reasoning.Length > 0 ? _reasoning.ToString() : null, calls, finish, usage);
    }

    /// <summary>Writes a vendor error in OpenAI's shape: an error body, or an error event inside a stream that already started.</summary>
    public void Error(IBufferWriter<byte>? output, string message, string type)
    {
        if (_ended || output is null)
        {
            return;
        }

        _ended = true;
        if (_stream && _writer is not null)
        {
            OpenAIAnswerWriter.WriteStreamError(output, message, type);
        }
        else
        {
            OpenAIAnswerWriter.WriteError(output, message, type);
        }
    }

    /// <summary>The OpenAI error <c>type</c> for an HTTP status.</summary>
    public static string ErrorType(int status) => status switch
    {
        400 or 404 or 413 or 422 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        _ => "server_error",
    };
}
