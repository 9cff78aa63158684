using System.Net.WebSockets;

namespace ChatServer;

/// <summary>
/// The upgraded connection as handed to <see cref="WebSocket.CreateFromStream(Stream, WebSocketCreationOptions)"/>.
/// When a WebSocket aborts (keep-alive timeout, cancelled receive) it disposes its stream, but Kestrel's upgraded
/// stream ignores Dispose, so a receive pending on a dead peer would never return
/// (https://github.com/dotnet/runtime/issues/44272). Aborting the HTTP connection ends it; ASP.NET Core's own
/// WebSocket middleware does the same for the sockets it creates.
/// </summary>
internal sealed class AbortOnDisposeStream(HttpContext context, Stream inner) : Stream
{
    /// <summary>Set once created; a socket disposed after a completed close handshake leaves the connection to end gracefully.</summary>
    public WebSocket? Socket { get; set; }

    public override bool CanRead => inner.CanRead;
    public override bool CanWrite => inner.CanWrite;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    public override void Flush() => inner.Flush();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (Socket?.State is not WebSocketState.Closed)
            {
                context.Abort();
            }
            inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
