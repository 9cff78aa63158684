using System.Buffers;
using System.Net.Sockets;
using Passerelle.Proxy.Tunnels;

namespace Passerelle.Proxy.Splice;

/// <summary>
/// Carries the bytes of an upgraded connection both ways until it ends. Each direction waits for data with a
/// zero-byte read and takes a pooled buffer only once bytes are there, so an idle connection holds no buffer;
/// nothing is allocated per message. When the client stops sending (TCP FIN), the backend is told the same way
/// (half-close) and has its say until it closes; when the backend ends or either side fails, the client's side is
/// ended too.
/// </summary>
internal static class Relay
{
    /// <summary>Large enough for a 1 MiB message in a few reads; rented only while bytes are in flight.</summary>
    private const int BufferSize = 64 * 1024;

    /// <summary>
    /// Relays until both directions are done, then ends the tunnel, closes the backend's side and, for a relay that
    /// runs on its own (<paramref name="detached"/>), the client's connection.
    /// </summary>
    /// <remarks>
    /// Not tied to the request's RequestAborted: Kestrel fires it when the client half-closes, which would cut the
    /// backend's answer short. An aborted client connection fails the client's reads instead, which stops the relay.
    /// When the client's reads can be stopped without an exception (<paramref name="clientReads"/>: the front door's
    /// socket, or the transport pipes), they take no token: when the backend ends first, the usual end of a WebSocket
    /// (the server closes TCP after the close handshake), they end as an end of input instead of costing an exception
    /// on every closed WebSocket. Otherwise they are cancelled like the backend's.
    /// </remarks>
    public static async Task RunAsync(TunnelStream client, TunnelStream backend, SocketEndStream backendSocket, WebSocketTunnel tunnel,
        IStoppableReads? clientReads, IDetachableUpgrade? detached)
    {
        using var stop = new CancellationTokenSource();
        try
        {
            Task up, down;

            // The request's execution context (logging scopes, the connection's async locals) is of no use to the pumps;
            // without it, each of their continuations skips restoring it: they run once per message.
            using (ExecutionContext.SuppressFlow())
            {
                // The backend's reads take no token either: a token registered for a WebSocket's whole life costs it two
                // objects. They are stopped by ending the socket's input (StopReading), which a pending read sees as the end.
                up = PumpAsync(client, backend, tunnel, clientReads is null ? stop.Token : CancellationToken.None, stop.Token);
                down = PumpAsync(backend, client, tunnel, CancellationToken.None, stop.Token);
            }

            var first = await Task.WhenAny(up, down).ConfigureAwait(false);
            if (first == up && up.IsCompletedSuccessfully)
            {
                backendSocket.EndOutput();
            }
            else
            {
                clientReads?.StopReading();
                if (!down.IsCompleted)
                {
                    backendSocket.StopReading();
                }

                stop.Cancel();
            }

            await Observe(up).ConfigureAwait(false);
            await Observe(down).ConfigureAwait(false);
        }
        finally
        {
            if (detached is null && Reactor.EpollReactor.OnReactorThread)
            {
                // What follows the relay here is the request's end in Kestrel, not the reactor's work: it serves other
                // sockets. A detached relay's end (unregister, two closes) is as short as a message's relay.
                await Task.Yield();
            }

            tunnel.End();
            await backend.DisposeAsync().ConfigureAwait(false);
            detached?.End();
        }
    }

    /// <summary>Copies <paramref name="from"/> to <paramref name="to"/> until <paramref name="from"/> ends (returns) or fails (throws).</summary>
    private static async Task PumpAsync(TunnelStream from, TunnelStream to, WebSocketTunnel tunnel, CancellationToken readToken,
        CancellationToken writeToken)
    {
        // No yield before the first read: it would cost each new WebSocket two thread hops. A direction whose first
        // reads complete at once only delays the other's start by the bytes already buffered.
        while (true)
        {
            await from.WaitForDataAsync(readToken).ConfigureAwait(false);
            var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            var splice = false;
            try
            {
                int read;
                do
                {
                    read = await from.ReadAsync(buffer, readToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        return;
                    }

                    tunnel.Touch();
                    await to.WriteAsync(buffer.AsMemory(0, read), writeToken).ConfigureAwait(false);
                    splice = to.SplicesFrom(from);
                }
                while (read == buffer.Length && !splice); // more may be waiting: read on before going back to waiting without a buffer
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            if (splice)
            {
                // The rest of a large message goes through a kernel pipe, not this buffer (given back meanwhile).
                await to.SpliceFromAsync(from, tunnel, readToken, writeToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task Observe(Task pump)
    {
        try
        {
            await pump.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException
            or Microsoft.AspNetCore.Connections.ConnectionAbortedException or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            // A peer went away or the tunnel was stopped: how a WebSocket ends when it does not end politely.
        }
    }
}
