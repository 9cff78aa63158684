using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Passerelle.Bench.Infrastructure;

/// <summary>What a mode does when one of its connections changes state; called on the loop's thread.</summary>
internal interface IWebSocketDriver
{
    void Opened(WebSocketLoop loop, RawConnection connection);

    /// <summary>The awaited echo came back whole and equal; <paramref name="now"/> is a Stopwatch timestamp.</summary>
    void Echoed(WebSocketLoop loop, RawConnection connection, long now);

    /// <summary>The close handshake completed and the server closed the TCP connection.</summary>
    void Closed(WebSocketLoop loop, RawConnection connection, long now);

    void Failed(WebSocketLoop loop, RawConnection connection);
}

/// <summary>
/// The load generator: client WebSockets on non-blocking sockets, all driven by one thread around one epoll set
/// (level-triggered). The handshake is written by hand, frames are encoded before the run, and an echo is read
/// straight from the socket into one shared buffer and compared with what was sent, without copying or allocating.
/// Light enough that the proxy, not the client, is what saturates (bench/README.md). Not thread-safe: one thread
/// calls everything.
/// </summary>
internal sealed class WebSocketLoop : IDisposable
{
    private readonly IPEndPoint _target;
    private readonly byte[] _handshake;
    private readonly RawConnection[] _connections;
    private readonly IWebSocketDriver _driver;
    private readonly int _epoll;
    private readonly byte[] _events = new byte[512 * Native.EpollEventSize];
    private readonly byte[] _read;

    public WebSocketLoop(IPEndPoint target, RawConnection[] connections, IWebSocketDriver driver, int readBufferBytes = 64 * 1024)
    {
        _target = target;
        _handshake = WebSocketFrames.Handshake(target.Port, "/ws");
        _connections = connections;
        _driver = driver;
        _read = new byte[readBufferBytes];
        _epoll = Native.EpollCreate();
    }

    /// <summary>Connections open now (handshake done, not closing).</summary>
    public int OpenCount { get; private set; }

    /// <summary>Starts connecting from <paramref name="source"/>; <see cref="IWebSocketDriver.Opened"/> follows the 101 answer.</summary>
    public void Connect(RawConnection connection, IPAddress source)
    {
        connection.Reset();
        connection.StartedAt = Stopwatch.GetTimestamp();
        try
        {
            connection.Fd = Native.StartConnect(source, _target);
        }
        catch (BenchException e)
        {
            connection.State = RawState.Failed;
            connection.Failure = e.Message;
            _driver.Failed(this, connection);
            return;
        }

        connection.State = RawState.Connecting;
        Native.EpollAdd(_epoll, connection.Fd, Native.EPOLLOUT, (ulong)connection.Id);
    }

    /// <summary>Sends <paramref name="frame"/> (from <see cref="WebSocketFrames.Masked"/>) and awaits the echo of <paramref name="payload"/>.</summary>
    public void Send(RawConnection connection, byte[] frame, byte[] payload, int opcode)
    {
        if (connection.State != RawState.Open || connection.Expected is not null || connection.Out is not null)
        {
            throw new InvalidOperationException($"connection {connection.Id} cannot send now ({connection.State})");
        }

        connection.Expected = payload;
        connection.ExpectedOpcode = opcode;
        connection.StartedAt = Stopwatch.GetTimestamp();
        StartWrite(connection, frame);
    }

    /// <summary>Starts the close handshake; <see cref="IWebSocketDriver.Closed"/> follows the server's close and end of stream.</summary>
    public void BeginClose(RawConnection connection)
    {
        if (connection.State != RawState.Open || connection.Out is not null)
        {
            throw new InvalidOperationException($"connection {connection.Id} cannot close now ({connection.State})");
        }

        connection.State = RawState.Closing;
        OpenCount--;
        StartWrite(connection, WebSocketFrames.NormalClose);
    }

