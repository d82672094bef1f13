using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TokenMetrics.Internal;

namespace TokenMetrics.Tests.Attribution;

/// <summary>The ambient scope, the precedence of the sources (call > scope > baggage), baggage reading and the options.</summary>
public sealed class AttributionScopeTests
{
    private static readonly AttributionSettings Defaults = AttributionSettings.Create(new TokenMetricsAttributionOptions());

    [Fact]
    public void NestedScopes_InnerValuesWin_TagsMerge_AndEndingRestoresTheOuterScope()
    {
        Assert.Null(TokenMetricsScope.Current);
        using (TokenMetricsScope.Begin(new TokenUsageAttribution { UserId = "alice", Consumer = "team-a", Feature = "chat", Tags = new Dictionary<string, string> { ["env"] = "prod", ["tier"] = "free" } }))
        {
            var outer = TokenMetricsScope.Current;
            using (TokenMetricsScope.Begin(new TokenUsageAttribution { SessionId = "s-1", Feature = "summarize", Tags = new Dictionary<string, string> { ["tier"] = "pro" } }))
            {
                var inner = TokenMetricsScope.Current!;
                Assert.Equal("alice", inner.UserId);
                Assert.Equal("team-a", inner.Consumer);
                Assert.Equal("s-1", inner.SessionId);
                Assert.Equal("summarize", inner.Feature);
                Assert.Equal("prod", inner.Tags!["env"]);
                Assert.Equal("pro", inner.Tags["tier"]);
            }

            Assert.Same(outer, TokenMetricsScope.Current);
            Assert.Equal("chat", TokenMetricsScope.Current!.Feature);
            Assert.Equal("free", TokenMetricsScope.Current.Tags!["tier"]);
        }

        Assert.Null(TokenMetricsScope.Current);
    }

    [Fact]
    public async Task AScope_FlowsIntoTasksStartedInside_AndDoesNotLeakToTheCaller()
    {
        async Task<string?> InScope()
        {
            using var _ = TokenMetricsScope.Begin(userId: "bob");
            return await Task.Run(() => TokenMetricsScope.Current?.UserId);
        }

        Assert.Equal("bob", await InScope());
        Assert.Null(TokenMetricsScope.Current);
    }

    [Fact]
    public void DisposingAScopeTwice_RestoresOnce()
    {
        using var outer = TokenMetricsScope.Begin(userId: "outer");
        var inner = TokenMetricsScope.Begin(userId: "inner");
        inner.Dispose();
        using (TokenMetricsScope.Begin(userId: "next"))
        {
            inner.Dispose();   // a second dispose must not pop the scope begun after it
            Assert.Equal("next", TokenMetricsScope.Current!.UserId);
        }

        Assert.Equal("outer", TokenMetricsScope.Current!.UserId);
    }

    [Fact]
    public void Baggage_IsReadWithTheConfiguredKeys_FirstKeyInTheListWins_InnermostActivityWins()
    {
        using var parent = new Activity("parent");
        parent.AddBaggage("enduser.id", "legacy-user").AddBaggage("tenant.id", "acme").AddBaggage("session.id", "outer-session").Start();
        using var child = new Activity("child").AddBaggage("user.id", "alice").AddBaggage("session.id", "inner-session").Start();

        var a = AttributionResolver.ReadBaggage(Defaults, child)!;

        Assert.Equal("alice", a.UserId);               // user.id ranks before enduser.id
        Assert.Equal("inner-session", a.SessionId);    // the child's own item shadows the parent's
        Assert.Equal("acme", a.Consumer);              // inherited from the parent
        Assert.Null(a.Feature);
        Assert.Null(a.Tags);
    }

    [Fact]
    public void Baggage_CustomKeysAndTags_AndNothingWhenTheKeysAreAbsent()
    {
        var settings = AttributionSettings.Create(new TokenMetricsAttributionOptions
        {
            Baggage = new TokenMetricsBaggageOptions { UserKeys = ["app.user"], SessionKeys = [], TagKeys = ["region"] },
        });
        using var activity = new Activity("a").AddBaggage("user.id", "ignored").AddBaggage("session.id", "ignored").AddBaggage("app.user", "carol").AddBaggage("region", "eu").Start();

        var a = AttributionResolver.ReadBaggage(settings, activity)!;

        Assert.Equal("carol", a.UserId);
        Assert.Null(a.SessionId);                       // an empty list reads nothing
        Assert.Equal("eu", a.Tags!["region"]);
        using var bare = new Activity("b").AddBaggage("other", "x");
        Assert.Null(AttributionResolver.ReadBaggage(settings, bare));
        Assert.Null(AttributionResolver.ReadBaggage(settings, null));
    }

