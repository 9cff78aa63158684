using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace ChatServer.Tests;

internal sealed record RawHttpResponse(int StatusCode, IReadOnlyDictionary<string, string> Headers);

internal sealed record RawFrame(int Opcode, byte[] Payload)
{
    public const int Text = 0x1, Close = 0x8, Ping = 0x9, Pong = 0xA;
}

/// <summary>
/// Speaks RFC 6455 by hand over a TcpClient, to send what well-behaved clients refuse to send
/// (a 3-character key, like the founding document's curl test) and to see control frames.
/// </summary>
internal sealed class RawWebSocketClient : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawWebSocketClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawWebSocketClient> ConnectAsync(int port, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port, cancellationToken);
        return new RawWebSocketClient(tcp);
    }

    /// <summary>The founding document's curl test, header for header, unless told otherwise.</summary>
    public static string Handshake(string key = "123", string host = "localhost", string? origin = "http://localhost", string version = "13", string connection = "Upgrade") =>
        $"GET /ws HTTP/1.1\r\nConnection: {connection}\r\nUpgrade: websocket\r\n"
        + (origin is null ? "" : $"Origin: {origin}\r\n")
        + $"Host: {host}\r\nSec-Websocket-Version: {version}\r\nSec-WebSocket-Key: {key}\r\n\r\n";

    /// <summary>What the RFC 6455 §4.2.2 computation gives, done independently of the server's code.</summary>
    public static string ExpectedAccept(string key) =>
        Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));

    public async Task<RawHttpResponse> SendRequestAsync(string request, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken);
        // Byte by byte, so that no frame following the head is swallowed.
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || !(head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await _stream.ReadAsync(one, cancellationToken) == 0)
            {
                throw new EndOfStreamException($"connection closed after {head.Count} bytes of response head");
            }
            head.Add(one[0]);
        }
        var lines = Encoding.ASCII.GetString(head.ToArray()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            headers[line[..colon]] = line[(colon + 1)..].Trim();
        }
        return new RawHttpResponse(int.Parse(lines[0].Split(' ')[1]), headers);
    }

    /// <summary>Sends one masked frame, as RFC 6455 §5.3 requires of clients.</summary>
    public async Task SendFrameAsync(int opcode, byte[] payload, CancellationToken cancellationToken)
    {
        if (payload.Length > 125)
        {
            throw new ArgumentException("only short frames are needed here", nameof(payload));
        }
        var mask = RandomNumberGenerator.GetBytes(4);
        var frame = new byte[2 + 4 + payload.Length];
        frame[0] = (byte)(0x80 | opcode);
        frame[1] = (byte)(0x80 | payload.Length);
        mask.CopyTo(frame, 2);
        for (var i = 0; i < payload.Length; i++)
        {
            frame[6 + i] = (byte)(payload[i] ^ mask[i % 4]);
        }
        await _stream.WriteAsync(frame, cancellationToken);
    }

    /// <summary>Reads one frame; null when the server has closed or reset the connection.</summary>
    public async Task<RawFrame?> ReadFrameAsync(CancellationToken cancellationToken)
    {
        try
        {
            var header = new byte[2];
            if (!await ReadExactlyOrEndAsync(header, cancellationToken))
            {
                return null;
            }
            long length = header[1] & 0x7F;
            if (length >= 126)
            {
                var extended = new byte[length == 126 ? 2 : 8];
                await _stream.ReadExactlyAsync(extended, cancellationToken);
                length = length == 126 ? BinaryPrimitives.ReadUInt16BigEndian(extended) : BinaryPrimitives.ReadInt64BigEndian(extended);
            }
            Assert.True((header[1] & 0x80) == 0, "a server must not mask its frames (RFC 6455 §5.1)");
            var payload = new byte[length];
            await _stream.ReadExactlyAsync(payload, cancellationToken);
            return new RawFrame(header[0] & 0x0F, payload);
        }
        catch (IOException)
        {
            return null; // reset
        }
    }

    private async Task<bool> ReadExactlyOrEndAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        var read = await _stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
        return read == buffer.Length;
    }

    public void Dispose() => _tcp.Dispose();
}
