using System.Net.Sockets;
using System.Text.RegularExpressions;
using Passerelle.Proxy.Reactor;
using static Passerelle.Proxy.Tests.Reactor.Loopback;

namespace Passerelle.Proxy.Tests.Reactor;

/// <summary>
/// Bytes moved from one reactor socket to another through a kernel pipe (<see cref="ReactorSocket.ReceiveIntoAsync"/>,
/// <see cref="ReactorSocket.SendFromAsync"/>) on real loopback connections, and the pipes' pool.
/// </summary>
[Collection(SplicePipeCollection.Name)]
public sealed partial class SplicePipeTests
{
    [Fact]
    public async Task EightMiBGoFromOneSocketThroughAPipeToAnotherIntactAndInOrder()
    {
        using var pairs = await TwoPairsAsync();
        var (a, aPeer, b, bPeer) = pairs;
        var sent = RandomBytes(8 * 1024 * 1024);
        var sending = SendThenEndAsync(aPeer, sent);
        var receiving = ReceiveToEndAsync(bPeer);
        var pipe = RentPipe();
        try
        {
            long moved = 0;
            while (true)
            {
                var count = await a.ReceiveIntoAsync(pipe, pipe.Size, CancellationToken.None).AsTask().WaitAsync(Deadline);
                if (count == 0)
                {
                    break;
                }

                Assert.Equal(count, pipe.Buffered);
                await b.SendFromAsync(pipe, CancellationToken.None).AsTask().WaitAsync(Deadline);
                Assert.Equal(0, pipe.Buffered);
                moved += count;
            }

            b.Shutdown(Libc.ShutWr);
            Assert.Equal(sent.Length, moved);
            Assert.Equal(sent, await receiving);
            await sending.WaitAsync(Deadline);
        }
        finally
        {
            pipe.Return();
        }
    }

    [Fact]
    public async Task AReceiveIntoAPipeWaitsForBytesTakesNoMoreThanAskedAndReturnsZeroAtTheEnd()
    {
        using var pairs = await TwoPairsAsync();
        var (a, aPeer, b, bPeer) = pairs;
        var pipe = RentPipe();
        try
        {
            var waiting = a.ReceiveIntoAsync(pipe, 10, CancellationToken.None).AsTask();
            Assert.False(waiting.IsCompleted, "a receive into the pipe completed on an idle socket");

            var first = RandomBytes(100);
            await aPeer.SendAsync(first);
            Assert.Equal(10, await waiting.WaitAsync(Deadline));

            // The relay asks for a frame's payload length only, and must never get a byte of the next frame.
            while (pipe.Buffered < first.Length)
            {
                var count = await a.ReceiveIntoAsync(pipe, 10, CancellationToken.None).AsTask().WaitAsync(Deadline);
                Assert.InRange(count, 1, 10);
            }

            Assert.Equal(first.Length, pipe.Buffered);
            await b.SendFromAsync(pipe, CancellationToken.None).AsTask().WaitAsync(Deadline);
            Assert.Equal(first, await ReceiveExactlyAsync(bPeer, first.Length));

            await aPeer.SendAsync("last"u8.ToArray());
            aPeer.Shutdown(SocketShutdown.Send);
            var last = 0;
            int moved;
            while ((moved = await a.ReceiveIntoAsync(pipe, 1024, CancellationToken.None).AsTask().WaitAsync(Deadline)) > 0)
            {
                last += moved;
            }

            Assert.Equal(4, last);
            Assert.Equal(0, await a.ReceiveIntoAsync(pipe, 1024, CancellationToken.None).AsTask().WaitAsync(Deadline)); // reported again

            await b.SendFromAsync(pipe, CancellationToken.None).AsTask().WaitAsync(Deadline);
            b.Shutdown(Libc.ShutWr);
            Assert.Equal("last"u8.ToArray(), await ReceiveToEndAsync(bPeer));
        }
        finally
        {
            pipe.Return();
        }
    }

