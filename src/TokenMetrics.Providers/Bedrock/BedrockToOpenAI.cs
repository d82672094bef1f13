using System.Buffers;
using System.Collections.Generic;
using System.Text.Json;
using TokenMetrics.Providers.Rewriting;

using TokenMetrics.Providers.Json;

namespace TokenMetrics.Providers.Bedrock;

/// <summary>Transforms a non-streamed Converse answer into an OpenAI <c>chat.completion</c>, and meters it.</summary>
internal sealed class BedrockToOpenAIJsonReader(RewriteState state, string? requestId, int maxBytes) : ToOpenAIJsonReader, IDisposable
{
    private BoundedBody _body = new(maxBytes);
    private readonly BedrockConverseJsonReader _inner = new(maxBytes, requestId);

    public override void Write(ReadOnlySpan<byte> data)
    {
        _body.Write(data);
        _inner.Write(data);
    }

    protected override void CompleteMetering()
    {
        _inner.Complete();
        Usage = _inner.Usage;
        ResponseId = _inner.ResponseId;
        Completed = _inner.Completed;
    }

    protected override void WriteAnswer(IBufferWriter<byte> output)
    {
        if (_body.Overflowed)
        {
            throw new JsonException("The answer was too large to transform.");
        }

        using var document = JsonDocument.Parse(_body.Body.ToArray());
        string? text = null;
        string? reasoning = null;
        var calls = new List<(string Id, string Name, string Arguments)>();
        var content = document.RootElement.GetProperty("output").GetProperty("message").GetProperty("content");
        foreach (var block in content.EnumerateArray())
        {
            if (block.TryGetProperty("text", out var t))
            {
                text += t.GetString();
            }
            else if (block.TryGetProperty("toolUse", out var tool))
            {
                calls.Add((tool.GetProperty("toolUseId").GetString()!, tool.GetProperty("name").GetString()!, tool.TryGetProperty("input", out var input) ? input.GetRawText() : "{}"));
            }
            else if (block.TryGetProperty("reasoningContent", out var r) && r.TryGetProperty("reasoningText", out var rt) && rt.TryGetProperty("text", out var rtext))
            {
                reasoning += rtext.GetString();
            }
        }

        var writer = new OpenAIAnswerWriter("chatcmpl-" + (ResponseId ?? "bedrock"), state.Created, state.RoutedModel, includeUsage: false);
        writer.WriteCompletion(output, text, reasoning, calls, OpenAIAnswerWriter.FinishReason(_inner.StopReason), Usage);
    }

    public void Dispose()
    {
        _body.Dispose();
        _inner.Dispose();
    }
}

/// <summary>Transforms a ConverseStream event stream into OpenAI <c>chat.completion.chunk</c> server-sent events, and meters it.</summary>
/// <remarks>The finish chunk (and usage chunk, when the app asked) is written at <c>metadata</c>, which follows <c>messageStop</c>
/// and carries the usage; tool-call arguments are forwarded as the fragments Bedrock streams.</remarks>
internal sealed class BedrockToOpenAIStreamReader(RewriteState state, string? requestId) : BedrockConverseStreamReader(requestId)
{
    private readonly Dictionary<int, int> _toolIndexByBlock = [];
    private IBufferWriter<byte>? _output;
    private OpenAIAnswerWriter? _writer;

    public override bool TransformsContent => true;

    public override string? TransformedMediaType => "text/event-stream";

    public override void Transform(ReadOnlySpan<byte> data, IBufferWriter<byte> output, bool final)
    {
        _output = output;
        try
        {
            Write(data);
        }
        finally
        {
            _output = null;
        }
    }

    public override void OnMessage(EventStreamMessage message)
    {
        base.OnMessage(message);
        if (_output is not { } output)
        {
            return;
        }

        var messageType = message.GetString(":message-type"u8);
        if (!messageType.SequenceEqual("event"u8))
        {
            var text = JsonText.TryGetTopLevelValue(message.Payload, "message"u8, out var m) ? JsonText.GetString(m) : null;
            OpenAIAnswerWriter.WriteStreamError(output, text ?? "The vendor reported an error.", ErrorType ?? "error");
            return;
        }

        var eventType = message.GetString(":event-type"u8);
        if (eventType.SequenceEqual("messageStart"u8))
        {
            _ = Writer(output);
        }
        else if (eventType.SequenceEqual("metadata"u8))
        {
            Writer(output).WriteEnd(output, OpenAIAnswerWriter.FinishReason(StopReason), Usage);
        }
        else if (eventType.SequenceEqual("contentBlockStart"u8) || eventType.SequenceEqual("contentBlockDelta"u8))
        {
            Translate(eventType.SequenceEqual("contentBlockStart"u8), message.Payload, output);
        }
    }

    private OpenAIAnswerWriter Writer(IBufferWriter<byte> output)
    {
        if (_writer is null)
        {
            _writer = new OpenAIAnswerWriter("chatcmpl-" + (ResponseId ?? "bedrock"), state.Created, state.RoutedModel, state.IncludeUsage);
            _writer.WriteRoleChunk(output);
        }

        return _writer;
    }

    private void Translate(bool start, ReadOnlySpan<byte> payload, IBufferWriter<byte> output)
    {
        using var document = JsonDocument.Parse(payload.ToArray());
        var root = document.RootElement;
        var blockIndex = root.TryGetProperty("contentBlockIndex", out var i) && i.TryGetInt32(out var n) ? n : 0;
        if (start)
        {
            if (root.TryGetProperty("start", out var s) && s.TryGetProperty("toolUse", out var tool))
            {
                var toolIndex = _toolIndexByBlock.Count;
                _toolIndexByBlock[blockIndex] = toolIndex;
                Writer(output).WriteToolCallChunk(output, toolIndex, tool.GetProperty("toolUseId").GetString(), tool.GetProperty("name").GetString(), string.Empty);
            }

            return;
        }

        if (!root.TryGetProperty("delta", out var delta))
        {
            return;
        }

        if (delta.TryGetProperty("text", out var text))
        {
            Writer(output).WriteContentChunk(output, text.GetString() ?? string.Empty);
        }
        else if (delta.TryGetProperty("toolUse", out var toolDelta) && toolDelta.TryGetProperty("input", out var input)
            && input.GetString() is { Length: > 0 } fragment && _toolIndexByBlock.TryGetValue(blockIndex, out var toolIndex))
        {
            Writer(output).WriteToolCallChunk(output, toolIndex, null, null, fragment);
        }
        else if (delta.TryGetProperty("reasoningContent", out var reasoning) && reasoning.TryGetProperty("text", out var reasoningText))
        {
            Writer(output).WriteReasoningChunk(output, reasoningText.GetString() ?? string.Empty);
        }
    }
}
