using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Passerelle.Proxy.Reactor;

namespace Passerelle.Proxy.Splice;

/// <summary>
/// A connection of the direct WebSocket path to one backend endpoint, up to the end of the handshake: connect,
/// send the request head, read the response head, and, for an answer other than 101, read its body as HTTP/1.1
/// frames it. The bytes read past the head (a frame the backend sends right after its 101) are kept for the tunnel.
/// The connection then belongs to the tunnel (<see cref="Detach"/>); the handshake buffer goes back to the pool. Where
/// the epoll reactors run, the socket is a reactor's from the start (no .NET socket to hand over after the 101).
/// </summary>
internal sealed class BackendConnection : IDisposable
{
    /// <summary>A response head larger than this is refused, as Kestrel refuses request heads over 32 KiB.</summary>
    internal const int MaxHeadBytes = 32 * 1024;

    private SocketEndStream? _connection; // over a reactor's socket, or .NET's
    private byte[]? _buffer;
    private int _start;
    private int _end;

    private BackendConnection(SocketEndStream connection)
    {
        _connection = connection;
        _buffer = ArrayPool<byte>.Shared.Rent(4096);
    }

    /// <summary>
    /// Connects to <paramref name="endpoint"/>, on <paramref name="reactor"/> (the client's) where reactors run. The
    /// caller's <paramref name="deadline"/> bounds the attempt; when it fires while <paramref name="aborted"/> has not,
    /// the attempt timed out (<see cref="SocketError.TimedOut"/>).
    /// </summary>
    public static async Task<BackendConnection> ConnectAsync(IPEndPoint endpoint, EpollReactor? reactor, CancellationToken deadline, CancellationToken aborted)
    {
        if (Reactors.IsAvailable)
        {
            try
            {
                return new BackendConnection(new ReactorStream(await Reactors.ConnectAsync(endpoint, reactor, deadline).ConfigureAwait(false), ownsSocket: true));
            }
            catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
            {
                throw new SocketException((int)SocketError.TimedOut);
            }
        }

        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, deadline).ConfigureAwait(false);
            return new BackendConnection(new SocketStream(socket, ownsSocket: true)); // sends are tried straight away
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            socket.Dispose();
            throw new SocketException((int)SocketError.TimedOut);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private SocketEndStream Connection => _connection ?? throw new ObjectDisposedException(nameof(BackendConnection));

    /// <summary>Bytes read past the response head, not yet consumed.</summary>
    public ReadOnlyMemory<byte> Buffered => _buffer.AsMemory(_start, _end - _start);