    [Fact]
    public async Task ASendFromAPipeWaitsWhileThePeerDoesNotReadAndCompletesIntactOnceItDoes()
    {
        using var pairs = await TwoPairsAsync((local, peer) =>
        {
            local.SendBufferSize = 16 * 1024;
            peer.ReceiveBufferSize = 16 * 1024;
        });
        var (a, aPeer, b, bPeer) = pairs;
        var sent = RandomBytes(4 * 1024 * 1024);
        var sending = SendThenEndAsync(aPeer, sent);
        var pipe = RentPipe();
        try
        {
            long moved = 0;
            Task? blocked = null;
            while (moved < sent.Length && blocked is null)
            {
                var count = await a.ReceiveIntoAsync(pipe, pipe.Size, CancellationToken.None).AsTask().WaitAsync(Deadline);
                Assert.NotEqual(0, count);
                moved += count;
                var send = b.SendFromAsync(pipe, CancellationToken.None);
                if (send.IsCompleted)
                {
                    await send;
                }
                else
                {
                    blocked = send.AsTask();
                }
            }

            Assert.True(blocked is not null, $"{moved} bytes went out to a peer that reads nothing, through 16 KiB buffers");
            Assert.True(pipe.Buffered > 0);

            // Nothing makes room while the peer does not read: the send neither completes nor fails meanwhile.
            Assert.NotSame(blocked, await Task.WhenAny(blocked, Task.Delay(TimeSpan.FromMilliseconds(300))));

            var receiving = ReceiveExactlyAsync(bPeer, sent.Length);
            await blocked.WaitAsync(Deadline);
            Assert.Equal(0, pipe.Buffered);
            while (moved < sent.Length)
            {
                var count = await a.ReceiveIntoAsync(pipe, pipe.Size, CancellationToken.None).AsTask().WaitAsync(Deadline);
                Assert.NotEqual(0, count);
                moved += count;
                await b.SendFromAsync(pipe, CancellationToken.None).AsTask().WaitAsync(Deadline);
            }

            Assert.Equal(sent, await receiving);
            await sending.WaitAsync(Deadline);
        }
        finally
        {
            pipe.Return();
        }
    }

    [Theory]
    [InlineData(true)] // the peer resets the connection
    [InlineData(false)] // the peer closes it; the bytes sent after make its kernel answer with a reset
    public async Task ASendFromAPipeToAConnectionThePeerLeftFailsAsAnIOExceptionWithoutKillingTheProcess(bool reset)
    {
        using var pairs = await TwoPairsAsync();
        var (a, aPeer, b, bPeer) = pairs;
        if (reset)
        {
            bPeer.LingerState = new LingerOption(true, 0);
        }

        bPeer.Dispose();
        using var stopFeeding = new CancellationTokenSource();
        var feeding = FeedAsync(aPeer, stopFeeding.Token);
        var pipe = RentPipe();
        try
        {
            // The peer's end reaches the socket asynchronously: send until the kernel reports it. splice(2) to a
            // broken connection raises SIGPIPE (it has no MSG_NOSIGNAL): the process must ignore it.
            var failure = await Record.ExceptionAsync(async () =>
            {
                var until = DateTime.UtcNow + Deadline;
                while (DateTime.UtcNow < until)
                {
                    if (pipe.Buffered == 0)
                    {
                        Assert.NotEqual(0, await a.ReceiveIntoAsync(pipe, pipe.Size, CancellationToken.None).AsTask().WaitAsync(Deadline));
                    }

                    await b.SendFromAsync(pipe, CancellationToken.None).AsTask().WaitAsync(Deadline);
                }
            });

            var io = Assert.IsType<IOException>(failure);
            var socketError = Assert.IsType<SocketException>(io.InnerException).SocketErrorCode;
            Assert.True(socketError is SocketError.ConnectionReset or SocketError.Shutdown, $"failed with {socketError}");

            // Once the reset is reported, every send meets EPIPE, the error that comes with SIGPIPE.
            if (pipe.Buffered == 0)
            {
                Assert.NotEqual(0, await a.ReceiveIntoAsync(pipe, pipe.Size, CancellationToken.None).AsTask().WaitAsync(Deadline));
            }

            var again = await Assert.ThrowsAsync<IOException>(() => b.SendFromAsync(pipe, CancellationToken.None).AsTask().WaitAsync(Deadline));
            Assert.Equal(SocketError.Shutdown, Assert.IsType<SocketException>(again.InnerException).SocketErrorCode);
        }
        finally
        {
            pipe.Return();
            stopFeeding.Cancel();
            await feeding.WaitAsync(Deadline);
        }
    }

