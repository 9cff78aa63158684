using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Passerelle.Bench.Infrastructure;

/// <summary>
/// What the load generator sends, encoded once before a run: the opening handshake and masked client frames (RFC 6455).
/// A fixed mask key is as valid as a random one for a server, and lets a frame be sent again and again unchanged.
/// </summary>
internal static class WebSocketFrames
{
    public const int Text = 1;
    public const int Binary = 2;
    public const int Close = 8;

    // The RFC's sample key and its accept value: the server's answer is checked against it.
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";
    public static readonly byte[] Accept = Encoding.ASCII.GetBytes("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    private static readonly byte[] MaskKey = [0x37, 0xfa, 0x21, 0x3d];

    /// <summary>A close frame with status 1000, masked.</summary>
    public static readonly byte[] NormalClose = Masked(Close, [0x03, 0xe8]);

    public static byte[] Handshake(int port, string path) => Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
        $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\n\r\n"));

    /// <summary>One final frame of <paramref name="opcode"/> carrying <paramref name="payload"/>, masked as a client must.</summary>
    public static byte[] Masked(int opcode, ReadOnlySpan<byte> payload)
    {
        var lengthBytes = payload.Length < 126 ? 0 : payload.Length <= ushort.MaxValue ? 2 : 8;
        var frame = new byte[2 + lengthBytes + 4 + payload.Length];
        frame[0] = (byte)(0x80 | opcode);
        switch (lengthBytes)
        {
            case 0:
                frame[1] = (byte)(0x80 | payload.Length);
                break;
            case 2:
                frame[1] = 0x80 | 126;
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
                break;
            default:
                frame[1] = 0x80 | 127;
                BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payload.Length);
                break;
        }

        var offset = 2 + lengthBytes;
        MaskKey.CopyTo(frame, offset);
        offset += 4;
        for (var i = 0; i < payload.Length; i++)
        {
            frame[offset + i] = (byte)(payload[i] ^ MaskKey[i & 3]);
        }

        return frame;
    }

    /// <summary>A payload of <paramref name="length"/> bytes that is not all one value, so that a shifted echo fails the check.</summary>
    public static byte[] Payload(int length, bool text)
    {
        var payload = new byte[length];
        for (var i = 0; i < length; i++)
        {
            payload[i] = text ? (byte)('a' + (i % 26)) : (byte)(i * 31 + (i >> 8));
        }

        return payload;
    }
}
