using System.Diagnostics;
using System.Net.WebSockets;
using Passerelle.Model;
using Passerelle.Model.Health;

namespace Passerelle.Health.Probes;

/// <summary>
/// A real WebSocket opening handshake (RFC 6455 §4.1: a fresh random key, and the server's
/// <c>Sec-WebSocket-Accept</c> checked by the client), then a Close frame (§5.5.1), so that a server that
/// answers a plain GET with 400 but serves WebSockets is recognised as working.
/// </summary>
internal sealed class WebSocketProbe : IDisposable
{
    private readonly HttpMessageInvoker _client = new(new SocketsHttpHandler
    {
        UseProxy = false,
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    });

    public async Task<ProbeResult> RunAsync(BackendEndpoint endpoint, ProbeSpec probe, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var what = $"WebSocket handshake {probe.Scheme}://{probe.Host}{probe.Path}";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(probe.Timeout);
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Host", probe.Host);
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        try
        {
            await socket.ConnectAsync(ProbeTargets.Url(probe.Scheme == "https" ? "wss" : "ws", endpoint, probe), _client, timeout.Token);
            var latency = Stopwatch.GetElapsedTime(started);
            try
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "health probe", timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // The handshake is what says the server works; a peer that drops instead of answering Close does not change that.
            }

            return new ProbeResult(true, ProbeMode.WebSocket, $"{what} -> 101", latency, DateTimeOffset.UtcNow) { StatusCode = 101 };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ProbeResult(false, ProbeMode.WebSocket, $"{what} -> no answer within {probe.Timeout.TotalSeconds:0.###} s",
                Stopwatch.GetElapsedTime(started), DateTimeOffset.UtcNow);
        }
        catch (WebSocketException e)
        {
            var status = (int)socket.HttpStatusCode;
            var description = status != 0 ? $"{what} -> {status}" : $"{what} -> {ConnectionErrors.Describe(e)}";
            return new ProbeResult(false, ProbeMode.WebSocket, description, Stopwatch.GetElapsedTime(started), DateTimeOffset.UtcNow)
            {
                StatusCode = status == 0 ? null : status,
            };
        }
    }

    public void Dispose() => _client.Dispose();
}