    [Fact]
    public async Task AnEmptyPipeGivenBackIsRentedAgainAndOneGivenBackWithBytesInItIsClosed()
    {
        var first = RentPipe();
        var inode = PipeInode(first.ReadFd);
        Assert.NotNull(inode);
        Assert.Equal(inode, PipeInode(first.WriteFd)); // the two ends of one pipe
        Assert.True(first.Size >= 64 * 1024, $"a pipe of {first.Size} bytes");
        first.Return();

        var again = RentPipe();
        Assert.Same(first, again);
        Assert.Equal(first.ReadFd, again.ReadFd);
        Assert.Equal(inode, PipeInode(again.ReadFd));

        var (a, aPeer) = await AdoptedPairAsync();
        using (a)
        using (aPeer)
        {
            await aPeer.SendAsync("left behind"u8.ToArray());
            Assert.Equal(11, await a.ReceiveIntoAsync(again, 1024, CancellationToken.None).AsTask().WaitAsync(Deadline));
        }

        Assert.Equal(11, again.Buffered);
        again.Return();

        // Closed: the numbers may already name other descriptors, but not this pipe.
        Assert.NotEqual(inode, PipeInode(again.ReadFd));
        Assert.NotEqual(inode, PipeInode(again.WriteFd));
        var next = RentPipe();
        try
        {
            Assert.NotSame(again, next);
            Assert.NotEqual(inode, PipeInode(next.ReadFd));
            Assert.Equal(0, next.Buffered);
        }
        finally
        {
            next.Return();
        }
    }

    [Fact]
    public void NoMoreThanMaxPipesExistAtOnceAndOneGivenBackOrClosedMakesRoomAgain()
    {
        var rented = new List<SplicePipe>();
        try
        {
            for (var i = 0; i < SplicePipe.MaxPipes; i++)
            {
                rented.Add(RentPipe());
            }

            // At the cap the caller copies instead: no descriptors beyond the open-file budget's share for pipes.
            Assert.Null(SplicePipe.Rent());

            var given = rented[^1];
            rented.RemoveAt(rented.Count - 1);
            given.Return();
            var again = RentPipe();
            rented.Add(again);
            Assert.Same(given, again);
            Assert.Null(SplicePipe.Rent());

            // A pipe closed because bytes were left in it frees its place too.
            again.Buffered = 1;
            again.Return();
            rented.RemoveAt(rented.Count - 1);
            var fresh = RentPipe();
            rented.Add(fresh);
            Assert.NotSame(again, fresh);
            Assert.Null(SplicePipe.Rent());
        }
        finally
        {
            foreach (var pipe in rented)
            {
                pipe.Return();
            }
        }
    }

    /// <summary>Two adopted connections, A (whose input is spliced) and B (whose output is), and their peers.</summary>
    private static async Task<Pairs> TwoPairsAsync(Action<Socket, Socket>? configureB = null)
    {
        var (a, aPeer) = await AdoptedPairAsync();
        var (b, bPeer) = await AdoptedPairAsync(configureB);
        return new Pairs(a, aPeer, b, bPeer);
    }

    private sealed record Pairs(ReactorSocket A, Socket APeer, ReactorSocket B, Socket BPeer) : IDisposable
    {
        public void Dispose()
        {
            A.Dispose();
            B.Dispose();
            APeer.Dispose();
            BPeer.Dispose(); // disposing twice (a test that closed it itself) is harmless
        }
    }

    private static SplicePipe RentPipe() => SplicePipe.Rent() ?? throw new InvalidOperationException("no pipe could be made");

    private static async Task SendThenEndAsync(Socket socket, byte[] bytes)
    {
        Assert.Equal(bytes.Length, await socket.SendAsync(bytes));
        socket.Shutdown(SocketShutdown.Send);
    }

    /// <summary>Sends until stopped, or until the connection is gone.</summary>
    private static async Task FeedAsync(Socket socket, CancellationToken stop)
    {
        var chunk = RandomBytes(64 * 1024);
        try
        {
            while (true)
            {
                await socket.SendAsync(chunk, SocketFlags.None, stop);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>The inode of the pipe behind <paramref name="fd"/> (its /proc/self/fd link <c>pipe:[12345]</c>), null if it is not an open pipe.</summary>
    private static long? PipeInode(int fd)
    {
        string? target;
        try
        {
            target = new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }

        var match = target is null ? null : PipeLink().Match(target);
        return match is { Success: true } ? long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : null;
    }

    [GeneratedRegex(@"^pipe:\[(\d+)\]$")]
    private static partial Regex PipeLink();
}
