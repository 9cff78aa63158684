using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Passerelle.Proxy.Listeners;

/// <summary>
/// Serves HTTP/1.1 and HTTP/2 with prior knowledge (RFC 9113 §3.3) on one cleartext port, as Envoy and HAProxy
/// do. Kestrel picks HTTP/1.1 for every cleartext connection of an endpoint that allows both, so the traffic
/// listener is HTTP/1.1 only and this middleware looks at the first bytes of each connection: a connection that
/// opens with the HTTP/2 preface is handed to the HTTP/2 connection handler of a second, HTTP/2-only endpoint
/// (bound on a private Unix socket) instead. Nothing is copied: the bytes stay in the transport pipe.
/// </summary>
internal sealed class Http2PriorKnowledge
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    private readonly TimeSpan _firstBytesTimeout;
    private ConnectionDelegate? _http2;

    public Http2PriorKnowledge(TimeSpan firstBytesTimeout) => _firstBytesTimeout = firstBytesTimeout;

    /// <summary>Takes the HTTP/2 connection handler Kestrel builds for <paramref name="http2Only"/>.</summary>
    public void CaptureHandlerOf(ListenOptions http2Only) =>
        http2Only.Use(next =>
        {
            _http2 = next;
            return next;
        });

    /// <summary>Routes connections of <paramref name="http1"/> that start with the HTTP/2 preface to HTTP/2.</summary>
    public void DetectOn(ListenOptions http1) =>
        http1.Use(next => async connection =>
        {
            var http2 = _http2;
            if (http2 is not null && await StartsWithPrefaceAsync(connection))
            {
                await http2(connection);
            }
            else
            {
                await next(connection);
            }
        });

    private async Task<bool> StartsWithPrefaceAsync(ConnectionContext connection)
    {
        // Bounded like Kestrel's request-headers timeout, so a client that connects and says nothing is not
        // kept forever before Kestrel's own timeouts apply.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        timeout.CancelAfter(_firstBytesTimeout);
        var input = connection.Transport.Input;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(timeout.Token);
                var buffer = result.Buffer;
                var length = (int)Math.Min(buffer.Length, Preface.Length);
                var matches = Matches(buffer.Slice(0, length));
                if (!matches || length == Preface.Length || result.IsCompleted)
                {
                    // Consume nothing: the chosen protocol handler reads these bytes again.
                    input.AdvanceTo(buffer.Start);
                    return matches && length == Preface.Length;
                }

                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static bool Matches(ReadOnlySequence<byte> head)
    {
        var expected = Preface.AsSpan(0, (int)head.Length);
        if (head.IsSingleSegment)
        {
            return head.FirstSpan.SequenceEqual(expected);
        }

        Span<byte> copy = stackalloc byte[(int)head.Length];
        head.CopyTo(copy);
        return copy.SequenceEqual(expected);
    }
}
