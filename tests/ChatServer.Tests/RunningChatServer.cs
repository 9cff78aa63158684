using System.Net.WebSockets;
using ChatServer;
using Microsoft.AspNetCore.Builder;

namespace ChatServer.Tests;

/// <summary>A replica on real Kestrel, bound to a free loopback port, run the way Program runs it.</summary>
internal sealed class RunningChatServer : IAsyncDisposable
{
    private RunningChatServer(WebApplication app, Task run, Uri baseUri)
    {
        App = app;
        Run = run;
        HttpUri = baseUri;
        WebSocketUri = new UriBuilder(baseUri) { Scheme = "ws", Path = "/ws" }.Uri;
    }

    public WebApplication App { get; }

    /// <summary>RunAsync's task: completes once the application has stopped.</summary>
    public Task Run { get; }

    public Uri HttpUri { get; }

    public Uri WebSocketUri { get; }

    public int Port => HttpUri.Port;

    public static async Task<RunningChatServer> StartAsync(Action<ChatServerOptions>? configure = null, params string[] args)
    {
        var app = ChatServerApp.Build(
            ["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning", .. args],
            configure);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Lifetime.ApplicationStarted.Register(started.SetResult);
        var run = app.RunAsync();
        if (await Task.WhenAny(started.Task, run).WaitAsync(Deadline.Default) == run)
        {
            await run; // surfaces the start-up failure
        }
        return new RunningChatServer(app, run, new Uri(app.Urls.Single()));
    }

    public async Task<ClientWebSocket> ConnectAsync(Action<ClientWebSocketOptions>? configure = null)
    {
        var socket = new ClientWebSocket();
        configure?.Invoke(socket.Options);
        using var deadline = Deadline.Start();
        await socket.ConnectAsync(WebSocketUri, deadline.Token);
        return socket;
    }

    public async ValueTask DisposeAsync()
    {
        if (!Run.IsCompleted)
        {
            App.Lifetime.StopApplication();
        }
        await Run.WaitAsync(Deadline.Long); // RunAsync disposes the application once stopped
    }
}

/// <summary>Bounds every wait, so that a broken server fails a test instead of hanging it.</summary>
internal static class Deadline
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    public static CancellationTokenSource Start() => new(Default);

    public static CancellationTokenSource StartLong() => new(Long);
}