    /// <summary>Closes the socket at once (no close handshake): for the end of a run, where closing is not measured.</summary>
    public void Abort(RawConnection connection)
    {
        if (connection.Fd >= 0)
        {
            Native.Close(connection.Fd); // also leaves the epoll set
            connection.Fd = -1;
        }

        if (connection.State == RawState.Open)
        {
            OpenCount--;
        }

        if (connection.State is not RawState.Failed)
        {
            connection.State = RawState.Closed;
        }
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> for socket events and handles them; returns how many.</summary>
    public int Poll(int timeoutMs)
    {
        var count = Native.EpollWait(_epoll, _events, timeoutMs);
        for (var i = 0; i < count; i++)
        {
            var (events, data) = Native.EpollEvent(_events, i);
            var connection = _connections[(int)data];
            if (connection.Fd < 0)
            {
                continue; // closed by an earlier event of this batch
            }

            if (connection.State == RawState.Connecting)
            {
                Connected(connection);
                continue;
            }

            if ((events & Native.EPOLLOUT) != 0 && connection.Out is not null)
            {
                ContinueWrite(connection);
            }

            if ((events & (Native.EPOLLIN | Native.EPOLLERR | Native.EPOLLHUP)) != 0 && connection.Fd >= 0)
            {
                ReadAvailable(connection);
            }
        }

        return count;
    }

    public void Dispose()
    {
        foreach (var connection in _connections)
        {
            Abort(connection);
        }

        Native.Close(_epoll);
    }

    private void Connected(RawConnection connection)
    {
        var error = Native.SocketError(connection.Fd);
        if (error != 0)
        {
            Fail(connection, $"connect failed: errno {error}");
            return;
        }

        connection.State = RawState.Handshaking;
        Native.EpollModify(_epoll, connection.Fd, Native.EPOLLIN, (ulong)connection.Id);
        StartWrite(connection, _handshake);
    }

    private void StartWrite(RawConnection connection, byte[] bytes)
    {
        connection.Out = bytes;
        connection.OutOffset = 0;
        ContinueWrite(connection);
    }

    private void ContinueWrite(RawConnection connection)
    {
        var bytes = connection.Out!;
        while (connection.OutOffset < bytes.Length)
        {
            var written = Native.Write(connection.Fd, bytes.AsSpan(connection.OutOffset));
            if (written > 0)
            {
                connection.OutOffset += (int)written;
                continue;
            }

            var errno = Native.Errno;
            if (written < 0 && errno == Native.EAGAIN)
            {
                if (!connection.WaitingWritable)
                {
                    connection.WaitingWritable = true;
                    Native.EpollModify(_epoll, connection.Fd, Native.EPOLLIN | Native.EPOLLOUT, (ulong)connection.Id);
                }

                return;
            }

            Fail(connection, $"write failed: errno {errno}");
            return;
        }

        connection.Out = null;
        if (connection.WaitingWritable)
        {
            connection.WaitingWritable = false;
            Native.EpollModify(_epoll, connection.Fd, Native.EPOLLIN, (ulong)connection.Id);
        }
    }

    private void ReadAvailable(RawConnection connection)
    {
        // A full buffer means more may be waiting (large messages); a few reads per wake-up, then others get a turn.
        for (var reads = 0; reads < 8 && connection.Fd >= 0; reads++)
        {
            var read = Native.Read(connection.Fd, _read);
            if (read > 0)
            {
                Consume(connection, _read.AsSpan(0, (int)read));
                if (read < _read.Length)
                {
                    return;
                }

                continue;
            }

            if (read == 0)
            {
                if (connection.State == RawState.Closing && connection.CloseReceived)
                {
                    Native.Close(connection.Fd);
                    connection.Fd = -1;
                    connection.State = RawState.Closed;
                    _driver.Closed(this, connection, Stopwatch.GetTimestamp());
                }
                else
                {
                    Fail(connection, connection.State == RawState.Handshaking ? "closed during the handshake" : "closed by the server");
                }

                return;
            }

            var errno = Native.Errno;
            if (errno != Native.EAGAIN)
            {
                Fail(connection, $"read failed: errno {errno}");
            }

            return;
        }
    }

    private void Consume(RawConnection connection, ReadOnlySpan<byte> bytes)
    {
        if (connection.State == RawState.Handshaking)
        {
            var room = connection.Response.Length - connection.ResponseLength;
            var take = Math.Min(room, bytes.Length);
            bytes[..take].CopyTo(connection.Response.AsSpan(connection.ResponseLength));
            var before = Math.Max(0, connection.ResponseLength - 3);
            connection.ResponseLength += take;
            var end = connection.Response.AsSpan(before, connection.ResponseLength - before).IndexOf("\r\n\r\n"u8);
            if (end < 0)
            {
                if (connection.ResponseLength == connection.Response.Length)
                {
                    Fail(connection, "handshake answer too long");
                }

                return;
            }

            var headerEnd = before + end + 4;
            var answer = connection.Response.AsSpan(0, headerEnd);
            if (!answer.StartsWith("HTTP/1.1 101"u8) || answer.IndexOf(WebSocketFrames.Accept) < 0)
            {
                var firstLine = answer.IndexOf("\r\n"u8);
                Fail(connection, "handshake refused: " + System.Text.Encoding.ASCII.GetString(answer[..Math.Max(0, firstLine)]));
                return;
            }

            connection.State = RawState.Open;
            OpenCount++;
            var rest = bytes[(take - (connection.ResponseLength - headerEnd))..];
            _driver.Opened(this, connection);
            if (rest.Length > 0 && connection.Fd >= 0)
            {
                ConsumeFrames(connection, rest);
            }

            return;
        }

        ConsumeFrames(connection, bytes);
    }

    private void ConsumeFrames(RawConnection c, ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length > 0 && c.Fd >= 0)
        {
            if (!c.InPayload)
            {
                c.Header[c.HeaderLength++] = bytes[0];
                bytes = bytes[1..];
                if (c.HeaderLength < 2)
                {
                    continue;
                }

                var length7 = c.Header[1] & 0x7f;
                if ((c.Header[1] & 0x80) != 0)
                {
                    Fail(c, "the server sent a masked frame");
                    return;
                }

                var need = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0);
                if (c.HeaderLength < need)
                {
                    continue;
                }

                c.PayloadLeft = length7 switch
                {
                    126 => BinaryPrimitives.ReadUInt16BigEndian(c.Header.AsSpan(2)),
                    127 => (long)BinaryPrimitives.ReadUInt64BigEndian(c.Header.AsSpan(2)),
                    _ => length7,
                };
                c.HeaderLength = 0;
                c.FrameFinal = (c.Header[0] & 0x80) != 0;
                var opcode = c.Header[0] & 0x0f;
                if (!StartFrame(c, opcode))
                {
                    return;
                }

                c.InPayload = true;
            }

            var take = (int)Math.Min(c.PayloadLeft, bytes.Length);
            if (c.PayloadIsData)
            {
                var expected = c.Expected!;
                if (c.MessageOffset + take > expected.Length || !bytes[..take].SequenceEqual(expected.AsSpan((int)c.MessageOffset, take)))
                {
                    Fail(c, "the echo differs from the message sent");
                    return;
                }

                c.MessageOffset += take;
            }

            c.PayloadLeft -= take;
            bytes = bytes[take..];
            if (c.PayloadLeft == 0)
            {
                c.InPayload = false;
                if (c.PayloadIsData && c.FrameFinal)
                {
                    if (c.MessageOffset != c.Expected!.Length)
                    {
                        Fail(c, string.Create(CultureInfo.InvariantCulture, $"the echo is {c.MessageOffset} bytes, not {c.Expected.Length}"));
                        return;
                    }

                    c.InMessage = false;
                    c.MessageOffset = 0;
                    c.Expected = null;
                    _driver.Echoed(this, c, Stopwatch.GetTimestamp());
                }
            }
        }
    }

    /// <summary>Checks a frame header's opcode against what is awaited; false when the connection failed.</summary>
    private bool StartFrame(RawConnection c, int opcode)
    {
        switch (opcode)
        {
            case WebSocketFrames.Close:
                if (c.State == RawState.Closing)
                {
                    c.CloseReceived = true;
                    c.PayloadIsData = false;
                    return true;
                }

                Fail(c, "the server closed the WebSocket");
                return false;
            case 9 or 10: // ping, pong: not checked
                c.PayloadIsData = false;
                return true;
            case 0 when c.InMessage:
            case WebSocketFrames.Text or WebSocketFrames.Binary when !c.InMessage && c.Expected is not null && opcode == c.ExpectedOpcode:
                c.PayloadIsData = true;
                c.InMessage = true;
                return true;
            default:
                Fail(c, string.Create(CultureInfo.InvariantCulture, $"unexpected frame (opcode {opcode}) from the server"));
                return false;
        }
    }

    private void Fail(RawConnection connection, string why)
    {
        if (connection.Fd >= 0)
        {
            Native.Close(connection.Fd);
            connection.Fd = -1;
        }

        if (connection.State == RawState.Open)
        {
            OpenCount--;
        }

        connection.State = RawState.Failed;
        connection.Failure = why;
        _driver.Failed(this, connection);
    }
}
