using System.Net.Sockets;
using System.Net.WebSockets;
using Passerelle.Proxy.Reactor;
using Passerelle.Proxy.Tests.Reactor;
using Passerelle.Proxy.Tunnels;
using static Passerelle.Proxy.Tests.Reactor.Loopback;
using static Passerelle.Proxy.Tests.Tunnels.TestFrames;

namespace Passerelle.Proxy.Tests.Splice;

/// <summary>
/// Large WebSocket frames relayed between two reactor sockets, whose payload goes through a kernel pipe
/// (<see cref="TunnelStream.SpliceFromAsync"/>): the bytes, the frame boundaries the gateway keeps track of for its
/// Close, and the relay's end when a peer leaves inside a frame. Frames are masked from the client, not from the backend.
/// </summary>
[Collection(SplicePipeCollection.Name)]
public sealed class RelaySpliceTests
{
    private const int MiB = 1024 * 1024;

    /// <summary>The relay's copy buffer: what of a frame's payload may go through it before the splice takes over.</summary>
    private const int CopyBuffer = 64 * 1024;

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // splicing turned off: the same bytes are copied
    public async Task A4MiBFrameAndTheSmallFrameSentRightAfterItCrossEachWayByteForByte(bool splice)
    {
        var enabled = SplicePipe.Enabled;
        SplicePipe.Enabled = splice;
        try
        {
            await using var relay = await SplicedRelay.StartAsync();
            var up = Concat(Encode(Binary, RandomBytes(4 * MiB), masked: true), Encode(Text, "after the large one"u8, masked: true));
            var down = Concat(Encode(Binary, RandomBytes(4 * MiB)), Encode(Text, "and back"u8));
            var before = SplicePipe.TotalBytes;

            var atBackend = ReceiveExactlyAsync(relay.BackendPeer, up.Length);
            var atClient = ReceiveExactlyAsync(relay.ClientPeer, down.Length);
            await Task.WhenAll(relay.ClientPeer.SendAsync(up.AsMemory()).AsTask(), relay.BackendPeer.SendAsync(down.AsMemory()).AsTask())
                .WaitAsync(Deadline);
            Assert.Equal(up, await atBackend);
            Assert.Equal(down, await atClient);

            var spliced = SplicePipe.TotalBytes - before;
            if (splice)
            {
                Assert.True(spliced >= 2 * (4 * MiB - CopyBuffer), $"{spliced} bytes spliced of two 4 MiB frames");
            }
            else
            {
                Assert.Equal(0, spliced);
            }

            // Nothing else reaches either peer, and both directions end as the peers end them.
            relay.ClientPeer.Shutdown(SocketShutdown.Send);
            Assert.Empty(await ReceiveToEndAsync(relay.BackendPeer));
            relay.BackendPeer.Shutdown(SocketShutdown.Send);
            await relay.Run.WaitAsync(Deadline);
            await relay.Client.DisposeAsync();
            Assert.Empty(await ReceiveToEndAsync(relay.ClientPeer));
        }
        finally
        {
            SplicePipe.Enabled = enabled;
        }
    }

    [Theory]
    [InlineData(true)] // the client's frames, into the backend's side
    [InlineData(false)] // the backend's frames, into the client's side
    public async Task AfterSplicedFramesSentTogetherACloseGoesOutAtOnceRightAfterTheLastOfThem(bool towardsServer)
    {
        await using var relay = await SplicedRelay.StartAsync();
        var (sender, receiver, side) = towardsServer
            ? (relay.ClientPeer, relay.BackendPeer, relay.Backend)
            : (relay.BackendPeer, relay.ClientPeer, relay.Client);
        var masked = towardsServer;

        // A fragmented message with a large first fragment, a small frame, then large ones of each length encoding's
        // reach: each splice must stop at its frame's last byte, for the tracker to find the next header.
        var frames = Concat(
            Encode(Binary, RandomBytes(MiB), fin: false, masked: masked),
            Encode(Continuation, RandomBytes(20 * 1024), masked: masked),
            Encode(Text, "between"u8, masked: masked),
            Encode(Binary, RandomBytes(60 * 1024), masked: masked),
            Encode(Binary, RandomBytes(2 * MiB + 3), masked: masked),
            Encode(Ping, "last"u8, masked: masked));
        var before = SplicePipe.TotalBytes;
        var receiving = ReceiveExactlyAsync(receiver, frames.Length);
        await sender.SendAsync(frames.AsMemory()).AsTask().WaitAsync(Deadline);
        Assert.Equal(frames, await receiving);
        Assert.True(SplicePipe.TotalBytes - before >= 2 * MiB, $"{SplicePipe.TotalBytes - before} bytes spliced");

        // Between two frames now: the Close needs no further write to go out.
        var close = CloseFrame.Build(WebSocketCloseStatus.EndpointUnavailable, "going away", masked);
        Assert.True(await side.SendCloseAsync(WebSocketCloseStatus.EndpointUnavailable, "going away", CancellationToken.None).WaitAsync(Deadline));
        var wire = Concat(frames, await ReceiveExactlyAsync(receiver, close.Length));
        var decoded = Decode(wire);
        Assert.Equal([Binary, Continuation, Text, Binary, Binary, Ping, Close], decoded.Select(f => f.Opcode));
        Assert.All(decoded, f => Assert.Equal(masked, f.Masked));
        Assert.Equal(frames.Length, decoded[^1].Offset);
        Assert.Equal((int)WebSocketCloseStatus.EndpointUnavailable, decoded[^1].CloseCode);
    }

