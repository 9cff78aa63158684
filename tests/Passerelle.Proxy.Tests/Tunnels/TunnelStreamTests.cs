using System.IO.Pipelines;
using System.Net.WebSockets;
using Passerelle.Proxy.Tunnels;
using static Passerelle.Proxy.Tests.Tunnels.TestFrames;

namespace Passerelle.Proxy.Tests.Tunnels;

/// <summary>A tunnel side's Close: between frames only, once, masked towards the backend, and nothing after it.</summary>
public sealed class TunnelStreamTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(false)] // the client's side: the backend's frames, unmasked
    [InlineData(true)] // the backend's side: the client's frames, masked
    public async Task ACloseAskedForInsideA1MiBFrameWrittenInSmallWritesGoesOutRightAfterIt(bool towardsServer)
    {
        var wire = new WireStream();
        var side = new TunnelStream(wire, towardsServer);
        var payload = Pattern(1 << 20);
        var frame = Encode(Binary, payload, masked: towardsServer);

        var at = 0;
        for (; at < 100 * 1000; at += 1000)
        {
            await side.WriteAsync(frame.AsMemory(at, 1000));
        }

        var close = side.SendCloseAsync(WebSocketCloseStatus.EndpointUnavailable, "going away", CancellationToken.None);
        for (; at < frame.Length; at += 1000)
        {
            Assert.False(close.IsCompleted, $"the Close went out at byte {at} of {frame.Length}");
            Assert.Equal(at, wire.Written.Length);
            await side.WriteAsync(frame.AsMemory(at, Math.Min(1000, frame.Length - at)));
        }

        Assert.True(await close.WaitAsync(Deadline));
        Assert.True(side.IsClosed);

        // What follows is discarded: the peer got its Close.
        await side.WriteAsync(Encode(Text, "late"u8, masked: towardsServer));
        await side.WriteAsync(Encode(Ping, [], masked: towardsServer));

        var frames = Decode(wire.Written);
        Assert.Equal(2, frames.Count);
        Assert.Equal(payload, frames[0].Payload);
        Assert.Equal(Close, frames[1].Opcode);
        Assert.True(frames[1].Fin);
        Assert.Equal(towardsServer, frames[1].Masked);
        Assert.Equal(1001, frames[1].CloseCode);
        Assert.Equal("going away", frames[1].CloseReason);
    }

    [Fact]
    public async Task AWriteThatEndsAFrameAndStartsAnotherIsCutAtTheBoundary()
    {
        var wire = new WireStream();
        var side = new TunnelStream(wire, towardsServer: false);
        var first = Encode(Text, Pattern(300));
        var second = Encode(Binary, Pattern(5000));
        var bytes = first.Concat(second).ToArray();

        await side.WriteAsync(bytes.AsMemory(0, 100));
        var close = side.SendCloseAsync(UpgradedConnections.ServiceRestart, "restart", CancellationToken.None);
        Assert.False(close.IsCompleted);
        await side.WriteAsync(bytes.AsMemory(100, 1000)); // the end of the first frame and the start of the second
        Assert.True(await close.WaitAsync(Deadline));
        await side.WriteAsync(bytes.AsMemory(1100));

        var frames = Decode(wire.Written);
        Assert.Equal([Text, Close], frames.Select(f => f.Opcode));
        Assert.Equal(first.Length, frames[1].Offset);
        Assert.Equal(1012, frames[1].CloseCode);
        Assert.False(frames[1].Masked);
    }

    [Fact]
    public async Task AtABoundaryWithNoWriteInProgressTheCloseGoesOutAtOnce()
    {
        var wire = new WireStream();
        var side = new TunnelStream(wire, towardsServer: true);
        await side.WriteAsync(Encode(Binary, Pattern(10), masked: true));

        Assert.True(await side.SendCloseAsync(WebSocketCloseStatus.EndpointUnavailable, "bye", CancellationToken.None).WaitAsync(Deadline));
        var frames = Decode(wire.Written);
        Assert.Equal([Binary, Close], frames.Select(f => f.Opcode));
        Assert.True(frames[1].Masked);
        Assert.Equal("bye", frames[1].CloseReason);

        // Only one Close per side.
        Assert.False(await side.SendCloseAsync(WebSocketCloseStatus.EndpointUnavailable, "again", CancellationToken.None));
        Assert.Equal(2, Decode(wire.Written).Count);
    }

    [Fact]
    public async Task ACloseAskedForGoesBeforeWhateverIsWrittenAfterEvenThePeersOwnClose()
    {
        // The gateway asks for both Closes before writing either: a client quick to answer its Close must not get
        // its answer (1000) to the backend before the gateway's 1001.
        var wire = new WireStream();
        var side = new TunnelStream(wire, towardsServer: true);
        await side.WriteAsync(Encode(Binary, Pattern(10), masked: true));
        Assert.True(side.RequestClose(WebSocketCloseStatus.EndpointUnavailable, "going away"));
        Assert.False(side.RequestClose(WebSocketCloseStatus.EndpointUnavailable, "twice"));
        Assert.Single(Decode(wire.Written));

        await side.WriteAsync(Encode(Close, [0x03, 0xE8], masked: true));
        Assert.True(await side.CompleteCloseAsync(CancellationToken.None).WaitAsync(Deadline));
        await side.CloseSeen.WaitAsync(Deadline);

        var frames = Decode(wire.Written);
        Assert.Equal([Binary, Close], frames.Select(f => f.Opcode));
        Assert.Equal(1001, frames[1].CloseCode);
        Assert.True(frames[1].Masked);
    }

    [Fact]
    public async Task NoSecondCloseFollowsOneThePeerAlreadySent()
    {
        // The backend started a close handshake at the same moment: its Close, half written, stands for ours.
        var wire = new WireStream();
        var side = new TunnelStream(wire, towardsServer: false);
        var peersClose = Encode(Close, [0x03, 0xE8, (byte)'b', (byte)'y', (byte)'e']);
        await side.WriteAsync(peersClose.AsMemory(0, 3));
        var close = side.SendCloseAsync(WebSocketCloseStatus.EndpointUnavailable, "going away", CancellationToken.None);
        Assert.False(close.IsCompleted);
        await side.WriteAsync(peersClose.AsMemory(3));
        Assert.True(await close.WaitAsync(Deadline));
        Assert.True(side.IsClosed);

        var frame = Assert.Single(Decode(wire.Written));
        Assert.Equal(1000, frame.CloseCode);

        // Same with the peer's Close complete before the gateway's is asked for.
        var other = new WireStream();
        var masked = new TunnelStream(other, towardsServer: true);
        await masked.WriteAsync(Encode(Close, [0x03, 0xE8], masked: true));
        Assert.True(await masked.SendCloseAsync(WebSocketCloseStatus.EndpointUnavailable, "", CancellationToken.None).WaitAsync(Deadline));
        Assert.Equal(1000, Assert.Single(Decode(other.Written)).CloseCode);
    }

    [Fact]
    public async Task TheCloseWaitsForAWriteInProgressEvenAtABoundary()
    {
        var wire = new WireStream();
        var side = new TunnelStream(wire, towardsServer: false);
        var frame = Encode(Binary, Pattern(2000));

        var entered = wire.HoldWrites();
        var write = side.WriteAsync(frame).AsTask();
        await entered.WaitAsync(Deadline);
        var close = side.SendCloseAsync(WebSocketCloseStatus.EndpointUnavailable, "", CancellationToken.None);
        Assert.False(close.IsCompleted);
        Assert.Empty(wire.Written);

        wire.Release();
        await write.WaitAsync(Deadline);
        Assert.True(await close.WaitAsync(Deadline));
        Assert.False(wire.SawConcurrentWrites);
        Assert.Equal([Binary, Close], Decode(wire.Written).Select(f => f.Opcode));
    }

    [Fact]
    public async Task ACloseThatFindsNoBoundaryGivesUpWhenCancelledAndWhenTheStreamIsDisposed()
    {
        var wire = new WireStream();
        var side = new TunnelStream(wire, towardsServer: false);
        var frame = Encode(Binary, Pattern(1000));
        await side.WriteAsync(frame.AsMemory(0, 10));

        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        Assert.False(await side.SendCloseAsync(WebSocketCloseStatus.EndpointUnavailable, "", cancel.Token).WaitAsync(Deadline));
        Assert.Equal(10, wire.Written.Length);

        var other = new TunnelStream(new WireStream(), towardsServer: true);
        await other.WriteAsync(frame.AsMemory(0, 10));
        var close = other.SendCloseAsync(WebSocketCloseStatus.EndpointUnavailable, "", CancellationToken.None);
        await other.DisposeAsync();
        Assert.False(await close.WaitAsync(Deadline));
    }

    [Fact]
    public async Task ReadsPassThroughUntouchedZeroByteReadsIncluded()
    {
        var incoming = Encode(Text, "from the peer"u8, masked: true).Concat(new byte[] { 0x81, 0x05 }).ToArray();
        var side = new TunnelStream(new WireStream(incoming), towardsServer: true);
        _ = side.SendCloseAsync(WebSocketCloseStatus.EndpointUnavailable, "", CancellationToken.None);

        Assert.Equal(0, await side.ReadAsync(Memory<byte>.Empty));
        var buffer = new byte[100];
        var read = await side.ReadAsync(buffer);
        Assert.Equal(incoming, buffer[..read]);
    }

    [Fact]
    public async Task DisposingTheSideDisposesTheUpgradedStream()
    {
        var wire = new WireStream();
        await new TunnelStream(wire, towardsServer: false).DisposeAsync();
        Assert.True(wire.Disposed);
    }

    /// <summary>
    /// Real WebSocket endpoints on both ends of a side: one streams fragmented messages and 1 MiB frames through
    /// it, in writes cut at random, while the Close is asked for; the other, which validates every frame, must read intact data, then the
    /// Close, whichever side (masked or not) it is.
    /// </summary>
    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 2)]
    [InlineData(true, 1)]
    [InlineData(true, 2)]
    public async Task AWebSocketPeerReadsWholeFramesThenTheClose(bool towardsServer, int seed)
    {
        var pipe = new Pipe();
        var side = new TunnelStream(pipe.Writer.AsStream(), towardsServer);
        var random = new Random(seed);
        var sender = WebSocket.CreateFromStream(new DuplexStream(Stream.Null, new ChunkingStream(side, random)),
            new WebSocketCreationOptions { IsServer = !towardsServer, KeepAliveInterval = TimeSpan.Zero });
        var receiver = WebSocket.CreateFromStream(new DuplexStream(pipe.Reader.AsStream(), Stream.Null),
            new WebSocketCreationOptions { IsServer = towardsServer, KeepAliveInterval = TimeSpan.Zero });
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        // Every byte sent is the next of one endless pattern, so the receiver can check each it gets.
        var sending = Task.Run(async () =>
        {
            long position = 0;
            while (!stop.IsCancellationRequested && position < 64 << 20)
            {
                var fragments = random.Next(1, 50);
                for (var i = 0; i < fragments; i++)
                {
                    var length = random.Next(3) == 0 ? 1 << 20 : random.Next(0, 70000);
                    var bytes = new byte[length];
                    for (var j = 0; j < length; j++)
                    {
                        bytes[j] = (byte)((position + j) % 251);
                    }

                    position += length;
                    await sender.SendAsync(bytes, WebSocketMessageType.Binary, endOfMessage: i == fragments - 1, stop.Token);
                }
            }
        });

        var buffer = new byte[100_000];
        long received = 0;
        Task<bool>? close = null;
        while (true)
        {
            var result = await receiver.ReceiveAsync(buffer, stop.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, result.CloseStatus);
                Assert.Equal("going away", result.CloseStatusDescription);
                break;
            }

            for (var j = 0; j < result.Count; j++)
            {
                Assert.Equal((byte)((received + j) % 251), buffer[j]);
            }

            received += result.Count;
            if (close is null && received > 3 << 20)
            {
                close = side.SendCloseAsync(WebSocketCloseStatus.EndpointUnavailable, "going away", stop.Token);
                stop.CancelAfter(TimeSpan.FromSeconds(5)); // a corrupted stream would leave the receiver waiting
            }
        }

        Assert.NotNull(close);
        Assert.True(await close);
        stop.Cancel();
        await Record.ExceptionAsync(() => sending);
    }
}
