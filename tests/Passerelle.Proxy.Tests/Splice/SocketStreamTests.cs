using System.Net;
using System.Net.Sockets;
using Passerelle.Proxy.Splice;

namespace Passerelle.Proxy.Tests.Splice;

/// <summary>A connected socket as the relay reads and writes it, on real loopback connections.</summary>
public sealed class SocketStreamTests
{
    [Fact]
    public async Task AZeroByteReadWaitsForBytesAndTheReadAfterItTakesThem()
    {
        var (local, peer) = await ConnectedPairAsync();
        using var _ = peer;
        await using var stream = new SocketStream(local, ownsSocket: true);

        var waiting = stream.ReadAsync(Memory<byte>.Empty).AsTask();
        Assert.False(waiting.IsCompleted);

        await peer.SendAsync("hello"u8.ToArray());
        Assert.Equal(0, await waiting.WaitAsync(TimeSpan.FromSeconds(5)));

        var buffer = new byte[16];
        Assert.Equal(5, await stream.ReadAsync(buffer));
        Assert.Equal("hello"u8.ToArray(), buffer[..5]);
    }

    [Fact]
    public async Task AReadWithNothingThereWaitsAndTheEndOfInputIsAReadOfZero()
    {
        var (local, peer) = await ConnectedPairAsync();
        await using var stream = new SocketStream(local, ownsSocket: true);

        var pending = stream.ReadAsync(new byte[16]).AsTask();
        Assert.False(pending.IsCompleted);

        peer.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await pending.WaitAsync(TimeSpan.FromSeconds(5)));
        peer.Dispose();
    }

    [Fact]
    public async Task AWriteTheKernelCannotTakeAtOnceCompletesIntactOnceThePeerReads()
    {
        var (local, peer) = await ConnectedPairAsync();
        using var _ = peer;
        local.SendBufferSize = 16 * 1024;
        peer.ReceiveBufferSize = 16 * 1024;
        await using var stream = new SocketStream(local, ownsSocket: true);
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

    [Fact]
    public async Task AWriteToAConnectionThePeerResetFailsAsAnIOException()
    {
        var (local, peer) = await ConnectedPairAsync();
        await using var stream = new SocketStream(local, ownsSocket: true);
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

    [Fact]
    public async Task StoppingAClientSocketsReadsEndsAPendingZeroByteWaitAsAnEnd()
    {
        var (local, peer) = await ConnectedPairAsync();
        using var _ = peer;
        await using var stream = new SocketStream(local, ownsSocket: false);

        var waiting = stream.ReadAsync(Memory<byte>.Empty).AsTask();
        Assert.False(waiting.IsCompleted);
        stream.StopReading();

        Assert.Equal(0, await waiting.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, await stream.ReadAsync(new byte[16]).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        local.Dispose();
    }

    private static async Task<(Socket Local, Socket Peer)> ConnectedPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var local = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accepting = listener.AcceptAsync();
        await local.ConnectAsync(listener.LocalEndPoint!);
        return (local, await accepting);
    }
}
