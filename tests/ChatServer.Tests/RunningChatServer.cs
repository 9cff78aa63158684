using System.Net.WebSockets;
using ChatServer;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChatServer.Tests;

/// <summary>A replica on real Kestrel, bound to a free loopback port, run the way Program runs it.</summary>
internal sealed class RunningChatServer : IAsyncDisposable
{
    private RunningChatServer(WebApplication app, Task run, Uri baseUri, LogCapture logs)
    {
        App = app;
        Run = run;
        Logs = logs;
        HttpUri = baseUri;
        WebSocketUri = new UriBuilder(baseUri) { Scheme = "ws", Path = "/ws" }.Uri;
    }

    public WebApplication App { get; }

    /// <summary>RunAsync's task: completes once the application has stopped.</summary>
    public Task Run { get; }

    public Uri HttpUri { get; }

    public Uri WebSocketUri { get; }

    public int Port => HttpUri.Port;

    /// <summary>What the replica logged at Warning and above, and the Redis backplane's information too.</summary>
    public LogCapture Logs { get; }

    public static Task<RunningChatServer> StartAsync(Action<ChatServerOptions>? configure = null, params string[] args) =>
        StartCoreAsync(configure, room: null, args);

    /// <summary>A replica sharing <paramref name="room"/> with the others started with it.</summary>
    public static Task<RunningChatServer> StartInRoomAsync(InProcessRoom room, Action<ChatServerOptions>? configure = null) =>
        StartCoreAsync(configure, room, []);

    private static async Task<RunningChatServer> StartCoreAsync(Action<ChatServerOptions>? configure, InProcessRoom? room, string[] args)
    {
        var app = ChatServerApp.Build(
            [
                "--urls", "http://127.0.0.1:0",
                "--Logging:LogLevel:Default=Warning",
                "--Logging:LogLevel:ChatServer.RedisBackplane=Information",
                .. args,
            ],
            configure,
            room);
        // Added to the built application's factory, whose loggers pick it up, including those already created.
        var logs = new LogCapture();
        app.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Lifetime.ApplicationStarted.Register(started.SetResult);
        var run = app.RunAsync();
        if (await Task.WhenAny(started.Task, run).WaitAsync(Deadline.Default) == run)
        {
            await run; // surfaces the start-up failure
        }
        return new RunningChatServer(app, run, new Uri(app.Urls.Single()), logs);
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
