using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Passerelle.Proxy.Forwarding;
using Passerelle.Proxy.Reactor;

namespace Passerelle.Proxy.FrontDoor;

/// <summary>
/// Binds the traffic port (<see cref="TrafficEndPoint"/>) with a <see cref="FrontDoorListener"/>; every other
/// endpoint (the admin port, the private HTTP/2 socket) stays with Kestrel's socket transport. Connections the
/// front door hands over get Kestrel's own socket connections, configured as its transport configures them.
/// </summary>
internal sealed partial class FrontDoorTransport(IOptions<SocketTransportOptions> sockets, IOptions<KestrelServerOptions> kestrel, GatewayForwarder forwarder,
    GatewayOptions options, ILoggerFactory loggers) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is TrafficEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var transport = sockets.Value;
        var listenSocket = transport.CreateBoundListenSocket(endpoint);
        try
        {
            if (OperatingSystem.IsLinux())
            {
                // TCP_DEFER_ACCEPT (nginx's "deferred"): a connection is accepted once its first bytes are there (or
                // after about a second without), so the front door's first look at a handshake finds it, instead of
                // waiting for it with a timer and a second wake-up for every connection.
                listenSocket.SetRawSocketOption(Libc.IpProtoTcp, Libc.TcpDeferAccept, BitConverter.GetBytes(1)); // seconds
            }

            // Handshakes and frames go out at once. Set here, it is every accepted connection's from the start
            // (Linux copies it), which spares a system call per connection.
            listenSocket.NoDelay = true;

            listenSocket.Listen(transport.Backlog);
            if (OperatingSystem.IsLinux())
            {
                // Out of quick-ACK mode (after listen, which resets it; accepted connections inherit it): a request is
                // then acknowledged by its answer, a 101 some dozens of microseconds later, instead of by a segment of
                // its own, as HAProxy's tcp-smart-accept does. The kernel still acknowledges on its own after its
                // delayed-ACK time, should an answer take longer.
                listenSocket.SetRawSocketOption(Libc.IpProtoTcp, Libc.TcpQuickAck, BitConverter.GetBytes(0));
            }
        }
        catch
        {
            listenSocket.Dispose();
            throw;
        }

        var connections = new SocketConnectionContextFactory(new SocketConnectionFactoryOptions
        {
            IOQueueCount = transport.IOQueueCount,
            WaitForDataBeforeAllocatingBuffer = transport.WaitForDataBeforeAllocatingBuffer,
            MaxReadBufferSize = transport.MaxReadBufferSize,
            MaxWriteBufferSize = transport.MaxWriteBufferSize,
            UnsafePreferInlineScheduling = transport.UnsafePreferInlineScheduling,
        }, loggers.CreateLogger("Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets"));

        var (limit, fileLimit) = OpenFileBudget.ForThisProcess();
        var logger = loggers.CreateLogger<FrontDoorListener>();
        Log.Listening(logger, listenSocket.LocalEndPoint?.ToString(), limit, fileLimit);
        IConnectionListener listener = new FrontDoorListener(listenSocket, connections, forwarder.InvokeAsync, kestrel.Value.Limits.RequestHeadersTimeout,
            options.ShutdownTimeout, limit, logger);
        return ValueTask.FromResult(listener);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1207, EventName = "FrontDoorListening", Level = LogLevel.Information,
            Message = "Traffic port {EndPoint}: up to {Limit} connections at once (open-file limit {FileLimit})")]
        public static partial void Listening(ILogger logger, string? endPoint, int limit, long? fileLimit);
    }
}
