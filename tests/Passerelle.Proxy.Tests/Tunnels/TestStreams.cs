using System.Diagnostics;

namespace Passerelle.Proxy.Tests.Tunnels;

/// <summary>
/// The far end of a tunnel side: records what is written (and when), serves reads from a fixed buffer, can hold
/// writes until released, and notices two writes at once.
/// </summary>
internal sealed class WireStream(byte[]? readable = null) : Stream
{
    private readonly MemoryStream _written = new();
    private readonly MemoryStream _readable = new(readable ?? []);
    private readonly object _lock = new();
    private int _writing;
    private TaskCompletionSource? _gate;
    private TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public byte[] Written
    {
        get
        {
            lock (_lock)
            {
                return _written.ToArray();
            }
        }
    }

    /// <summary>When the first byte was written, as a <see cref="Stopwatch"/> timestamp; 0 before.</summary>
    public long FirstWriteAt { get; private set; }

    public bool SawConcurrentWrites { get; private set; }

    public bool Disposed { get; private set; }

    /// <summary>From now on, writes wait inside the inner stream until <see cref="Release"/>.</summary>
    public Task HoldWrites()
    {
        _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _entered.Task;
    }

    public void Release() => _gate?.TrySetResult();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Increment(ref _writing) > 1)
        {
            SawConcurrentWrites = true;
        }

        try
        {
            _entered.TrySetResult();
            if (_gate is { } gate)
            {
                await gate.Task.WaitAsync(cancellationToken);
            }

            Append(buffer.Span);
        }
        finally
        {
            Interlocked.Decrement(ref _writing);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Append(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_readable.Read(buffer.Span));

    public override int Read(byte[] buffer, int offset, int count) => _readable.Read(buffer, offset, count);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        Disposed = true;
        base.Dispose(disposing);
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        lock (_lock)
        {
            if (FirstWriteAt == 0 && bytes.Length > 0)
            {
                FirstWriteAt = Stopwatch.GetTimestamp();
            }

            _written.Write(bytes);
        }
    }
}

/// <summary>A read stream and a write stream as one duplex stream, as an upgraded connection is.</summary>
internal sealed class DuplexStream(Stream read, Stream write) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => read.ReadAsync(buffer, cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => read.Read(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => write.WriteAsync(buffer, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => write.Write(buffer, offset, count);

    public override Task FlushAsync(CancellationToken cancellationToken) => write.FlushAsync(cancellationToken);

    public override void Flush() => write.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            read.Dispose();
            write.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>Passes each write on as several writes of random sizes, as a copy loop's reads cut a byte stream.</summary>
internal sealed class ChunkingStream(Stream inner, Random random) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (buffer.Length > 0)
        {
            var size = Math.Min(buffer.Length, random.Next(4) == 0 ? random.Next(1, 16) : random.Next(1, 40000));
            await inner.WriteAsync(buffer[..size], cancellationToken);
            buffer = buffer[size..];
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