    [Fact]
    public async Task ACloseAskedForInsideASplicedFrameGoesOutRightAfterItsLastByteAndNothingTheClientSendsAfterIsPassedOn()
    {
        await using var relay = await SplicedRelay.StartAsync();
        var payload = RandomBytes(4 * MiB);
        var frame = Encode(Binary, payload, masked: true);
        var half = frame.Length - payload.Length + MiB;
        var before = SplicePipe.TotalBytes;

        await relay.ClientPeer.SendAsync(frame.AsMemory(0, half)).AsTask().WaitAsync(Deadline);
        var received = await ReceiveExactlyAsync(relay.BackendPeer, half);
        var closing = relay.Backend.SendCloseAsync(WebSocketCloseStatus.EndpointUnavailable, "going away", CancellationToken.None);
        Assert.False(closing.IsCompleted, "the Close went out inside the frame");

        // The splice writes the Close itself, at the frame's end: the copy loop has nothing to write after it.
        var close = CloseFrame.Build(WebSocketCloseStatus.EndpointUnavailable, "going away", masked: true);
        await relay.ClientPeer.SendAsync(frame.AsMemory(half)).AsTask().WaitAsync(Deadline);
        var rest = await ReceiveExactlyAsync(relay.BackendPeer, frame.Length - half + close.Length);
        Assert.True(await closing.WaitAsync(Deadline));
        Assert.True(SplicePipe.TotalBytes - before >= 4 * MiB - CopyBuffer, $"{SplicePipe.TotalBytes - before} bytes spliced");

        await relay.ClientPeer.SendAsync(Encode(Text, "too late"u8, masked: true).AsMemory()).AsTask().WaitAsync(Deadline);
        await relay.ClientPeer.SendAsync(Encode(Binary, RandomBytes(MiB), masked: true).AsMemory()).AsTask().WaitAsync(Deadline);
        relay.ClientPeer.Shutdown(SocketShutdown.Send);
        Assert.Empty(await ReceiveToEndAsync(relay.BackendPeer));

        var decoded = Decode(Concat(received, rest));
        Assert.Equal(2, decoded.Count);
        Assert.Equal(Binary, decoded[0].Opcode);
        Assert.Equal(payload, decoded[0].Payload);
        Assert.Equal(Close, decoded[1].Opcode);
        Assert.Equal(frame.Length, decoded[1].Offset);
        Assert.True(decoded[1].Masked);
        Assert.Equal((int)WebSocketCloseStatus.EndpointUnavailable, decoded[1].CloseCode);
        Assert.Equal("going away", decoded[1].CloseReason);

        relay.BackendPeer.Shutdown(SocketShutdown.Send);
        await relay.Run.WaitAsync(Deadline);
    }

