using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace Passerelle.Proxy.Tunnels;

/// <summary>The Close frames the gateway sends on its own (RFC 6455 §5.5.1).</summary>
internal static class CloseFrame
{
    /// <summary>A control frame's payload is at most 125 bytes, two of which are the status code.</summary>
    public const int MaxReasonBytes = 123;

    /// <summary>
    /// A complete Close frame with <paramref name="status"/> and as much of <paramref name="reason"/> as fits,
    /// cut at a character boundary. A frame towards a server is masked with a fresh random key, as a client's must
    /// be (RFC 6455 §5.3); a frame towards a client is not masked.
    /// </summary>
    public static byte[] Build(WebSocketCloseStatus status, string reason, bool masked)
    {
        EnsureSendable(status);
        var reasonChars = reason.AsSpan(0, CharsFitting(reason));
        var reasonLength = Encoding.UTF8.GetByteCount(reasonChars);
        var payloadLength = 2 + reasonLength;
        var maskLength = masked ? 4 : 0;
        var frame = new byte[2 + maskLength + payloadLength];
        frame[0] = 0x88; // FIN, opcode 8 (Close)
        frame[1] = (byte)((masked ? 0x80 : 0) | payloadLength);

        var payload = frame.AsSpan(2 + maskLength);
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)status);
        Encoding.UTF8.GetBytes(reasonChars, payload[2..]);

        if (masked)
        {
            var key = frame.AsSpan(2, 4);
            RandomNumberGenerator.Fill(key);
            for (var i = 0; i < payload.Length; i++)
            {
                payload[i] ^= key[i & 3];
            }
        }

        return frame;
    }

    /// <summary>
    /// Rejects the codes that must never appear in a Close frame (1005, 1006, 1015, and anything outside the
    /// ranges RFC 6455 §7.4 and the IANA registry allow an endpoint to send).
    /// </summary>
    public static void EnsureSendable(WebSocketCloseStatus status)
    {
        var code = (int)status;
        var sendable = code is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999);
        if (!sendable)
        {
            throw new ArgumentOutOfRangeException(nameof(status), code, "not a close code an endpoint may send (RFC 6455 §7.4)");
        }
    }

    /// <summary>How many characters of <paramref name="reason"/> fit in 123 UTF-8 bytes without splitting one.</summary>
    private static int CharsFitting(string reason)
    {
        var bytes = 0;
        var i = 0;
        while (i < reason.Length)
        {
            var width = char.IsHighSurrogate(reason[i]) && i + 1 < reason.Length && char.IsLowSurrogate(reason[i + 1]) ? 2 : 1;
            var size = Encoding.UTF8.GetByteCount(reason.AsSpan(i, width));
            if (bytes + size > MaxReasonBytes)
            {
                break;
            }

            bytes += size;
            i += width;
        }

        return i;
    }
}
