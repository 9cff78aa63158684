using System.Buffers.Binary;

namespace Passerelle.Proxy.Tests.Tunnels;

/// <summary>
/// WebSocket frames written and read the plain way (whole buffers, no state), independently of the gateway's
/// incremental tracker, to build test traffic and to check what reached the wire.
/// </summary>
internal static class TestFrames
{
    public const int Continuation = 0;
    public const int Text = 1;
    public const int Binary = 2;
    public const int Close = 8;
    public const int Ping = 9;
    public const int Pong = 10;

    public static byte[] Encode(int opcode, ReadOnlySpan<byte> payload, bool fin = true, bool masked = false)
    {
        var length = payload.Length;
        var lengthBytes = length < 126 ? 0 : length <= ushort.MaxValue ? 2 : 8;
        var header = 2 + lengthBytes + (masked ? 4 : 0);
        var frame = new byte[header + length];
        frame[0] = (byte)((fin ? 0x80 : 0) | opcode);
        frame[1] = (byte)((masked ? 0x80 : 0) | (lengthBytes switch { 0 => length, 2 => 126, _ => 127 }));
        if (lengthBytes == 2)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)length);
        }
        else if (lengthBytes == 8)
        {
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)length);
        }

        payload.CopyTo(frame.AsSpan(header));
        if (masked)
        {
            var key = frame.AsSpan(2 + lengthBytes, 4);
            key[0] = 0x37;
            key[1] = 0xfa;
            key[2] = 0x21;
            key[3] = 0x3d;
            for (var i = 0; i < length; i++)
            {
                frame[header + i] ^= key[i & 3];
            }
        }

        return frame;
    }

    public static byte[] Pattern(int length, int seed = 0)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i + seed) % 251);
        }

        return bytes;
    }

    /// <summary>Splits a complete byte sequence into frames; throws if it ends inside one.</summary>
    public static List<Frame> Decode(ReadOnlySpan<byte> wire)
    {
        var frames = new List<Frame>();
        var at = 0;
        while (at < wire.Length)
        {
            if (wire.Length - at < 2)
            {
                throw new InvalidOperationException($"the wire ends inside a header at {at}");
            }

            var first = wire[at];
            var second = wire[at + 1];
            var masked = (second & 0x80) != 0;
            var code = second & 0x7F;
            var header = 2;
            ulong length = (ulong)code;
            if (code == 126)
            {
                length = BinaryPrimitives.ReadUInt16BigEndian(wire[(at + 2)..]);
                header += 2;
            }
            else if (code == 127)
            {
                length = BinaryPrimitives.ReadUInt64BigEndian(wire[(at + 2)..]);
                header += 8;
            }

            byte[]? key = null;
            if (masked)
            {
                key = wire.Slice(at + header, 4).ToArray();
                header += 4;
            }

            if ((ulong)(wire.Length - at - header) < length)
            {
                throw new InvalidOperationException($"the wire ends inside the payload of the frame at {at}");
            }

            var payload = wire.Slice(at + header, (int)length).ToArray();
            if (key is not null)
            {
                for (var i = 0; i < payload.Length; i++)
                {
                    payload[i] ^= key[i & 3];
                }
            }

            frames.Add(new Frame(at, (first & 0x80) != 0, first & 0x0F, masked, payload));
            at += header + (int)length;
        }

        return frames;
    }

    public sealed record Frame(int Offset, bool Fin, int Opcode, bool Masked, byte[] Payload)
    {
        public int CloseCode => BinaryPrimitives.ReadUInt16BigEndian(Payload);

        public string CloseReason => System.Text.Encoding.UTF8.GetString(Payload, 2, Payload.Length - 2);
    }
}
