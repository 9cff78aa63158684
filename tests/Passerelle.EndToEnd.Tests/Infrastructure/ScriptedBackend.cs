using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Passerelle.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A backend "pod" that speaks raw TCP on its own loopback address, port 8888, so that a test decides every byte
/// the gateway receives from it and sees every byte the gateway sends it: the handshake as it arrives, answers a
/// real server would never give. Each connection that opens with a WebSocket handshake is handed to the test's
/// script once its head is read; other requests (the gateway's health probes) get a 200.
/// </summary>
internal sealed class ScriptedBackend : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    private ScriptedBackend(TcpListener listener, Func<ScriptedConnection, Task> script)
    {
        _listener = listener;
        _accepting = AcceptAsync(script);
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    public static ScriptedBackend Start(Func<ScriptedConnection, Task> script)
    {
        var listener = new TcpListener(Loopback.NextAddress(), 8888);
        listener.Start();
        return new ScriptedBackend(listener, script);
    }

    private async Task AcceptAsync(Func<ScriptedConnection, Task> script)
    {
        var running = new List<Task>();
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                running.Add(Task.Run(async () =>
                {
                    using var connection = new ScriptedConnection(client);
                    connection.Head = await connection.ReadHeadAsync();
                    if (RawHttp.Field(connection.Head, "Upgrade") is null)
                    {
                        await connection.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        return;
                    }

                    await script(connection);
                }));
            }
        }
        catch (Exception e) when (e is OperationCanceledException || (e is InvalidOperationException && _stop.IsCancellationRequested))
        {
            // Stopped; a loop that was busy with the last connection meets the stopped listener instead of the token.
        }

        await Task.WhenAll(running);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            await _accepting.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is IOException or SocketException or TimeoutException or OperationCanceledException)
        {
            // A script that failed because the test ended first.
        }
    }
}

/// <summary>One connection to a <see cref="ScriptedBackend"/>.</summary>
internal sealed class ScriptedConnection(TcpClient client) : IDisposable
{
    private readonly NetworkStream _stream = client.GetStream();

    public Socket Socket => client.Client;

    /// <summary>The head of the handshake that opened the connection.</summary>
    public string Head { get; set; } = "";

    /// <summary>Reads up to and including the empty line that ends a request head.</summary>
    public Task<string> ReadHeadAsync(TimeSpan? timeout = null) => RawHttp.ReadHeadAsync(_stream, timeout);

    public Task WriteAsync(string latin1) => WriteAsync(Encoding.Latin1.GetBytes(latin1));

    public async Task WriteAsync(byte[] bytes) => await _stream.WriteAsync(bytes);

    public Task<byte[]> ReadExactlyAsync(int count, TimeSpan? timeout = null) => RawHttp.ReadExactlyAsync(_stream, count, timeout);

    /// <summary>Waits for the peer to end its side (read returns 0); false if bytes came instead.</summary>
    public async Task<bool> ReadsEndAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var buffer = new byte[1];
        return await _stream.ReadAsync(buffer, cts.Token) == 0;
    }

    public void Dispose() => client.Dispose();
}

/// <summary>Raw HTTP/1.1 and WebSocket bytes, for tests that must see exactly what crosses the wire.</summary>
internal static class RawHttp
{
    public static async Task<string> ReadHeadAsync(Stream stream, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || !(head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await stream.ReadAsync(one, cts.Token) == 0)
            {
                throw new IOException($"the connection ended after {head.Count} bytes of a head: {Encoding.Latin1.GetString(head.ToArray())}");
            }

            head.Add(one[0]);
        }

        return Encoding.Latin1.GetString(head.ToArray());
    }

    public static async Task<byte[]> ReadExactlyAsync(Stream stream, int count, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var bytes = new byte[count];
        await stream.ReadExactlyAsync(bytes, cts.Token);
        return bytes;
    }

    /// <summary>Reads until the peer closes; what came before the end.</summary>
    public static async Task<byte[]> ReadToEndAsync(Stream stream, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var all = new MemoryStream();
        await stream.CopyToAsync(all, cts.Token);
        return all.ToArray();
    }

    /// <summary>An unmasked text frame, as a server sends it (RFC 6455 §5.2), for payloads under 126 bytes.</summary>
    public static byte[] ServerTextFrame(string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        return [0x81, (byte)payload.Length, .. payload];
    }

    /// <summary>A masked text frame, as a client sends it, for payloads under 126 bytes.</summary>
    public static byte[] ClientTextFrame(string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        byte[] mask = [0x11, 0x22, 0x33, 0x44];
        var frame = new byte[6 + payload.Length];
        frame[0] = 0x81;
        frame[1] = (byte)(0x80 | payload.Length);
        mask.CopyTo(frame, 2);
        for (var i = 0; i < payload.Length; i++)
        {
            frame[6 + i] = (byte)(payload[i] ^ mask[i % 4]);
        }

        return frame;
    }

    /// <summary>The value of a header field in a head, or null (first occurrence, case-insensitive name).</summary>
    public static string? Field(string head, string name) => Fields(head, name).FirstOrDefault();

    public static IEnumerable<string> Fields(string head, string name) =>
        head.Split("\r\n").Skip(1)
            .Where(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))
            .Select(l => l[(name.Length + 1)..].Trim());

    /// <summary>The body after <paramref name="head"/>, by its Content-Length or chunked framing (which it checks).</summary>
    public static async Task<string> ReadBodyAsync(Stream stream, string head)
    {
        if (Field(head, "Content-Length") is { } length)
        {
            return Encoding.UTF8.GetString(await ReadExactlyAsync(stream, int.Parse(length)));
        }

        Assert.Equal("chunked", Field(head, "Transfer-Encoding"));
        var body = new StringBuilder();
        while (true)
        {
            var size = Convert.ToInt32((await ReadLineAsync(stream)).Split(';')[0], 16);
            if (size == 0)
            {
                Assert.Equal("", await ReadLineAsync(stream));
                return body.ToString();
            }

            body.Append(Encoding.UTF8.GetString(await ReadExactlyAsync(stream, size)));
            Assert.Equal("", await ReadLineAsync(stream));
        }
    }

    private static async Task<string> ReadLineAsync(Stream stream)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var line = new StringBuilder();
        var one = new byte[1];
        while (true)
        {
            await stream.ReadExactlyAsync(one, cts.Token);
            if (one[0] == '\n')
            {
                return line.ToString().TrimEnd('\r');
            }

            line.Append((char)one[0]);
        }
    }
}
