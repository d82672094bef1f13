using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace TokenMetrics.Testing;

/// <summary>Options for <see cref="MockLlmServer"/>.</summary>
public sealed class MockLlmServerOptions
{
    /// <summary>Gets or sets the TCP port on 127.0.0.1.</summary>
    /// <value>Default: 0, a free port chosen by the operating system (read it from <see cref="MockLlmServer.BaseAddress"/>).</value>
    public int Port { get; set; }

    /// <summary>Gets or sets the HTTP protocols Kestrel accepts. Without TLS, <see cref="HttpProtocols.Http2"/> means h2c with prior knowledge.</summary>
    /// <value>Default: <see cref="HttpProtocols.Http1"/>.</value>
    public HttpProtocols Protocols { get; set; } = HttpProtocols.Http1;

    /// <summary>Gets or sets the scenario used when neither the queue, the model name nor the headers set a value.</summary>
    /// <value>Default: an empty scenario (built-in defaults).</value>
    public MockScenario DefaultScenario { get; set; } = new();

    /// <summary>Gets or sets the largest request body accepted and recorded, in bytes.</summary>
    /// <value>Default: 64 MiB.</value>
    public long MaxRequestBodyBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Gets or sets how long disposing the server waits for responses still being written before aborting them.</summary>
    /// <value>Default: 2 seconds.</value>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(2);
}
