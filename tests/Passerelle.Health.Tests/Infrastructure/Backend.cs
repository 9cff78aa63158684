using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Passerelle.Model;

namespace Passerelle.Health.Tests.Infrastructure;

/// <summary>
/// A real Kestrel server on 127.0.0.1 standing in for one pod. It records every request it receives (before the
/// handler answers), so tests can count plain GETs and WebSocket handshakes and see the Host header sent.
/// </summary>
internal sealed class Backend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private int _stopped;

    private Backend(WebApplication app) => _app = app;

    public int Port { get; private set; }

    public BackendEndpoint Endpoint => new("127.0.0.1", Port, Ready: true);

    public IReadOnlyList<ReceivedRequest> Requests => _requests.ToArray();

    public int PlainRequests => _requests.Count(r => !r.WebSocket);

    public int Handshakes => _requests.Count(r => r.WebSocket);

    /// <summary>Starts a server answering with <paramref name="handler"/>; port 0 picks a free one.</summary>
    public static async Task<Backend> StartAsync(RequestDelegate handler, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var backend = new Backend(app);
        app.UseWebSockets();
        app.Use(next => context =>
        {
            backend._requests.Enqueue(new ReceivedRequest(
                context.Request.Method, context.Request.Path.Value ?? "", context.Request.Host.Value ?? "", context.WebSockets.IsWebSocketRequest));
            return next(context);
        });
        app.Run(handler);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        backend.Port = new Uri(address).Port;
        return backend;
    }

    /// <summary>Stops listening, as a crashed pod does; the port is free again for a restart.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await _app.StopAsync(stopping.Token);
            await _app.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}

internal sealed record ReceivedRequest(string Method, string Path, string Host, bool WebSocket);
