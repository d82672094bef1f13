namespace TokenMetrics.Tests.Pricing;

/// <summary>Matching model names to catalog entries, and the shipped catalog's shape.</summary>
public class PriceCatalogTests
{
    private static readonly TokenUsagePriceCatalog Catalog = TokenUsagePriceCatalog.Default;

    [Fact]
    public void ShippedCatalog_EveryEntryHasASourceADateAndAPrice()
    {
        Assert.True(Catalog.Entries.Count > 300);
        Assert.All(Catalog.Entries, e =>
        {
            Assert.StartsWith("https://", e.Source, StringComparison.Ordinal);
            Assert.NotNull(e.Date);
            Assert.NotNull(e.Provider);
            Assert.True(e.Price.Input is not null || e.Price.Output is not null, e.Key);
        });
        string[] vendors = ["openai", "azure.ai.openai", "anthropic", "gcp.gemini", "aws.bedrock", "deepseek", "dashscope", "mistral_ai", "moonshot_ai", "zhipu", "x_ai", "cohere"];
        Assert.All(vendors, v => Assert.Contains(Catalog.Entries, e => e.Provider == v));
    }

    [Theory]
    [InlineData("gpt-4o", "gpt-4o", TokenUsagePriceMatchKind.Exact)]
    [InlineData("GPT-4o", "gpt-4o", TokenUsagePriceMatchKind.Exact)]
    [InlineData("gpt-4o-2024-08-06", "gpt-4o", TokenUsagePriceMatchKind.Alias)]
    [InlineData("gpt-4o-2031-01-01", "gpt-4o", TokenUsagePriceMatchKind.Snapshot)]
    [InlineData("gpt-4o-mini-2031-01-01", "gpt-4o-mini", TokenUsagePriceMatchKind.Snapshot)]
    [InlineData("claude-sonnet-4-5-20250929", "claude-sonnet-4-5", TokenUsagePriceMatchKind.Snapshot)]
    [InlineData("claude-3-5-sonnet@20240620", "claude-3-5-sonnet", TokenUsagePriceMatchKind.Snapshot)]
    [InlineData("models/gemini-2.5-pro", "gemini-2.5-pro", TokenUsagePriceMatchKind.Exact)]
    [InlineData("anthropic/claude-sonnet-4.5", "claude-sonnet-4-5", TokenUsagePriceMatchKind.Alias)]
    [InlineData("deepseek-chat", "deepseek-chat", TokenUsagePriceMatchKind.Exact)]
    [InlineData("qwen-max", "qwen-max", TokenUsagePriceMatchKind.Exact)]
    public void DatedSnapshotsAliasesAndCase_ResolveToTheFamily(string model, string key, TokenUsagePriceMatchKind kind)
    {
        var match = Catalog.Resolve(model);

        Assert.NotNull(match);
        Assert.Equal(key, match.Entry.Key);
        Assert.Equal(kind, match.Kind);
        Assert.Equal(model, match.Model);
    }

    [Fact]
    public void SnapshotOfAModelWithoutItsOwnEntry_PricesAsTheFamily()
    {
        var family = Catalog.Resolve("claude-sonnet-4-5")!.Entry;
        var snapshot = Catalog.Resolve("claude-sonnet-4-5-20250929")!.Entry;

        Assert.Same(family, snapshot);
        Assert.Equal(3m, family.Price.Input);
        Assert.Equal(6m, family.Price.CacheWrite1h);
    }

    [Fact]
    public void BedrockRegionalAndGlobalIds_ResolveToTheirBedrockEntries()
    {
        var regional = Catalog.Resolve("us.anthropic.claude-3-5-sonnet-20240620-v1:0", "aws.bedrock");
        var plain = Catalog.Resolve("anthropic.claude-3-5-sonnet-20240620-v1:0", "aws.bedrock");
        var eu = Catalog.Resolve("eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws.bedrock");
        var global = Catalog.Resolve("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws.bedrock");

        Assert.Equal("anthropic.claude-3-5-sonnet-20240620-v1:0", regional!.Entry.Key);
        Assert.Equal("aws.bedrock", regional.Entry.Provider);
        Assert.Same(regional.Entry, plain!.Entry);
        Assert.Equal("anthropic.claude-sonnet-4-5-20250929-v1:0", eu!.Entry.Key);
        Assert.Equal("global.anthropic.claude-sonnet-4-5-20250929-v1:0", global!.Entry.Key);
        // Regional (cross-region in one geography) endpoints cost 10 % more than global ones on Bedrock for Claude 4.5.
        Assert.True(eu.Entry.Price.Input > global.Entry.Price.Input);
    }

