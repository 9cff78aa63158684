using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Passerelle.Proxy.Splice;

/// <summary>
/// The client connection's transport pipes, for the direct WebSocket path once Kestrel has sent the 101. Kestrel's
/// upgraded stream passes every read and write through its HTTP/1.1 layers (request body reader, output producer,
/// their locks and state machines); after the upgrade those layers only pass bytes through, so the relay reads and
/// writes the transport itself. Kestrel touches the pipes again only after the request ends, when the relay is done.
/// </summary>
internal static class ClientTransport
{
    private static readonly object Key = new();

    /// <summary>Remembers each connection's transport, for <see cref="OpenStream"/>.</summary>
    public static void ExposeOn(ListenOptions listener) =>
        listener.Use(next => connection =>
        {
            connection.Items[Key] = connection;
            return next(connection);
        });

    /// <summary>
    /// A stream over the client connection's transport, or Kestrel's <paramref name="upgraded"/> stream where the
    /// transport was not exposed.
    /// </summary>
    public static Stream OpenStream(HttpContext context, Stream upgraded) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(Key, out var value) == true && value is ConnectionContext connection
            ? new TransportStream(connection.Transport, connection.Features.Get<IConnectionSocketFeature>()?.Socket)
            : upgraded;
}