    public ValueTask SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken) =>
        Connection.WriteAsync(bytes, cancellationToken);

    /// <summary>
    /// Reads the response head. Interim responses other than 101 (100 Continue, 103 Early Hints) are skipped.
    /// Throws <see cref="IOException"/> when the backend closes first and <see cref="InvalidDataException"/> when the
    /// head is malformed or too large.
    /// </summary>
    public async Task<ResponseHead> ReadHeadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var end = ResponseHead.FindEnd(_buffer.AsSpan(_start, _end - _start));
            if (end < 0)
            {
                if (_end - _start >= MaxHeadBytes)
                {
                    throw new InvalidDataException($"the backend's response head is larger than {MaxHeadBytes / 1024} KiB");
                }

                if (await FillAsync(cancellationToken).ConfigureAwait(false) == 0)
                {
                    throw new IOException("the backend closed the connection before a complete response head");
                }

                continue;
            }

            var head = ResponseHead.Parse(_buffer.AsSpan(_start, end));
            _start += end;
            if (head.Status is >= 100 and < 200 and not 101)
            {
                continue;
            }

            return head;
        }
    }

    /// <summary>
    /// Copies the body of a response that is not a 101 to <paramref name="body"/>, decoded from its HTTP/1.1 framing
    /// (RFC 9112 §6.3): none for 204 and 304, chunked, Content-Length, or up to the end of the connection.
    /// </summary>
    public async Task CopyBodyAsync(ResponseHead head, Stream body, CancellationToken cancellationToken)
    {
        if (head.Status is 204 or 304)
        {
            return;
        }

        if (head.Get("Transfer-Encoding") is { } encoding)
        {
            if (!encoding.Split(',', StringSplitOptions.TrimEntries)[^1].Equals("chunked", StringComparison.OrdinalIgnoreCase))
            {
                await CopyAsync(long.MaxValue, body, cancellationToken).ConfigureAwait(false);
                return;
            }

            await CopyChunkedAsync(body, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (ContentLength(head) is { } length)
        {
            if (await CopyAsync(length, body, cancellationToken).ConfigureAwait(false) < length)
            {
                throw new IOException("the backend closed the connection before the end of the response body");
            }

            return;
        }

        await CopyAsync(long.MaxValue, body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The response's Content-Length, or null; several different values are refused (RFC 9112 §6.3).</summary>
    public static long? ContentLength(ResponseHead head)
    {
        if (head.Get("Content-Length") is not { } text)
        {
            return null;
        }

        long? length = null;
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || (length is { } seen && seen != value))
            {
                throw new InvalidDataException($"the backend sent an invalid Content-Length: \"{text}\"");
            }

            length = value;
        }

        return length;
    }

    /// <summary>Gives the connection to the caller, who disposes it; the handshake buffer is released.</summary>
    public SocketEndStream Detach()
    {
        var connection = Connection;
        _connection = null;
        Dispose();
        return connection;
    }

    public void Dispose()
    {
        _connection?.Dispose();
        _connection = null;
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<long> CopyAsync(long count, Stream body, CancellationToken cancellationToken)
    {
        long copied = 0;
        while (copied < count)
        {
            if (_end == _start && await FillAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                break;
            }

            var take = (int)Math.Min(_end - _start, count - copied);
            await body.WriteAsync(_buffer.AsMemory(_start, take), cancellationToken).ConfigureAwait(false);
            _start += take;
            copied += take;
        }

        return copied;
    }

    private async Task CopyChunkedAsync(Stream body, CancellationToken cancellationToken)
    {
        while (true)
        {
            var sizeLine = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
            var digits = sizeLine.Split(';', 2)[0].Trim();
            if (!long.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size) || size < 0)
            {
                throw new InvalidDataException($"the backend sent an invalid chunk size: \"{digits}\"");
            }

            if (size == 0)
            {
                // Trailer fields are dropped: the response is sent on with Kestrel's own framing.
                while ((await ReadLineAsync(cancellationToken).ConfigureAwait(false)).Length > 0)
                {
                }

                return;
            }

            if (await CopyAsync(size, body, cancellationToken).ConfigureAwait(false) < size || (await ReadLineAsync(cancellationToken).ConfigureAwait(false)).Length != 0)
            {
                throw new InvalidDataException("the backend's chunked body is malformed or cut short");
            }
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var at = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
            if (at >= 0)
            {
                var line = System.Text.Encoding.Latin1.GetString(_buffer!, _start, at);
                _start += at + 2;
                return line;
            }

            if (_end - _start >= 4096 || await FillAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                throw new InvalidDataException("the backend's chunked body is malformed or cut short");
            }
        }
    }

    /// <summary>Reads more bytes after the unconsumed ones, growing the buffer up to <see cref="MaxHeadBytes"/>.</summary>
    private async ValueTask<int> FillAsync(CancellationToken cancellationToken)
    {
        var buffer = _buffer ?? throw new ObjectDisposedException(nameof(BackendConnection));
        if (_start > 0)
        {
            buffer.AsSpan(_start, _end - _start).CopyTo(buffer);
            _end -= _start;
            _start = 0;
        }

        if (_end == buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, MaxHeadBytes + 4));
            buffer.AsSpan(0, _end).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(buffer);
            _buffer = buffer = larger;
        }

        var read = await Connection.ReadAsync(buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        _end += read;
        return read;
    }
}
