using System.Buffers;
using System.Collections.Generic;
using System.Text.Json;
using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Providers.Anthropic;

/// <summary>Transforms a non-streamed Anthropic message into an OpenAI <c>chat.completion</c>, and meters it.</summary>
internal sealed class AnthropicToOpenAIJsonReader(RewriteState state, int maxBytes) : ToOpenAIJsonReader, IDisposable
{
    private readonly AnthropicJsonReader _inner = new(maxBytes);

    public override void Write(ReadOnlySpan<byte> data) => _inner.Write(data);

    protected override void CompleteMetering()
    {
        _inner.Complete();
        Usage = _inner.Usage;
        ResponseModel = _inner.ResponseModel;
        ResponseId = _inner.ResponseId;
        Completed = _inner.Completed;
        ErrorType = _inner.ErrorType;
    }

    protected override void WriteAnswer(IBufferWriter<byte> output)
    {
        var body = _inner.Buffer;
        if (ErrorType is not null || body.Overflowed)
        {
            OpenAIAnswerWriter.WriteError(output, ErrorType is null ? "The answer was too large to transform." : "The vendor reported an error.", ErrorType ?? "server_error");
            ErrorType ??= "too_large";
            return;
        }

        using var document = JsonDocument.Parse(body.Body.ToArray());
        var root = document.RootElement;
        string? text = null;
        string? reasoning = null;
        var calls = new List<(string Id, string Name, string Arguments)>();
        if (root.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
        {
            foreach (var block in content.EnumerateArray())
            {
                var type = block.TryGetProperty("type", out var t) ? t.GetString() : null;
                if (type == "text")
                {
                    text += block.GetProperty("text").GetString();
                }
                else if (type == "thinking" && block.TryGetProperty("thinking", out var thinking))
                {
                    reasoning += thinking.GetString();
                }
                else if (type == "tool_use")
                {
                    calls.Add((block.GetProperty("id").GetString()!, block.GetProperty("name").GetString()!, block.TryGetProperty("input", out var input) ? input.GetRawText() : "{}"));
                }
            }
        }

        var writer = new OpenAIAnswerWriter(ResponseId ?? "chatcmpl-anthropic", state.Created, ResponseModel ?? state.RoutedModel, includeUsage: false);
        writer.WriteCompletion(output, text, reasoning, calls, OpenAIAnswerWriter.FinishReason(_inner.StopReason), Usage);
    }

    public void Dispose() => _inner.Dispose();
}

/// <summary>Transforms an Anthropic event stream into OpenAI <c>chat.completion.chunk</c> events, and meters it.</summary>
internal sealed class AnthropicToOpenAIStreamReader(RewriteState state, int maxEventBytes) : AnthropicEventReader, ISseEventSink, IDisposable
{
    private readonly SseEventReader _sse = new(maxEventBytes);
    private readonly Dictionary<int, int> _toolIndexByBlock = [];
    private IBufferWriter<byte>? _output;
    private OpenAIAnswerWriter? _writer;

    public override bool TransformsContent => true;

    public override string? TransformedMediaType => "text/event-stream";

    public override void Write(ReadOnlySpan<byte> data) => _sse.Feed(data, this);

    public override void Complete() => _sse.Complete(this);

    public override void Transform(ReadOnlySpan<byte> data, IBufferWriter<byte> output, bool final)
    {
        _output = output;
        try
        {
            _sse.Feed(data, this);
            if (final)
            {
                _sse.Complete(this);
            }
        }
        finally
        {
            _output = null;
        }
    }

    public void OnEvent(SseEvent sseEvent)
    {
        if (!sseEvent.HasData)
        {
            return;
        }

        var data = sseEvent.Data;
        var type = sseEvent.EventType.IsEmpty ? TypeOf(data) : sseEvent.EventType;
        ObserveEvent(type, data);
        if (_output is { } output)
        {
            Translate(type, data, output);
        }
    }

    public void OnPassthrough(ReadOnlySpan<byte> raw)
    {
    }

    public void Dispose() => _sse.Dispose();

    private OpenAIAnswerWriter Writer(IBufferWriter<byte> output)
    {
        if (_writer is null)
        {
            _writer = new OpenAIAnswerWriter(ResponseId ?? "chatcmpl-anthropic", state.Created, ResponseModel ?? state.RoutedModel, state.IncludeUsage);
            _writer.WriteRoleChunk(output);
        }

        return _writer;
    }

    private void Translate(ReadOnlySpan<byte> type, ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        if (type.SequenceEqual("message_start"u8))
        {
            _ = Writer(output);
            return;
        }

        if (type.SequenceEqual("message_stop"u8))
        {
            Writer(output).WriteEnd(output, OpenAIAnswerWriter.FinishReason(StopReason), Usage);
            return;
        }

        if (type.SequenceEqual("error"u8))
        {
            var message = "The vendor reported an error.";
            if (JsonText.TryGetTopLevelValue(data, "error"u8, out var error) && JsonText.TryGetTopLevelValue(error, "message"u8, out var m))
            {
                message = JsonText.GetString(m) ?? message;
            }

            OpenAIAnswerWriter.WriteStreamError(output, message, ErrorType ?? "error");
            return;
        }

        if (!type.SequenceEqual("content_block_start"u8) && !type.SequenceEqual("content_block_delta"u8))
        {
            return;
        }

        using var document = JsonDocument.Parse(data.ToArray());
        var root = document.RootElement;
        var blockIndex = root.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : 0;
        if (type.SequenceEqual("content_block_start"u8))
        {
            var block = root.GetProperty("content_block");
            var blockType = block.GetProperty("type").GetString();
            if (blockType == "tool_use")
            {
                var toolIndex = _toolIndexByBlock.Count;
                _toolIndexByBlock[blockIndex] = toolIndex;
                Writer(output).WriteToolCallChunk(output, toolIndex, block.GetProperty("id").GetString(), block.GetProperty("name").GetString(), string.Empty);
            }
            else if (blockType == "text" && block.TryGetProperty("text", out var initial) && initial.GetString() is { Length: > 0 } text)
            {
                Writer(output).WriteContentChunk(output, text);
            }

            return;
        }

        var delta = root.GetProperty("delta");
        var deltaType = delta.GetProperty("type").GetString();
        switch (deltaType)
        {
            case "text_delta":
                Writer(output).WriteContentChunk(output, delta.GetProperty("text").GetString() ?? string.Empty);
                break;
            case "thinking_delta":
                Writer(output).WriteReasoningChunk(output, delta.GetProperty("thinking").GetString() ?? string.Empty);
                break;
            case "input_json_delta":
                var fragment = delta.GetProperty("partial_json").GetString();
                if (!string.IsNullOrEmpty(fragment) && _toolIndexByBlock.TryGetValue(blockIndex, out var tool))
                {
                    Writer(output).WriteToolCallChunk(output, tool, null, null, fragment);
                }

                break;
        }
    }
}
