using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Passerelle.Bench.Infrastructure;

/// <summary>A minimal Kestrel server standing in for a pod: GET /whoami answers its name, /health 200.</summary>
internal sealed class Backend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private Backend(WebApplication app, string name, IPEndPoint endPoint)
    {
        _app = app;
        Name = name;
        EndPoint = endPoint;
    }

    public string Name { get; }

    public IPEndPoint EndPoint { get; }

    public static async Task<Backend> StartAsync(string name, IPEndPoint endPoint)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(endPoint));
        var app = builder.Build();
        app.MapGet("/whoami", () => name);
        app.MapGet("/health", () => "ok");
        try
        {
            await app.StartAsync();
        }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new BenchException($"backend {name} cannot listen on {endPoint}: {e.Message}");
        }

        return new Backend(app, name, endPoint);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
