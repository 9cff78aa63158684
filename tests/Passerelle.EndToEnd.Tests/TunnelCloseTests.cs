using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Passerelle.EndToEnd.Tests.Infrastructure;
using Passerelle.Proxy.Tunnels;

namespace Passerelle.EndToEnd.Tests;

/// <summary>
/// The gateway ends proxied WebSockets politely: a Close frame with 1001 Going Away to the client and to the
/// backend, never in the middle of another frame, spread over time when there are many.
/// </summary>
public sealed class TunnelCloseTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // RFC 8441: WebSocket over an HTTP/2 stream from the client, HTTP/1.1 to the backend
    public async Task ClosingAnEndpointSendsGoingAwayToTheClientAndToTheBackend(bool http2)
    {
        await using var pod = await RecordingBackend.StartAsync("pod-a");
        await using var gateway = await StartGatewayAsync(pod);
        var connections = Connections(gateway);

        using var socket = await WebSockets.ConnectAsync(gateway.Http, http2: http2);
        Assert.Equal("hello from pod-a", await socket.ReceiveTextAsync());
        Assert.Equal("still open", await socket.EchoAsync("still open"));
        await Eventually.TrueAsync(() => connections.CountFor(pod.Endpoint) == 1, "the tunnel to be registered");

        var closing = connections.CloseAsync(pod.Endpoint, WebSocketCloseStatus.EndpointUnavailable, TimeSpan.Zero, TimeSpan.Zero);
        var close = await ReceiveCloseAsync(socket);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, close.CloseStatus);
        Assert.Equal(UpgradedConnections.EndpointReason, close.CloseStatusDescription);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

        await closing.WaitAsync(Deadline);
        var received = await pod.NextCloseAsync();
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, received.Status);
        Assert.Equal(UpgradedConnections.EndpointReason, received.Description);
        await Eventually.TrueAsync(() => connections.Count == 0, "the tunnel to be unregistered");
        Assert.Equal(0, gateway.Logs.Entries.Count(e => e.Event.Id == 1102)); // ended on its own, not aborted
        Assert.Contains(gateway.Logs.Entries, e => e.Event.Id == 1101 && e.Message.Contains(pod.Endpoint, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MessagesStreamedInFragmentsBothWaysWhileClosingArriveIntactThenTheClose(bool http2)
    {
        await using var pod = await RecordingBackend.StartAsync("pod-a");
        await using var gateway = await StartGatewayAsync(pod);
        var connections = Connections(gateway);

        using var socket = await WebSockets.ConnectAsync(gateway.Http, "/stream", http2: http2);
        await Eventually.TrueAsync(() => connections.CountFor(pod.Endpoint) == 1, "the tunnel to be registered");

        // The client streams one endless fragmented message to the backend, as the backend does to the client.
        var stopSending = false;
        var sending = Task.Run(async () =>
        {
            var random = new Random(1);
            long position = 0;
            while (!Volatile.Read(ref stopSending))
            {
                var fragment = Pattern.Next(ref position, random.Next(1, 100_000));
                await socket.SendAsync(fragment, WebSocketMessageType.Binary, endOfMessage: false, CancellationToken.None);
            }
        });

        // Every byte received must be the next of the pattern; the Close comes after whole frames only.
        using var timeout = new CancellationTokenSource(Deadline);
        var buffer = new byte[64 * 1024];
        long received = 0;
        Task? closing = null;
        WebSocketReceiveResult result;
        while (true)
        {
            result = await socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                break;
            }

            Assert.True(Pattern.Matches(buffer.AsSpan(0, result.Count), received), $"corrupted data at byte {received}");
            Assert.False(result.EndOfMessage);
            received += result.Count;
            if (closing is null && received > 4 << 20)
            {
                closing = connections.CloseAsync(pod.Endpoint, WebSocketCloseStatus.EndpointUnavailable, TimeSpan.Zero, TimeSpan.Zero);
            }
        }

        Volatile.Write(ref stopSending, true);
        await sending.WaitAsync(Deadline);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, result.CloseStatus);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        Assert.NotNull(closing);
        await closing.WaitAsync(Deadline);

        var atBackend = await pod.NextCloseAsync();
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, atBackend.Status);
        Assert.True(atBackend.DataIntact, "the backend received corrupted data");
        Assert.True(atBackend.BytesReceived > 0, "the backend received nothing from the client");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AClientStillSendingWhenTheBackendHasEndedStillGetsItsClose(bool http2)
    {
        // The backend answers the Close and ends at once, while the client, not reading yet, keeps sending. The
        // gateway must keep the client's connection until the client has answered: closing a socket with unread
        // data resets it, and a client reset that way can lose the Close waiting in its receive buffer.
        await using var pod = await RecordingBackend.StartAsync("pod-a");
        await using var gateway = await StartGatewayAsync(pod);
        var connections = Connections(gateway);
        using var socket = await WebSockets.ConnectAsync(gateway.Http, "/sink", http2: http2);
        await Eventually.TrueAsync(() => connections.CountFor(pod.Endpoint) == 1, "the tunnel to be registered");

        long position = 0;
        var random = new Random(3);
        Task SendFragmentAsync() => socket.SendAsync(Pattern.Next(ref position, random.Next(1, 20_000)), WebSocketMessageType.Binary, false, CancellationToken.None);
        for (var i = 0; i < 20; i++)
        {
            await SendFragmentAsync();
        }

        var closing = connections.CloseAsync(pod.Endpoint, WebSocketCloseStatus.EndpointUnavailable, TimeSpan.Zero, TimeSpan.Zero);
        var sinkEnded = pod.SinkEnded;
        var sendingSince = Stopwatch.GetTimestamp();
        while (!sinkEnded.IsCompleted)
        {
            Assert.True(Stopwatch.GetElapsedTime(sendingSince) < Deadline, "the backend never ended");
            await SendFragmentAsync().WaitAsync(Deadline);
        }

        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, (await pod.NextCloseAsync()).Status);
        for (var i = 0; i < 100; i++)
        {
            await SendFragmentAsync().WaitAsync(Deadline);
        }

        var close = await ReceiveCloseAsync(socket);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, close.CloseStatus);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        await closing.WaitAsync(Deadline);
        await Eventually.TrueAsync(() => connections.Count == 0, "the tunnel to end");
        Assert.Equal(0, gateway.Logs.Entries.Count(e => e.Event.Id == 1102));
    }

    [Fact]
    public async Task ClosingAllSpreadsThirtyClosesOverThreeSeconds()
    {
        await using var podA = await RecordingBackend.StartAsync("pod-a");
        await using var podB = await RecordingBackend.StartAsync("pod-b");
        await using var gateway = await StartGatewayAsync(podA, podB);
        var connections = Connections(gateway);

        var sockets = new List<ClientWebSocket>();
        try
        {
            for (var i = 0; i < 30; i++)
            {
                var socket = await WebSockets.ConnectAsync(gateway.Http);
                sockets.Add(socket);
                Assert.StartsWith("hello from pod-", await socket.ReceiveTextAsync());
            }

            await Eventually.TrueAsync(() => connections.Count == 30, "30 tunnels registered");
            Assert.Equal(15, connections.CountFor(podA.Endpoint));

            var start = Stopwatch.GetTimestamp();
            var closingAll = connections.CloseAllAsync(WebSocketCloseStatus.EndpointUnavailable, TimeSpan.FromSeconds(3));
            var closes = await Task.WhenAll(sockets.Select(async socket =>
            {
                var close = await ReceiveCloseAsync(socket);
                var at = Stopwatch.GetElapsedTime(start);
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                return (close.CloseStatus, At: at);
            }));
            await closingAll.WaitAsync(Deadline);

            Assert.All(closes, c => Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, c.CloseStatus));

            // Due at 0, 0.1, ... 2.9 s. The test shares its process with the gateway and the pods, and on a small
            // machine the thread pool can stall for a second, which delays some closes and bunches them: so this
            // checks what a stall cannot fake (the span, and many separate arrivals), not exact times.
            var times = closes.Select(c => c.At).Order().ToList();
            var description = string.Join(", ", times.Select(t => t.TotalMilliseconds.ToString("0", System.Globalization.CultureInfo.InvariantCulture)));
            Assert.True(times[^1] - times[0] >= TimeSpan.FromSeconds(1.8), $"closes at {description} ms: not spread over ~3 s");
            Assert.True(times[^1] < TimeSpan.FromSeconds(8), $"closes at {description} ms: too slow");
            var arrivals = 1 + times.Zip(times.Skip(1)).Count(pair => pair.Second - pair.First > TimeSpan.FromMilliseconds(40));
            Assert.True(arrivals >= 8, $"closes at {description} ms: {arrivals} separate arrivals, not progressive");

            await Eventually.TrueAsync(() => podA.Closes.Count + podB.Closes.Count == 30, "both pods to see 30 closes");
            Assert.All(podA.Closes.Concat(podB.Closes), c => Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, c.Status));
            await Eventually.TrueAsync(() => connections.Count == 0, "every tunnel to end");
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    [Fact]
    public async Task AClientThatNeverAnswersIsAbortedAfterTheGrace()
    {
        await using var pod = await RecordingBackend.StartAsync("pod-a", answerClose: false);
        await using var gateway = await StartGatewayAsync(pod);
        var connections = Connections(gateway);
        connections.CloseGrace = TimeSpan.FromMilliseconds(500);

        using var socket = await WebSockets.ConnectAsync(gateway.Http);
        Assert.Equal("hello from pod-a", await socket.ReceiveTextAsync());
        await Eventually.TrueAsync(() => connections.Count == 1, "the tunnel to be registered");

        // Neither the client (which does not answer) nor the backend (which keeps its side open) ends the connection.
        await connections.CloseAsync(pod.Endpoint, WebSocketCloseStatus.EndpointUnavailable, TimeSpan.Zero, TimeSpan.Zero).WaitAsync(Deadline);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, (await ReceiveCloseAsync(socket)).CloseStatus);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, (await pod.NextCloseAsync()).Status);
        await Eventually.TrueAsync(() => connections.Count == 0, "the aborted tunnel to end");
        Assert.Contains(gateway.Logs.Entries, e => e.Event.Id == 1102 && e.Message.Contains(pod.Endpoint, StringComparison.Ordinal));
    }

    private static UpgradedConnections Connections(GatewayUnderTest gateway) => gateway.Host.App.Services.GetRequiredService<UpgradedConnections>();

    private static Task<GatewayUnderTest> StartGatewayAsync(params RecordingBackend[] pods) =>
        GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = Manifests.Service("web", pods.Select(p => p.EndPoint)) + "---\n" + Manifests.Ingress("web", "", "web"),
        });

    /// <summary>Reads until the Close, skipping data; fails after the deadline.</summary>
    private static async Task<WebSocketReceiveResult> ReceiveCloseAsync(WebSocket socket)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return result;
            }
        }
    }

    /// <summary>An endless byte pattern, so that a receiver can check that every byte is the one expected.</summary>
    private static class Pattern
    {
        public static byte[] Next(ref long position, int length)
        {
            var bytes = new byte[length];
            for (var i = 0; i < length; i++)
            {
                bytes[i] = At(position + i);
            }

            position += length;
            return bytes;
        }

        public static bool Matches(ReadOnlySpan<byte> bytes, long position)
        {
            for (var i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] != At(position + i))
                {
                    return false;
                }
            }

            return true;
        }

        private static byte At(long position) => (byte)(position % 251);
    }

    /// <summary>
    /// A Kestrel pod that records the Close each of its WebSockets receives. <c>/ws</c> greets and echoes;
    /// <c>/stream</c> streams one endless fragmented message and checks the one it receives; <c>/sink</c> only
    /// checks what it receives.
    /// </summary>
    private sealed class RecordingBackend : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly SemaphoreSlim _closeArrived = new(0);
        private readonly TaskCompletionSource _sinkEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private RecordingBackend(WebApplication app, IPEndPoint endpoint)
        {
            _app = app;
            EndPoint = endpoint;
        }

        public IPEndPoint EndPoint { get; }

        public string Endpoint => EndPoint.ToString();

        public ConcurrentQueue<ReceivedClose> Closes { get; } = new();

        /// <summary>Completes when a <c>/sink</c> WebSocket has answered a Close and its handler returned.</summary>
        public Task SinkEnded => _sinkEnded.Task;

        public static async Task<RecordingBackend> StartAsync(string name, bool answerClose = true)
        {
            var address = Loopback.NextAddress();
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(address, 8888));
            var app = builder.Build();
            var backend = new RecordingBackend(app, new IPEndPoint(address, 8888));
            app.UseWebSockets();
            app.Map("/ws", async (HttpContext context) =>
            {
                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                await socket.SendAsync(Encoding.UTF8.GetBytes("hello from " + name), WebSocketMessageType.Text, true, context.RequestAborted);
                var buffer = new byte[64 * 1024];
                while (true)
                {
                    var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        backend.Record(new ReceivedClose(result.CloseStatus, result.CloseStatusDescription, true, 0));
                        if (answerClose)
                        {
                            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                            return;
                        }

                        await Task.Delay(Timeout.Infinite, context.RequestAborted);
                    }

                    await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, context.RequestAborted);
                }
            });
            app.Map("/stream", async (HttpContext context) =>
            {
                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                var stop = false;
                var sending = Task.Run(async () =>
                {
                    var random = new Random(2);
                    long position = 0;
                    while (!Volatile.Read(ref stop))
                    {
                        var fragment = Pattern.Next(ref position, random.Next(1, 150_000));
                        await socket.SendAsync(fragment, WebSocketMessageType.Binary, endOfMessage: false, context.RequestAborted);
                    }
                });

                var buffer = new byte[64 * 1024];
                long received = 0;
                var intact = true;
                while (true)
                {
                    var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        Volatile.Write(ref stop, true);
                        await sending;
                        backend.Record(new ReceivedClose(result.CloseStatus, result.CloseStatusDescription, intact, received));
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                        return;
                    }

                    intact &= Pattern.Matches(buffer.AsSpan(0, result.Count), received) && !result.EndOfMessage;
                    received += result.Count;
                }
            });
            app.Map("/sink", async (HttpContext context) =>
            {
                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                var buffer = new byte[64 * 1024];
                long received = 0;
                var intact = true;
                while (true)
                {
                    var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        backend.Record(new ReceivedClose(result.CloseStatus, result.CloseStatusDescription, intact, received));
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                        context.Response.OnCompleted(() =>
                        {
                            backend._sinkEnded.TrySetResult();
                            return Task.CompletedTask;
                        });
                        return;
                    }

                    intact &= Pattern.Matches(buffer.AsSpan(0, result.Count), received);
                    received += result.Count;
                }
            });
            await app.StartAsync();
            return backend;
        }

        /// <summary>The next Close a WebSocket of this pod received, waiting for it with a deadline.</summary>
        public async Task<ReceivedClose> NextCloseAsync()
        {
            Assert.True(await _closeArrived.WaitAsync(Deadline), "the backend received no Close");
            return Closes.Last();
        }

        public async ValueTask DisposeAsync()
        {
            using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await _app.StopAsync(stopping.Token);
            await _app.DisposeAsync();
        }

        private void Record(ReceivedClose close)
        {
            Closes.Enqueue(close);
            _closeArrived.Release();
        }
    }

    private sealed record ReceivedClose(WebSocketCloseStatus? Status, string? Description, bool DataIntact, long BytesReceived);
}
