using System.Buffers;
using System.IO.Pipelines;
using Passerelle.Proxy.Splice;

namespace Passerelle.Proxy.Tests.Splice;

/// <summary>The client connection's transport pipes as the relay reads and writes them.</summary>
public sealed class TransportStreamTests
{
    [Fact]
    public async Task AZeroByteReadWaitsForDataAndConsumesNothing()
    {
        var (stream, fromClient, _) = Open();
        var waiting = stream.ReadAsync(Memory<byte>.Empty).AsTask();
        Assert.False(waiting.IsCompleted);

        await fromClient.WriteAsync("hello"u8.ToArray());
        Assert.Equal(0, await waiting.WaitAsync(TimeSpan.FromSeconds(5)));

        var buffer = new byte[16];
        Assert.Equal(5, await stream.ReadAsync(buffer));
        Assert.Equal("hello"u8.ToArray(), buffer[..5]);
    }

    [Fact]
    public async Task StopReadingEndsThePendingReadAndEveryLaterOneWithoutAnException()
    {
        var (stream, fromClient, _) = Open();
        var pending = stream.ReadAsync(new byte[16]).AsTask();
        Assert.False(pending.IsCompleted);

        stream.StopReading();
        Assert.Equal(0, await pending.WaitAsync(TimeSpan.FromSeconds(5)));

        await fromClient.WriteAsync("late"u8.ToArray());
        Assert.Equal(0, await stream.ReadAsync(new byte[16]));
    }

    [Fact]
    public async Task TheEndOfTheClientsInputIsAReadOfZero()
    {
        var (stream, fromClient, _) = Open();
        await fromClient.WriteAsync("last"u8.ToArray());
        await fromClient.CompleteAsync();

        var buffer = new byte[16];
        Assert.Equal(4, await stream.ReadAsync(buffer));
        Assert.Equal(0, await stream.ReadAsync(buffer));
    }

    [Fact]
    public async Task WritesReachTheOutputFlushedAndFailOnceItsReaderIsGone()
    {
        var (stream, _, toClient) = Open();
        await stream.WriteAsync("frame"u8.ToArray());
        var read = await toClient.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("frame"u8.ToArray(), read.Buffer.ToArray());
        toClient.AdvanceTo(read.Buffer.End);

        await toClient.CompleteAsync();
        await Assert.ThrowsAsync<IOException>(async () => await stream.WriteAsync("more"u8.ToArray()));
    }

    /// <summary>A stream over a transport, the client's end of its input pipe, and the client's end of its output pipe.</summary>
    private static (TransportStream Stream, PipeWriter FromClient, PipeReader ToClient) Open()
    {
        var input = new Pipe();
        var output = new Pipe();
        var stream = new TransportStream(new Transport(input.Reader, output.Writer), socket: null);
        return (stream, input.Writer, output.Reader);
    }

    private sealed class Transport(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
