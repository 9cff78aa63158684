namespace Passerelle.Bench.Infrastructure;

internal enum RawState
{
    Idle,
    Connecting,
    Handshaking,
    Open,
    Closing,
    Closed,
    Failed,
}

/// <summary>
/// One client WebSocket of <see cref="WebSocketLoop"/>: its socket, what it is writing, and the state of the frame
/// parser that checks the echo byte by byte against what was sent. Reused from one connection to the next (churn), so
/// nothing is allocated per message or per connection in a measured loop.
/// </summary>
internal sealed class RawConnection(int id)
{
    public int Id { get; } = id;

    public RawState State { get; internal set; } = RawState.Idle;

    /// <summary>Why it failed (<see cref="RawState.Failed"/>).</summary>
    public string? Failure { get; internal set; }

    /// <summary>The message (payload and opcode) whose echo is awaited, or null when none is.</summary>
    public byte[]? Expected { get; internal set; }

    public int ExpectedOpcode { get; internal set; }

    /// <summary>Stopwatch timestamp of the last send of a message, or of the connect.</summary>
    public long StartedAt { get; internal set; }

    /// <summary>Stopwatch timestamp of the start of the mode's current cycle (churn: just before the connect).</summary>
    public long CycleStartedAt { get; set; }

    internal int Fd = -1;
    internal byte[]? Out;
    internal int OutOffset;
    internal bool WaitingWritable;

    // Handshake answer, until its blank line.
    internal readonly byte[] Response = new byte[2048];
    internal int ResponseLength;

    // Frame parser: a header is gathered in Header, then its payload is compared with Expected from MessageOffset.
    internal readonly byte[] Header = new byte[14];
    internal int HeaderLength;
    internal bool InPayload;
    internal long PayloadLeft;
    internal bool PayloadIsData;
    internal bool FrameFinal;
    internal bool InMessage;
    internal long MessageOffset;
    internal bool CloseReceived;

    internal void Reset()
    {
        State = RawState.Idle;
        Failure = null;
        Expected = null;
        Fd = -1;
        Out = null;
        OutOffset = 0;
        WaitingWritable = false;
        ResponseLength = 0;
        HeaderLength = 0;
        InPayload = false;
        PayloadLeft = 0;
        InMessage = false;
        MessageOffset = 0;
        CloseReceived = false;
    }
}
