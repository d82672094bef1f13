using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace TokenMetrics.Testing.Internal;

/// <summary>Merges the scenario layers: headers, then model-name conventions, then the queued scenario, then the server default.</summary>
internal static class ScenarioResolver
{
    public static ResolvedScenario Resolve(IHeaderDictionary headers, string? model, MockScenario? queued, MockScenario serverDefault)
    {
        var fromHeaders = FromHeaders(headers);
        var fromModel = FromModelName(model);
        return new ResolvedScenario(fromHeaders.Or(fromModel).Or(queued).Or(serverDefault));
    }

    /// <summary>Reads the <c>x-mock-*</c> headers; see <see cref="MockHeaders"/>.</summary>
    public static MockScenario FromHeaders(IHeaderDictionary headers)
    {
        return new MockScenario
        {
            PromptTokens = Int(headers, MockHeaders.PromptTokens),
            CompletionTokens = Int(headers, MockHeaders.CompletionTokens),
            CachedTokens = Int(headers, MockHeaders.CachedTokens),
            ReasoningTokens = Int(headers, MockHeaders.ReasoningTokens),
            AnswerText = Text(headers, MockHeaders.Answer),
            ChunkCount = Int(headers, MockHeaders.Chunks),
            ChunkDelay = Millis(headers, MockHeaders.ChunkDelayMs),
            ResponseDelay = Millis(headers, MockHeaders.ResponseDelayMs),
            ErrorStatusCode = Int(headers, MockHeaders.Status),
            ErrorBody = Text(headers, MockHeaders.ErrorBody),
            ErrorContentType = Raw(headers, MockHeaders.ErrorContentType),
            RetryAfterSeconds = Int(headers, MockHeaders.RetryAfter),
            StreamErrorAfterChunks = Int(headers, MockHeaders.StreamErrorAfter),
            CutAfterChunks = Int(headers, MockHeaders.CutAfter),
            CutSendsDone = Bool(headers, MockHeaders.CutDone),
            CutAbortsConnection = Bool(headers, MockHeaders.CutAbort),
            Gzip = Bool(headers, MockHeaders.Gzip),
            AzureContentFilter = Bool(headers, MockHeaders.AzureContentFilter),
            Endless = Bool(headers, MockHeaders.Endless),
            MaxStreamDuration = Millis(headers, MockHeaders.MaxDurationMs),
            HugeBodyBytes = Int(headers, MockHeaders.HugeBytes),
            ToolCalls = Bool(headers, MockHeaders.ToolCalls),
            SplitWritesBytes = Int(headers, MockHeaders.SplitBytes),
            ResponseId = Raw(headers, MockHeaders.Id),
            Created = Long(headers, MockHeaders.Created),
            ResponseModel = Raw(headers, MockHeaders.ResponseModel),
        };
    }

    /// <summary>Reads the model-name conventions: the model is split on <c>+</c> and each part that is a known <c>mock-*</c> convention applies.</summary>
    public static MockScenario FromModelName(string? model)
    {
        var scenario = new MockScenario();
        if (string.IsNullOrEmpty(model))
        {
            return scenario;
        }

        foreach (var part in model.Split('+', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            ApplyModelPart(scenario, part);
        }

        return scenario;
    }

    private static void ApplyModelPart(MockScenario scenario, string part)
    {
        if (!part.StartsWith("mock-", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var rest = part[5..].ToLowerInvariant();
        switch (rest)
        {
            case "gzip":
                scenario.Gzip = true;
                return;
            case "azure":
                scenario.AzureContentFilter = true;
                return;
            case "endless":
                scenario.Endless = true;
                return;
            case "tools":
                scenario.ToolCalls = true;
                return;
        }

        if (TryNumber(rest, "error-", out var status))
        {
            scenario.ErrorStatusCode = status;
        }
        else if (TryNumber(rest, "html-", out status))
        {
            scenario.ErrorStatusCode = status;
            scenario.ErrorContentType = "text/html";
        }
        else if (rest.EndsWith("-done", StringComparison.Ordinal) && TryNumber(rest[..^5], "cut-", out var cut))
        {
            scenario.CutAfterChunks = cut;
            scenario.CutSendsDone = true;
        }
        else if (TryNumber(rest, "cut-", out cut))
        {
            scenario.CutAfterChunks = cut;
        }
        else if (TryNumber(rest, "abort-", out cut))
        {
            scenario.CutAfterChunks = cut;
            scenario.CutAbortsConnection = true;
        }
        else if (TryNumber(rest, "stream-error-", out var after))
        {
            scenario.StreamErrorAfterChunks = after;
        }
        else if (rest.EndsWith("ms", StringComparison.Ordinal) && TryNumber(rest[..^2], "slow-", out var ms))
        {
            scenario.ChunkDelay = TimeSpan.FromMilliseconds(ms);
        }
        else if (TryNumber(rest, "chunks-", out var chunks))
        {
            scenario.ChunkCount = chunks;
        }
        else if (TryNumber(rest, "huge-", out var bytes))
        {
            scenario.HugeBodyBytes = bytes;
        }
        else if (TryNumber(rest, "split-", out var split))
        {
            scenario.SplitWritesBytes = split;
        }
    }

    private static bool TryNumber(string text, string prefix, out int value)
    {
        value = 0;
        return text.StartsWith(prefix, StringComparison.Ordinal)
            && int.TryParse(text.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static string? Raw(IHeaderDictionary headers, string name) =>
        headers.TryGetValue(name, out var values) && values.Count > 0 ? values.ToString() : null;

    private static string? Text(IHeaderDictionary headers, string name) =>
        Raw(headers, name) is string raw ? Uri.UnescapeDataString(raw) : null;

    private static int? Int(IHeaderDictionary headers, string name)
    {
        var raw = Raw(headers, name);
        if (raw is null)
        {
            return null;
        }

        return int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new MockRequestException($"Header {name} must be an integer, got '{raw}'.");
    }

    private static long? Long(IHeaderDictionary headers, string name)
    {
        var raw = Raw(headers, name);
        if (raw is null)
        {
            return null;
        }

        return long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new MockRequestException($"Header {name} must be an integer, got '{raw}'.");
    }

    private static TimeSpan? Millis(IHeaderDictionary headers, string name) =>
        Int(headers, name) is int ms ? TimeSpan.FromMilliseconds(ms) : null;

    private static bool? Bool(IHeaderDictionary headers, string name)
    {
        var raw = Raw(headers, name);
        return raw switch
        {
            null => null,
            "1" => true,
            "0" => false,
            _ when bool.TryParse(raw, out var value) => value,
            _ => throw new MockRequestException($"Header {name} must be true or false, got '{raw}'."),
        };
    }
}