    [Theory]
    [InlineData(false)] // the end comes while the splice waits for the rest of the payload
    [InlineData(true)] // the end follows the bytes at once, before the relay has passed them all on
    public async Task AClientThatEndsInsideASplicedFrameEndsTheRelayAndTheBackendGetsWhatWasSentThenTheEnd(bool endWithBytes)
    {
        await using var relay = await SplicedRelay.StartAsync();
        var sent = FirstMiBOfA4MiBFrame();
        var before = SplicePipe.TotalBytes;

        await relay.ClientPeer.SendAsync(sent.AsMemory()).AsTask().WaitAsync(Deadline);
        var received = Array.Empty<byte>();
        if (!endWithBytes)
        {
            received = await ReceiveExactlyAsync(relay.BackendPeer, sent.Length);
        }

        relay.ClientPeer.Shutdown(SocketShutdown.Send);
        Assert.Equal(sent, Concat(received, await ReceiveToEndAsync(relay.BackendPeer)));
        Assert.True(SplicePipe.TotalBytes - before >= MiB - CopyBuffer, $"{SplicePipe.TotalBytes - before} bytes spliced");
        await relay.Client.InputEnded.WaitAsync(Deadline);

        // Told of the client's end (half-close), the backend ends too, and with it the relay.
        relay.BackendPeer.Shutdown(SocketShutdown.Send);
        await relay.Run.WaitAsync(Deadline);
    }

    [Fact]
    public async Task AClientThatResetsInsideASplicedFrameEndsTheRelayAndTheBackendGetsTheEnd()
    {
        await using var relay = await SplicedRelay.StartAsync();
        var sent = FirstMiBOfA4MiBFrame();

        await SendAndSeeRelayedAsync(relay, sent);
        relay.ClientPeer.LingerState = new LingerOption(true, 0);
        relay.ClientPeer.Close();

        // The backend did not end its side: only the relay, giving up on the broken WebSocket, ends it.
        Assert.Empty(await ReceiveToEndAsync(relay.BackendPeer));
        await relay.Run.WaitAsync(Deadline);
        Assert.True(relay.Client.InputEnded.IsCompleted);
    }

    [Fact]
    public async Task ABackendThatResetsWhileAClientsSplicedFrameWaitsForItsRestEndsTheRelay()
    {
        await using var relay = await SplicedRelay.StartAsync();
        var sent = FirstMiBOfA4MiBFrame();

        await SendAndSeeRelayedAsync(relay, sent);
        relay.BackendPeer.LingerState = new LingerOption(true, 0);
        relay.BackendPeer.Close();

        // The splice waits on the client's socket without a token: only ending its reads stops it.
        await relay.Run.WaitAsync(Deadline);
        Assert.True(relay.Client.InputEnded.IsCompleted);
        await relay.Client.DisposeAsync();
        Assert.Empty(await ReceiveToEndAsync(relay.ClientPeer));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnIdleRelayHoldsNoCopyBufferAfterALargeMessage(bool splice)
    {
        var enabled = SplicePipe.Enabled;
        SplicePipe.Enabled = splice;
        try
        {
            using var rented = new RentedCopyBuffers();
            await using var relay = await SplicedRelay.StartAsync();
            var message = Encode(Binary, RandomBytes(4 * MiB + 100), masked: true);
            var atBackend = ReceiveExactlyAsync(relay.BackendPeer, message.Length);
            await relay.ClientPeer.SendAsync(message.AsMemory()).AsTask().WaitAsync(Deadline);
            Assert.Equal(message, await atBackend);

            // Back to waiting for the next message without a buffer, as before the first one.
            await Eventually(() => rented.Outstanding == 0, "the relay to give back its copy buffer once the message has passed");

            // And the next message is not stuck behind that wait.
            var next = Encode(Text, "next"u8, masked: true);
            await relay.ClientPeer.SendAsync(next.AsMemory()).AsTask().WaitAsync(Deadline);
            Assert.Equal(next, await ReceiveExactlyAsync(relay.BackendPeer, next.Length));
        }
        finally
        {
            SplicePipe.Enabled = enabled;
        }
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var until = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, $"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }

    /// <summary>The header of a masked 4 MiB binary frame and the first MiB of its payload: a frame the relay is inside of.</summary>
    private static byte[] FirstMiBOfA4MiBFrame()
    {
        var payload = RandomBytes(4 * MiB);
        var frame = Encode(Binary, payload, masked: true);
        return frame[..(frame.Length - payload.Length + MiB)];
    }

    private static async Task SendAndSeeRelayedAsync(SplicedRelay relay, byte[] sent)
    {
        await relay.ClientPeer.SendAsync(sent.AsMemory()).AsTask().WaitAsync(Deadline);
        Assert.Equal(sent, await ReceiveExactlyAsync(relay.BackendPeer, sent.Length));
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
