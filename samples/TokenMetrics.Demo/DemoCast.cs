namespace TokenMetrics.Demo;

/// <summary>One way to reach a model: the demo's named HttpClient, the model the OpenAI SDK asks for, and what the vendor
/// records (after a rewrite's model mapping).</summary>
internal sealed record DemoRoute(string Provider, string Client, string SdkModel, string VendorModel, bool Reasoning = false)
{
    public bool Rewritten => SdkModel != VendorModel;
}

/// <summary>A user of the demo's imaginary apps: their tenant (consumer) and the routes they use most.</summary>
internal sealed record DemoUser(string Id, string Consumer, string Feature, DemoRoute[] Routes);

/// <summary>The people, tenants and models of the demo load and its synthetic history (the same ones, so the two blend).</summary>
internal static class DemoCast
{
    public static readonly DemoRoute Gpt4oMini = new("openai", "openai", "gpt-4o-mini", "gpt-4o-mini");
    public static readonly DemoRoute Gpt41 = new("openai", "openai", "gpt-4.1", "gpt-4.1");
    public static readonly DemoRoute O4Mini = new("openai", "openai", "o4-mini", "o4-mini", Reasoning: true);
    public static readonly DemoRoute ClaudeHaiku = new("anthropic", "anthropic", "gpt-4o-mini", "claude-haiku-4-5");
    public static readonly DemoRoute ClaudeSonnet = new("anthropic", "anthropic", "gpt-4o", "claude-sonnet-4-5");
    public static readonly DemoRoute GeminiFlash = new("gcp.gemini", "gemini", "gpt-4o-mini", "gemini-2.5-flash");
    public static readonly DemoRoute GeminiPro = new("gcp.gemini", "gemini", "gpt-4.1", "gemini-2.5-pro");
    public static readonly DemoRoute QwenPlus = new("dashscope", "qwen", "gpt-4o-mini", "qwen-plus");
    public static readonly DemoRoute QwenMax = new("dashscope", "qwen", "gpt-4o", "qwen-max");
    public static readonly DemoRoute DeepSeekChat = new("deepseek", "deepseek", "deepseek-chat", "deepseek-chat");
    public static readonly DemoRoute DeepSeekReasoner = new("deepseek", "deepseek", "deepseek-reasoner", "deepseek-reasoner", Reasoning: true);

    /// <summary>Routes whose wire protocol is OpenAI's all the way (the tool loops run there).</summary>
    public static readonly DemoRoute[] AgentRoutes = [Gpt4oMini, Gpt41, DeepSeekChat];

    public static readonly DemoUser[] Users =
    [
        new("alice", "acme-support", "support-chat", [Gpt4oMini, Gpt4oMini, ClaudeHaiku, Gpt41]),
        new("bob", "acme-support", "support-chat", [Gpt4oMini, ClaudeHaiku, ClaudeSonnet]),
        new("carol", "acme-support", "summarize", [ClaudeSonnet, Gpt41, GeminiFlash]),
        new("dave", "globex-research", "research-agent", [GeminiPro, O4Mini, ClaudeSonnet]),
        new("erin", "globex-research", "research-agent", [GeminiFlash, GeminiPro, Gpt41]),
        new("frank", "globex-research", "summarize", [O4Mini, GeminiFlash]),
        new("grace", "initech-dev", "code-review", [DeepSeekChat, DeepSeekReasoner, QwenMax]),
        new("heidi", "initech-dev", "code-review", [QwenPlus, DeepSeekChat, Gpt41]),
    ];

    public static T Pick<T>(this Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    /// <summary>A session id as an app would make it: tenant, user and a short random part.</summary>
    public static string NewSessionId(Random random, DemoUser user) =>
        $"{user.Consumer}:{user.Id}:{random.Next(0x100000, 0xFFFFFF):x6}";
}
