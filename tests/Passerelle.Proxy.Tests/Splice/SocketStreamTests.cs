using System.Net;
using System.Net.Sockets;
using Passerelle.Proxy.Reactor;
using Passerelle.Proxy.Splice;
using static Passerelle.Proxy.Tests.Reactor.Loopback;

namespace Passerelle.Proxy.Tests.Splice;

/// <summary>
/// A connected socket as the relay reads and writes it, on real loopback connections: over .NET's socket
/// (<see cref="SocketStream"/>) and handed over to an epoll reactor (<see cref="ReactorStream"/>), which must behave alike.
/// </summary>
public sealed class SocketStreamTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AZeroByteReadWaitsForBytesAndTheReadAfterItTakesThem(bool reactor)
    {
        var (local, peer) = await ConnectedPairAsync();
        using var _ = peer;
        await using var stream = Open(local, ownsSocket: true, reactor);

        var waiting = stream.ReadAsync(Memory<byte>.Empty).AsTask();
        Assert.False(waiting.IsCompleted);

        await peer.SendAsync("hello"u8.ToArray());
        Assert.Equal(0, await waiting.WaitAsync(TimeSpan.FromSeconds(5)));

        var buffer = new byte[16];
        Assert.Equal(5, await stream.ReadAsync(buffer));
        Assert.Equal("hello"u8.ToArray(), buffer[..5]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AReadWithNothingThereWaitsAndTheEndOfInputIsAReadOfZero(bool reactor)
    {
        var (local, peer) = await ConnectedPairAsync();
        await using var stream = Open(local, ownsSocket: true, reactor);

        var pending = stream.ReadAsync(new byte[16]).AsTask();
        Assert.False(pending.IsCompleted);

        peer.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await pending.WaitAsync(TimeSpan.FromSeconds(5)));
        peer.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TheEndOfInputThatCameWithTheLastBytesIsFoundAfterThem(bool reactor)
    {
        var (local, peer) = await ConnectedPairAsync();
        await peer.SendAsync("last words"u8.ToArray());
        peer.Shutdown(SocketShutdown.Send); // bytes and FIN arrive together: an edge-triggered reactor sees one edge for both
        await using var stream = Open(local, ownsSocket: true, reactor);

        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        var buffer = new byte[64];
        Assert.Equal(10, await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        peer.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AWriteTheKernelCannotTakeAtOnceCompletesIntactOnceThePeerReads(bool reactor)
    {
        var (local, peer) = await ConnectedPairAsync();
        using var _ = peer;
        local.SendBufferSize = 16 * 1024;
        peer.ReceiveBufferSize = 16 * 1024;
        await using var stream = Open(local, ownsSocket: true, reactor);
        var sent = new byte[4 * 1024 * 1024];
        Random.Shared.NextBytes(sent);

        var writing = stream.WriteAsync(sent).AsTask();
        Assert.False(writing.IsCompleted); // far more than both kernel buffers hold: the rest waits for the reader

        var received = new byte[sent.Length];
        var total = 0;
        while (total < received.Length)
        {
            var read = await peer.ReceiveAsync(received.AsMemory(total)).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.NotEqual(0, read);
            total += read;
        }

        await writing.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(sent, received);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AWriteToAConnectionThePeerResetFailsAsAnIOException(bool reactor)
    {
        var (local, peer) = await ConnectedPairAsync();
        await using var stream = Open(local, ownsSocket: true, reactor);
        peer.LingerState = new LingerOption(true, 0);
        peer.Dispose(); // RST

        // The reset reaches the socket asynchronously: write until the kernel reports it.
        var failure = await Record.ExceptionAsync(async () =>
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (DateTime.UtcNow < deadline)
            {
                await stream.WriteAsync(new byte[1024]);
            }
        });
        Assert.IsType<IOException>(failure);
        Assert.IsType<SocketException>(failure.InnerException);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StoppingAClientSocketsReadsEndsAPendingZeroByteWaitAsAnEnd(bool reactor)
    {
        var (local, peer) = await ConnectedPairAsync();
        using var _ = peer;
        await using var stream = Open(local, ownsSocket: false, reactor);

        var waiting = stream.ReadAsync(Memory<byte>.Empty).AsTask();
        Assert.False(waiting.IsCompleted);
        ((IStoppableReads)stream).StopReading();

        Assert.Equal(0, await waiting.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, await stream.ReadAsync(new byte[16]).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        local.Dispose();
    }

    private static Stream Open(Socket local, bool ownsSocket, bool reactor)
    {
        if (!reactor)
        {
            return new SocketStream(local, ownsSocket);
        }

        Assert.True(Reactors.IsAvailable, "the epoll reactor is available on Linux");
        local.Blocking = false;
        return new ReactorStream(Reactors.Adopt(local), ownsSocket: true); // the .NET socket is closed by the hand-over
    }
}
