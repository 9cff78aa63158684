namespace Passerelle.Proxy.Tunnels;

/// <summary>
/// Follows the WebSocket frames (RFC 6455 §5.2) of one direction of a connection from the bytes written into it,
/// in order and in chunks of any size, so that the gateway knows when the stream is between two frames. Only
/// the 2 to 14 byte headers are parsed, one byte at a time and across any chunk split; payloads are skipped by
/// counting. It holds no buffer and allocates nothing, and it never validates: malformed traffic is the peers'
/// business, the tracker only needs to agree with them on where frames end.
/// </summary>
internal struct FrameBoundaryTracker
{
    private ulong _payloadRemaining;
    private ulong _length;
    private int _headerRead;
    private int _headerLength;
    private int _lengthBytes;
    private byte _first;

    /// <summary>True between two frames: no header byte and no payload byte of a frame is outstanding.</summary>
    public readonly bool AtBoundary => _headerRead == 0 && _payloadRemaining == 0;

    /// <summary>Payload bytes of the current frame not seen yet (0 while in a header or at a boundary).</summary>
    public readonly ulong PayloadRemaining => _payloadRemaining;

    /// <summary>Frames whose header has been read completely, in total.</summary>
    public long Frames { readonly get; private set; }

    /// <summary>The opcode (low 4 bits of the first header byte) of the last frame whose header was read completely.</summary>
    public int LastOpcode { readonly get; private set; }

    /// <summary>Whether the last frame whose header was read completely had its FIN bit set.</summary>
    public bool LastFin { readonly get; private set; }

    /// <summary>True once the header of a Close frame (opcode 8) was read: this direction's sender is closing.</summary>
    public bool SawClose { readonly get; private set; }

    /// <summary>Follows all of <paramref name="bytes"/>.</summary>
    public void Advance(ReadOnlySpan<byte> bytes) => Consume(bytes, stopAtBoundary: false);

    /// <summary>
    /// Follows <paramref name="count"/> payload bytes of the current frame passed on without being looked at (spliced);
    /// no more than <see cref="PayloadRemaining"/>.
    /// </summary>
    public void SkipPayload(ulong count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _payloadRemaining);
        _payloadRemaining -= count;
    }

    /// <summary>
    /// Follows <paramref name="bytes"/> up to the end of the frame in progress, and no further. Returns how many
    /// bytes that was: 0 when already at a boundary, all of them when the frame does not end within them.
    /// </summary>
    public int AdvanceToBoundary(ReadOnlySpan<byte> bytes) => AtBoundary ? 0 : Consume(bytes, stopAtBoundary: true);

    private int Consume(ReadOnlySpan<byte> bytes, bool stopAtBoundary)
    {
        var i = 0;
        while (i < bytes.Length)
        {
            if (_payloadRemaining > 0)
            {
                var skip = (int)Math.Min((ulong)(bytes.Length - i), _payloadRemaining);
                i += skip;
                _payloadRemaining -= (ulong)skip;
            }
            else
            {
                ReadHeaderByte(bytes[i++]);
            }

            if (stopAtBoundary && AtBoundary)
            {
                break;
            }
        }

        return i;
    }

    private void ReadHeaderByte(byte value)
    {
        switch (_headerRead)
        {
            case 0:
                _first = value;
                _headerRead = 1;
                return;
            case 1:
                // MASK bit, then a 7-bit length: 0-125 is the length, 126 announces 16 bits, 127 announces 64 bits.
                var code = value & 0x7F;
                _lengthBytes = code switch { 126 => 2, 127 => 8, _ => 0 };
                _length = code < 126 ? (ulong)code : 0;
                _headerLength = 2 + _lengthBytes + ((value & 0x80) != 0 ? 4 : 0);
                _headerRead = 2;
                break;
            default:
                if (_headerRead < 2 + _lengthBytes)
                {
                    _length = (_length << 8) | value; // network byte order
                }

                // else a byte of the masking key: counted, not kept.
                _headerRead++;
                break;
        }

        if (_headerRead == _headerLength)
        {
            _payloadRemaining = _length;
            _headerRead = 0;
            Frames++;
            LastOpcode = _first & 0x0F;
            LastFin = (_first & 0x80) != 0;
            SawClose |= LastOpcode == 0x8;
        }
    }
}
