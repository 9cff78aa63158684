using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Passerelle.Proxy.Reactor;
using static Passerelle.Proxy.Tests.Reactor.Loopback;

namespace Passerelle.Proxy.Tests.Reactor;

/// <summary>
/// A connected socket handed over to an epoll reactor (<see cref="Reactors.Adopt"/>) and used through its
/// <see cref="ReactorSocket"/>, on real loopback connections: who watches the descriptor afterwards (read from
/// /proc/self/fdinfo of every epoll set of the process), closing under a waiter, cancelling a blocked write,
/// half-closing, and many hand-overs in a row reusing the reactors' slots.
/// </summary>
public sealed partial class ReactorSocketTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task AnAdoptedSocketIsWatchedByItsReactorAloneAndStillCarriesBytesBothWays()
    {
        Assert.True(Reactors.IsAvailable, "the epoll reactor is available on Linux");
        var (local, peer) = await ConnectedPairAsync();
        using var _ = peer;
        var inode = SocketInode((int)local.Handle);

        // One async receive that has to wait makes the runtime's socket engine register the socket in its epoll set.
        var buffer = new byte[16];
        var receiving = local.ReceiveAsync(buffer.AsMemory()).AsTask();
        await peer.SendAsync(new byte[] { 42 });
        Assert.Equal(1, await receiving.WaitAsync(Deadline));
        Assert.Equal(42, buffer[0]);

        var reactorEpolls = AllReactorDescriptors();
        var before = EpollsWatching(inode);
        Assert.Contains(before.Keys, epoll => !reactorEpolls.Contains(epoll)); // precondition: the runtime watches it

        local.Blocking = false;
        using var adopted = Reactors.Adopt(local);

        var after = EpollsWatching(inode);
        var (epoll, watched) = Assert.Single(after);
        Assert.Equal(adopted.Reactor.Descriptor, epoll);
        Assert.Contains(epoll, reactorEpolls);
        Assert.DoesNotContain(epoll, before.Keys);
        Assert.Equal(inode, SocketInode(watched)); // the reactor watches a descriptor of this very connection, still open

        await peer.SendAsync("ping"u8.ToArray());
        Assert.Equal("ping", await ReceiveTextAsync(adopted, 4));
        await adopted.SendAsync("pong"u8.ToArray(), CancellationToken.None).AsTask().WaitAsync(Deadline);
        Assert.Equal("pong", await ReceiveTextAsync(peer, 4));
    }

    [Fact]
    public async Task DisposingASocketEndsItsPendingZeroByteWaitAndLaterCallsFailAsDisposed()
    {
        Assert.True(Reactors.IsAvailable, "the epoll reactor is available on Linux");
        var (local, peer) = await ConnectedPairAsync();
        using var _ = peer;
        local.Blocking = false;
        var adopted = Reactors.Adopt(local);

        var waiting = adopted.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        adopted.Dispose();

        // Ends, one way or the other, instead of waiting for bytes that can no longer be read.
        var ended = await Record.ExceptionAsync(() => waiting.WaitAsync(Deadline));
        Assert.False(ended is TimeoutException, "the zero-byte wait is still pending 5 s after the socket was disposed");
        if (ended is null)
        {
            Assert.Equal(0, await waiting);
        }

        // The descriptor is really closed: the peer gets the end of the connection.
        Assert.Equal(0, await peer.ReceiveAsync(new byte[16].AsMemory()).AsTask().WaitAsync(Deadline));

        await AssertDisposedOrEndAsync(() => adopted.ReceiveAsync(new byte[16], CancellationToken.None));
        await AssertDisposedOrEndAsync(() => adopted.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None));
        var sending = await Record.ExceptionAsync(() => adopted.SendAsync("late"u8.ToArray(), CancellationToken.None).AsTask().WaitAsync(Deadline));
        Assert.IsType<ObjectDisposedException>(sending);
        adopted.Dispose(); // a second time: nothing left to do
    }

    [Fact]
    public async Task AWriteTheKernelCannotTakeAtOnceIsCancelledByItsToken()
    {
        Assert.True(Reactors.IsAvailable, "the epoll reactor is available on Linux");
        var (local, peer) = await ConnectedPairAsync();
        using var _ = peer;
        local.SendBufferSize = 16 * 1024;
        peer.ReceiveBufferSize = 16 * 1024;
        local.Blocking = false;
        using var adopted = Reactors.Adopt(local);
        using var cancellation = new CancellationTokenSource();

        // The peer never reads: far more than both kernel buffers hold, the write waits for room that never comes.
        var sending = adopted.SendAsync(new byte[8 * 1024 * 1024], cancellation.Token).AsTask();
        Assert.False(sending.IsCompleted);

        cancellation.Cancel();
        var failure = await Record.ExceptionAsync(() => sending.WaitAsync(Deadline));
        Assert.False(failure is TimeoutException, "the write is still pending 5 s after its token was cancelled");
        var cancelled = Assert.IsAssignableFrom<OperationCanceledException>(failure);
        Assert.Equal(cancellation.Token, cancelled.CancellationToken);
    }

    [Fact]
    public async Task ShuttingDownWritingSendsAFinAndTheSocketStillReadsWhatThePeerSendsAfter()
    {
        Assert.True(Reactors.IsAvailable, "the epoll reactor is available on Linux");
        var (local, peer) = await ConnectedPairAsync();
        using var _ = peer;
        local.Blocking = false;
        using var adopted = Reactors.Adopt(local);

        await adopted.SendAsync("last"u8.ToArray(), CancellationToken.None).AsTask().WaitAsync(Deadline);
        adopted.Shutdown(Libc.ShutWr);
        Assert.Equal("last", await ReceiveTextAsync(peer, 4));
        Assert.Equal(0, await peer.ReceiveAsync(new byte[16].AsMemory()).AsTask().WaitAsync(Deadline)); // the FIN

        // Half-closed: the other direction is untouched, and a read waiting for it is woken by the peer's bytes.
        var buffer = new byte[16];
        var reading = adopted.ReceiveAsync(buffer, CancellationToken.None).AsTask();
        Assert.False(reading.IsCompleted);
        await peer.SendAsync("reply"u8.ToArray());
        Assert.Equal(5, await reading.WaitAsync(Deadline));
        Assert.Equal("reply"u8.ToArray(), buffer[..5]);

        peer.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await adopted.ReceiveAsync(buffer, CancellationToken.None).AsTask().WaitAsync(Deadline));
    }

    [Fact]
    public async Task ManySocketsAdoptedAndDisposedInARowReuseTheReactorsSlotsWithoutCrossTalk()
    {
        Assert.True(Reactors.IsAvailable, "the epoll reactor is available on Linux");
        const int Iterations = 300;
        using var listener = Listen();
        var slots = new HashSet<(int Reactor, uint Slot)>();
        var ids = new HashSet<(int Reactor, ulong Id)>();

        for (var i = 0; i < Iterations; i++)
        {
            var (local, peer) = await ConnectedPairAsync(listener);
            using (peer)
            {
                local.Blocking = false;
                var adopted = Reactors.Adopt(local);
                Assert.True(ids.Add((adopted.Reactor.Descriptor, adopted.Id)), $"iteration {i}: a reactor gave a socket an id it gave before");
                slots.Add((adopted.Reactor.Descriptor, (uint)adopted.Id));

                // The read waits (nothing sent yet), so the bytes reach it through this socket's own epoll edge.
                var sent = BitConverter.GetBytes(i);
                var received = new byte[16];
                var reading = adopted.ReceiveAsync(received, CancellationToken.None).AsTask();
                await peer.SendAsync(sent);
                Assert.Equal(sent.Length, await reading.WaitAsync(Deadline));
                Assert.Equal(sent, received[..sent.Length]);

                await adopted.SendAsync(received.AsMemory(0, sent.Length), CancellationToken.None).AsTask().WaitAsync(Deadline);
                var echoed = new byte[16];
                Assert.Equal(sent.Length, await peer.ReceiveAsync(echoed.AsMemory()).AsTask().WaitAsync(Deadline));
                Assert.Equal(sent, echoed[..sent.Length]);

                adopted.Dispose();
                Assert.Equal(0, await peer.ReceiveAsync(echoed.AsMemory()).AsTask().WaitAsync(Deadline)); // closed, not leaked
            }
        }

        // Each socket was disposed before the next was adopted: the reactors gave the same few slots again and again.
        Assert.True(slots.Count < Iterations / 2, $"{slots.Count} distinct slots for {Iterations} sockets one after another");

        // Two fresh sockets on one reactor, in slots that served many before them, each get exactly their own bytes.
        var (firstLocal, firstPeer) = await ConnectedPairAsync(listener);
        var (secondLocal, secondPeer) = await ConnectedPairAsync(listener);
        using var __ = firstPeer;
        using var ___ = secondPeer;
        firstLocal.Blocking = false;
        secondLocal.Blocking = false;
        using var first = Reactors.Adopt(firstLocal);
        using var second = Reactors.Adopt(secondLocal, first.Reactor);
        Assert.Same(first.Reactor, second.Reactor);

        var firstWait = first.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();
        var secondWait = second.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();
        await secondPeer.SendAsync("bravo"u8.ToArray());
        Assert.Equal(0, await secondWait.WaitAsync(Deadline));
        Assert.False(firstWait.IsCompleted, "the second socket's bytes woke the first socket's wait");
        Assert.Equal("bravo", await ReceiveTextAsync(second, 5));

        await firstPeer.SendAsync("alpha!"u8.ToArray());
        Assert.Equal(0, await firstWait.WaitAsync(Deadline));
        Assert.Equal("alpha!", await ReceiveTextAsync(first, 6));

        await first.SendAsync("to first"u8.ToArray(), CancellationToken.None).AsTask().WaitAsync(Deadline);
        await second.SendAsync("to second"u8.ToArray(), CancellationToken.None).AsTask().WaitAsync(Deadline);
        Assert.Equal("to first", await ReceiveTextAsync(firstPeer, 8));
        Assert.Equal("to second", await ReceiveTextAsync(secondPeer, 9));

        // Nothing more arrived for either: a read with room for more finds nothing and waits (until the socket is disposed).
        var firstMore = first.ReceiveAsync(new byte[16], CancellationToken.None);
        var secondMore = second.ReceiveAsync(new byte[16], CancellationToken.None);
        Assert.False(firstMore.IsCompleted, "bytes nobody sent to the first socket");
        Assert.False(secondMore.IsCompleted, "bytes nobody sent to the second socket");
        first.Dispose();
        second.Dispose();
        await AssertDisposedOrEndAsync(() => firstMore);
        await AssertDisposedOrEndAsync(() => secondMore);
    }

    /// <summary>A call on a disposed socket fails with <see cref="ObjectDisposedException"/> or reports the end of input, within the deadline.</summary>
    private static async Task AssertDisposedOrEndAsync(Func<ValueTask<int>> call)
    {
        var result = -1;
        var failure = await Record.ExceptionAsync(async () => result = await call().AsTask().WaitAsync(Deadline));
        if (failure is not null)
        {
            Assert.IsType<ObjectDisposedException>(failure);
        }
        else
        {
            Assert.Equal(0, result);
        }
    }

    private static async Task<string> ReceiveTextAsync(ReactorSocket socket, int length)
    {
        var buffer = new byte[length];
        var total = 0;
        while (total < length)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(total), CancellationToken.None).AsTask().WaitAsync(Deadline);
            Assert.NotEqual(0, read);
            total += read;
        }

        return System.Text.Encoding.ASCII.GetString(buffer);
    }

    private static async Task<string> ReceiveTextAsync(Socket socket, int length)
    {
        var buffer = new byte[length];
        var total = 0;
        while (total < length)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(total)).AsTask().WaitAsync(Deadline);
            Assert.NotEqual(0, read);
            total += read;
        }

        return System.Text.Encoding.ASCII.GetString(buffer);
    }

    /// <summary>The inode of the socket behind <paramref name="fd"/>, from its /proc/self/fd link <c>socket:[12345]</c>.</summary>
    private static long SocketInode(int fd)
    {
        var target = new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
        var match = target is null ? null : SocketLink().Match(target);
        Assert.True(match is { Success: true }, $"descriptor {fd} is not a socket: {target}");
        return long.Parse(match!.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Every epoll set of the process that watches the file with <paramref name="inode"/>, with the descriptor number it
    /// watches it by: the <c>tfd:</c> lines of /proc/self/fdinfo of each <c>anon_inode:[eventpoll]</c> descriptor.
    /// </summary>
    private static Dictionary<int, int> EpollsWatching(long inode)
    {
        var watching = new Dictionary<int, int>();
        foreach (var entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var epoll))
            {
                continue;
            }

            string[] lines;
            try
            {
                if (new FileInfo(entry).LinkTarget != "anon_inode:[eventpoll]")
                {
                    continue;
                }

                lines = File.ReadAllLines($"/proc/self/fdinfo/{epoll}");
            }
            catch (IOException)
            {
                continue; // closed meanwhile by another test: not one of the sets that matter here
            }

            foreach (var line in lines)
            {
                var match = WatchedLine().Match(line);
                if (match.Success && long.Parse(match.Groups[2].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture) == inode)
                {
                    Assert.True(watching.TryAdd(epoll, int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)),
                        $"epoll set {epoll} watches the socket by two descriptors");
                }
            }
        }

        return watching;
    }

    private static HashSet<int> AllReactorDescriptors() => [.. Reactors.ReactorDescriptors];

    [Fact]
    public async Task AConnectFromAReactorReachesTheListenerAndCarriesBytesBothWays()
    {
        Assert.True(Reactors.IsAvailable);
        using var listener = Listen();
        var accepting = listener.AcceptAsync();
        using var connected = await Reactors.ConnectAsync((IPEndPoint)listener.LocalEndPoint!, reactor: null, CancellationToken.None)
            .AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        using var peer = await accepting.WaitAsync(TimeSpan.FromSeconds(5));

        await connected.SendAsync("ping"u8.ToArray(), CancellationToken.None);
        var buffer = new byte[16];
        Assert.Equal(4, await peer.ReceiveAsync(buffer).WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("ping"u8.ToArray(), buffer[..4]);

        await peer.SendAsync("pong"u8.ToArray());
        Assert.Equal(4, await connected.ReceiveAsync(buffer, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("pong"u8.ToArray(), buffer[..4]);
    }

    [Fact]
    public async Task AConnectToAPortNobodyListensOnFailsAsRefused()
    {
        Assert.True(Reactors.IsAvailable);
        IPEndPoint closed;
        using (var listener = Listen())
        {
            closed = (IPEndPoint)listener.LocalEndPoint!;
        }

        var failure = await Assert.ThrowsAsync<SocketException>(() =>
            Reactors.ConnectAsync(closed, reactor: null, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(SocketError.ConnectionRefused, failure.SocketErrorCode);
    }

    [Fact]
    public async Task AListeningSocketOnAReactorWaitsForAClientAndAcceptsItWithoutBlockingItsThread()
    {
        Assert.True(Reactors.IsAvailable);
        var listening = Listen(); // blocking, as .NET creates it: the hand-over must make it non-blocking
        var endpoint = (IPEndPoint)listening.LocalEndPoint!;
        using var listener = Reactors.Adopt(listening);

        var accepting = listener.AcceptAsync(CancellationToken.None).AsTask();
        Assert.False(accepting.IsCompleted); // nobody connected yet: it waits for the edge instead of blocking

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(endpoint);
        using var accepted = new Socket(new SafeSocketHandle(await accepting.WaitAsync(TimeSpan.FromSeconds(5)), ownsHandle: true));
        Assert.Equal(client.LocalEndPoint, accepted.RemoteEndPoint);

        await client.SendAsync("hi"u8.ToArray());
        var buffer = new byte[8];
        Assert.Equal(2, await accepted.ReceiveAsync(buffer).WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [GeneratedRegex(@"^socket:\[(\d+)\]$")]
    private static partial Regex SocketLink();

    [GeneratedRegex(@"^tfd:\s*(\d+)\s+events:\s*[0-9a-fA-F]+\s+data:\s*[0-9a-fA-F]+\s+pos:\d+\s+ino:([0-9a-fA-F]+)")]
    private static partial Regex WatchedLine();
}
