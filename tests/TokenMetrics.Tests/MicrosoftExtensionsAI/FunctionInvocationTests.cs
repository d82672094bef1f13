using Microsoft.Extensions.AI;

namespace TokenMetrics.Tests.MicrosoftExtensionsAI;

/// <summary>Microsoft.Extensions.AI 11's real <see cref="FunctionInvokingChatClient"/> around and inside TokenMetrics.</summary>
public class FunctionInvocationTests
{
    private static async Task<UsageDetails?> CallAsync(IChatClient client, string city, bool streaming)
    {
        var options = new ChatOptions { Tools = [ToolLoopModel.Weather] };
        if (!streaming)
        {
            return (await client.GetResponseAsync(city, options)).Usage;
        }

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(city, options))
        {
            updates.Add(update);
        }

        return updates.ToChatResponse().Usage;
    }

    private static void AssertRoundsOfOneOperation(IReadOnlyList<TokenUsageRecord> records, int rounds)
    {
        Assert.Equal(rounds, records.Count);
        var operation = Assert.Single(records.Select(r => r.OperationId).Distinct());
        Assert.NotNull(operation);
        Assert.Equal(Enumerable.Range(0, rounds).Cast<int?>(), records.Select(r => r.RoundIndex).Order());
        foreach (var r in records)
        {
            var (input, output) = ToolLoopModel.UsageOf(r.RoundIndex!.Value);
            Assert.Equal(input, r.Usage.InputTokenCount);
            Assert.Equal(output, r.Usage.OutputTokenCount);
            Assert.Equal(TokenUsageSource.Reported, r.Source);
            Assert.Equal(TokenUsageStatus.Ok, r.Status);
        }
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    [InlineData(false, 3)]
    [InlineData(true, 3)]
    public async Task TokenMetricsInsideFunctionInvocation_OneRecordPerRound_OneOperation_SumIsTheLoopsUsage(bool streaming, int toolRounds)
    {
        await using var t = new TestRecorder();
        using var model = new ToolLoopModel { ToolRounds = toolRounds };
        using var client = model.AsBuilder().UseFunctionInvocation().UseTokenMetrics(t.Recorder).Build();

        var loopUsage = await CallAsync(client, "Paris", streaming);

        var records = await t.RecordsAsync(toolRounds + 1);
        Assert.Equal(toolRounds + 1, model.Calls);
        AssertRoundsOfOneOperation(records, toolRounds + 1);
        Assert.Equal(loopUsage!.InputTokenCount, records.Sum(r => r.Usage.InputTokenCount));
        Assert.Equal(loopUsage.OutputTokenCount, records.Sum(r => r.Usage.OutputTokenCount));
        Assert.All(records, r => Assert.Equal(TokenUsageLayer.ChatClient, r.Layer));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task TokenMetricsOutsideFunctionInvocation_Streamed_SplitsTheStreamIntoRounds(int toolRounds)
    {
        await using var t = new TestRecorder();
        using var model = new ToolLoopModel { ToolRounds = toolRounds };
        using var client = model.AsBuilder().UseTokenMetrics(t.Recorder).UseFunctionInvocation().Build();

        var loopUsage = await CallAsync(client, "Oslo", streaming: true);

        var records = await t.RecordsAsync(toolRounds + 1);
        AssertRoundsOfOneOperation(records, toolRounds + 1);
        Assert.Equal(loopUsage!.InputTokenCount, records.Sum(r => r.Usage.InputTokenCount));
        Assert.Equal(Enumerable.Range(1, toolRounds + 1).Select(i => $"resp-{i}"), records.OrderBy(r => r.RoundIndex).Select(r => r.ResponseId));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task TokenMetricsOutsideFunctionInvocation_NotStreamed_OneRecordWithTheSummedUsageAndNoRoundIndex(int toolRounds)
    {
        // FunctionInvokingChatClient returns one ChatResponse whose Usage is the sum of its rounds: per-round counts do not exist here.
        await using var t = new TestRecorder();
        using var model = new ToolLoopModel { ToolRounds = toolRounds };
        using var client = model.AsBuilder().UseTokenMetrics(t.Recorder).UseFunctionInvocation().Build();

        var loopUsage = await CallAsync(client, "Oslo", streaming: false);

        var r = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(toolRounds + 1, model.Calls);
        Assert.Null(r.RoundIndex);
        Assert.NotNull(r.OperationId);
        Assert.Equal(loopUsage!.InputTokenCount, r.Usage.InputTokenCount);
        Assert.Equal(Enumerable.Range(0, toolRounds + 1).Sum(i => ToolLoopModel.UsageOf(i).Input), r.Usage.InputTokenCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ConcurrentLoops_InsideFunctionInvocation_KeepTheirOwnOperations(bool streaming)
    {
        await using var t = new TestRecorder();
        using var model = new ToolLoopModel { ToolRounds = 2 };
        using var client = model.AsBuilder().UseFunctionInvocation().UseTokenMetrics(t.Recorder).Build();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => CallAsync(client, "city-" + i, streaming)));

        var records = await t.RecordsAsync(8 * 3);
        var operations = records.GroupBy(r => r.OperationId).ToList();
        Assert.Equal(8, operations.Count);
        Assert.All(operations, op => AssertRoundsOfOneOperation([.. op], 3));
    }

    [Fact]
    public async Task TheNextUserTurn_AfterALoop_IsANewOperation()
    {
        await using var t = new TestRecorder();
        using var model = new ToolLoopModel();
        using var client = model.AsBuilder().UseFunctionInvocation().UseTokenMetrics(t.Recorder).Build();
        var options = new ChatOptions { Tools = [ToolLoopModel.Weather] };
        List<ChatMessage> history = [new(ChatRole.User, "Rome")];

        var first = await client.GetResponseAsync(history, options);
        history.AddRange(first.Messages);
        history.Add(new ChatMessage(ChatRole.User, "Milan"));
        _ = await client.GetResponseAsync(history, options);

        var records = await t.RecordsAsync(4);
        Assert.Equal(2, records.Select(r => r.OperationId).Distinct().Count());
        Assert.Equal([0, 0, 1, 1], records.Select(r => r.RoundIndex ?? -1).Order());
    }

    [Fact]
    public async Task AnAppsOwnToolLoop_IsLinkedByToolCallIds()
    {
        // No FunctionInvokingChatClient: the app answers the tool call itself; its follow-up request is round 1 of the same operation.
        await using var t = new TestRecorder();
        using var model = new ToolLoopModel();
        using var client = model.AsBuilder().UseTokenMetrics(t.Recorder).Build();
        List<ChatMessage> history = [new(ChatRole.User, "Lima")];

        var ask = await client.GetResponseAsync(history);
        var call = Assert.IsType<FunctionCallContent>(Assert.Single(ask.Messages.SelectMany(m => m.Contents)));
        history.AddRange(ask.Messages);
        history.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(call.CallId, "sunny")]));
        _ = await client.GetResponseAsync(history);

        AssertRoundsOfOneOperation(await t.RecordsAsync(2), 2);
    }
}