    [Fact]
    public void Precedence_CallValuesOverScopeOverBaggage_FieldByField()
    {
        using var activity = new Activity("request").AddBaggage("user.id", "baggage-user").AddBaggage("session.id", "baggage-session")
            .AddBaggage("tenant.id", "baggage-tenant").AddBaggage("feature.name", "baggage-feature").Start();
        using var scope = TokenMetricsScope.Begin(new TokenUsageAttribution { UserId = "scope-user", SessionId = "scope-session" });
        var options = new ChatOptions
        {
            AdditionalProperties = new() { [TokenUsageAttributionKeys.UserId] = "call-user" },
        };

        var ambient = AttributionResolver.Ambient(Defaults);
        var resolved = AttributionResolver.ForChatCall(options, ambient)!;

        Assert.Equal("scope-user", ambient!.UserId);
        Assert.Equal("baggage-tenant", ambient.Consumer);
        Assert.Equal("call-user", resolved.UserId);
        Assert.Equal("scope-session", resolved.SessionId);
        Assert.Equal("baggage-tenant", resolved.Consumer);
        Assert.Equal("baggage-feature", resolved.Feature);
    }

    [Fact]
    public void ChatOptions_KeysWinOverConversationIdAndAWholeAttribution_TagsAreCopied()
    {
        var tags = new Dictionary<string, string> { ["a"] = "1" };
        var options = new ChatOptions
        {
            ConversationId = "conv-1",
            AdditionalProperties = new()
            {
                [TokenUsageAttributionKeys.Attribution] = new TokenUsageAttribution { UserId = "whole-user", Consumer = "whole-consumer", Tags = new Dictionary<string, string> { ["b"] = "2", ["a"] = "0" } },
                [TokenUsageAttributionKeys.SessionId] = "explicit-session",
                [TokenUsageAttributionKeys.Feature] = "search",
                [TokenUsageAttributionKeys.Tags] = tags,
                [TokenUsageAttributionKeys.Consumer] = 42,   // not a string: ignored
            },
        };

        var a = AttributionResolver.FromChatOptions(options)!;
        tags["a"] = "changed later";

        Assert.Equal("whole-user", a.UserId);
        Assert.Equal("whole-consumer", a.Consumer);
        Assert.Equal("explicit-session", a.SessionId);
        Assert.Equal("search", a.Feature);
        Assert.Equal("1", a.Tags!["a"]);
        Assert.Equal("2", a.Tags["b"]);
        Assert.Equal("conv-1", AttributionResolver.FromChatOptions(new ChatOptions { ConversationId = "conv-1" })!.SessionId);
        Assert.Null(AttributionResolver.FromChatOptions(new ChatOptions()));
    }

    [Fact]
    public void Resolution_AllocatesNothingNew_WhenOnlyTheScopeContributes()
    {
        using var scope = TokenMetricsScope.Begin(userId: "alice");
        var current = TokenMetricsScope.Current;

        Assert.Same(current, AttributionResolver.Ambient(Defaults));
        Assert.Same(current, AttributionResolver.ForChatCall(null, current));
        Assert.Same(current, AttributionResolver.ForChatCall(new ChatOptions(), current));
    }

    [Fact]
    public void Options_AreBoundFromTokenMetricsAttribution_AndInvalidKeysFailAtStartUp()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TokenMetrics:Attribution:Baggage:UserKeys:0"] = "app.user",
            ["TokenMetrics:Attribution:Baggage:Propagate"] = "false",
            ["TokenMetrics:Attribution:Baggage:TagKeys:0"] = "region",
        }).Build();
        var services = new ServiceCollection();
        _ = services.AddTokenMetrics(configuration.GetSection("TokenMetrics"));
        using (var provider = services.BuildServiceProvider())
        {
            var baggage = provider.GetRequiredService<IOptions<TokenMetricsOptions>>().Value.Attribution.Baggage;
            Assert.Equal(["app.user"], baggage.UserKeys!);   // replaces the defaults, not appended to them
            Assert.Null(baggage.SessionKeys);
            Assert.Equal(["region"], baggage.TagKeys!);
        }

        var bad = new ServiceCollection();
        _ = bad.AddTokenMetrics(o => o.Attribution.Baggage.SessionKeys = ["session id"]);
        using var badProvider = bad.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => badProvider.GetRequiredService<IOptions<TokenMetricsOptions>>().Value);
        Assert.Contains("Attribution.Baggage.SessionKeys", error.Message, StringComparison.Ordinal);
        Assert.Throws<ValidationException>(() => new TokenUsageRecorder(new TokenMetricsOptions { Attribution = new() { Baggage = new() { UserKeys = ["a,b"] } } }, []));
    }
}