    [Fact]
    public void BedrockIdMissingFromTheCatalog_FallsBackToTheVendorsModel()
    {
        var match = Catalog.Resolve("apac.anthropic.claude-sonnet-4-5-20991231-v1:0", "aws.bedrock");

        Assert.NotNull(match);
        Assert.Equal("claude-sonnet-4-5", match.Entry.Key);
    }

    [Fact]
    public void DeploymentName_MapsToItsModel()
    {
        var catalog = new TokenUsagePriceCatalog(Catalog.Entries, deployments: [new("prod-chat", "gpt-4o-2024-08-06")]);

        var match = catalog.Resolve("prod-chat", "azure.ai.openai");

        Assert.NotNull(match);
        Assert.Equal("gpt-4o", match.Entry.Key);
        Assert.Equal(TokenUsagePriceMatchKind.Deployment, match.Kind);
        Assert.Null(Catalog.Resolve("prod-chat", "azure.ai.openai"));
    }

    [Fact]
    public void ConfiguredAlias_MapsToItsModel()
    {
        var catalog = new TokenUsagePriceCatalog(Catalog.Entries, aliases: [new("house-model", "claude-sonnet-4-5")]);

        var match = catalog.Resolve("house-model");

        Assert.Equal("claude-sonnet-4-5", match!.Entry.Key);
        Assert.Equal(TokenUsagePriceMatchKind.Alias, match.Kind);
    }

    [Fact]
    public void ProviderPicksItsOwnEntry_ElseTheModelsVendor()
    {
        var azure = Catalog.Resolve("o1", "azure.ai.openai");
        var openai = Catalog.Resolve("o1", "openai");
        var none = Catalog.Resolve("o1");

        Assert.Equal("azure.ai.openai", azure!.Entry.Provider);
        Assert.Equal("openai", openai!.Entry.Provider);
        Assert.Equal("openai", none!.Entry.Provider);
    }

    [Fact]
    public void LongestPrefix_WinsAtANameBoundary()
    {
        var catalog = TokenUsagePriceCatalog.Parse("""{"gpt-x":{"input":1,"output":1},"gpt-x-mini":{"input":2,"output":2}}""");

        Assert.Equal("gpt-x-mini", catalog.Resolve("gpt-x-mini-custom")!.Entry.Key);
        Assert.Equal(TokenUsagePriceMatchKind.Prefix, catalog.Resolve("gpt-x-mini-custom")!.Kind);
        Assert.Equal("gpt-x", catalog.Resolve("gpt-x-custom")!.Entry.Key);
        Assert.Null(catalog.Resolve("gpt-xl")); // not at a boundary: a different model
        Assert.Null(catalog.Resolve("gpt-x.5")); // a version dot: a different model
        Assert.Equal("gpt-x-mini", catalog.Resolve("gpt-x-mini+tuned")!.Entry.Key); // any other separator continues the name
        Assert.Equal("gpt-x-mini", catalog.Resolve("gpt-x-mini:free")!.Entry.Key);
    }

    [Theory]
    [InlineData("no-such-model-anywhere")]
    [InlineData("")]
    [InlineData(null)]
    public void UnknownModel_IsNull(string? model) => Assert.Null(Catalog.Resolve(model));

    [Fact]
    public void MalformedCatalog_IsAFormatException()
    {
        Assert.Throws<FormatException>(() => TokenUsagePriceCatalog.Parse("{not json"));
        Assert.Throws<FormatException>(() => TokenUsagePriceCatalog.Parse("""{"m":{"input":-1}}"""));
        Assert.Throws<FormatException>(() => TokenUsagePriceCatalog.Parse("""{"m":{"input":"cheap"}}"""));
    }
}
