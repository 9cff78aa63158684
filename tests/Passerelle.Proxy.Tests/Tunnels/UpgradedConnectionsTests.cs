using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Passerelle.Proxy.Tunnels;
using static Passerelle.Proxy.Tests.Tunnels.TestFrames;

namespace Passerelle.Proxy.Tests.Tunnels;

/// <summary>The registry of proxied WebSockets and the close of a tunnel, on in-memory sides.</summary>
public sealed class UpgradedConnectionsTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public void ATunnelCountsOnceBothSidesAreUpgradedAndUntilTheForwarderIsDone()
    {
        var connections = NewConnections();
        var tunnel = new FakeTunnel(connections, "10.0.0.1:8080", attach: false);
        Assert.Equal(0, connections.Count);

        tunnel.Tunnel.AttachClient(tunnel.ClientWire);
        Assert.Equal(0, connections.Count);
        tunnel.Tunnel.AttachBackend(tunnel.BackendWire);
        Assert.Equal(1, connections.Count);
        Assert.Equal(1, connections.CountFor("10.0.0.1:8080"));
        Assert.Equal(0, connections.CountFor("10.0.0.2:8080"));

        var other = new FakeTunnel(connections, "10.0.0.2:8080");
        Assert.Equal(2, connections.Count);

        tunnel.Tunnel.End();
        other.Tunnel.End();
        Assert.Equal(0, connections.Count);
        Assert.Equal(0, connections.CountFor("10.0.0.1:8080"));
        Assert.True(tunnel.Tunnel.Completion.IsCompleted);
    }

    [Fact]
    public async Task ClosingAnEndpointSendsACloseBothWaysAndAbortsWhatDoesNotEndWithinTheGrace()
    {
        var connections = NewConnections();

        // Long enough that the polite tunnel, ended as soon as its Close is seen, is never aborted on a loaded machine.
        connections.CloseGrace = TimeSpan.FromSeconds(3);
        var polite = new FakeTunnel(connections, "10.0.0.1:8080");
        var stubborn = new FakeTunnel(connections, "10.0.0.1:8080");
        var elsewhere = new FakeTunnel(connections, "10.0.0.9:8080");

        var closing = connections.CloseAsync("10.0.0.1:8080", WebSocketCloseStatus.EndpointUnavailable, TimeSpan.Zero, TimeSpan.Zero);

        // The polite one ends as a peer that answers the Close would make it end.
        await WaitForAsync(() => polite.ClientWire.Written.Length > 0);
        polite.Tunnel.End();
        await closing.WaitAsync(Deadline);

        foreach (var tunnel in new[] { polite, stubborn })
        {
            var toClient = Assert.Single(Decode(tunnel.ClientWire.Written));
            Assert.Equal((Close, false, 1001, UpgradedConnections.EndpointReason), (toClient.Opcode, toClient.Masked, toClient.CloseCode, toClient.CloseReason));
            var toBackend = Assert.Single(Decode(tunnel.BackendWire.Written));
            Assert.Equal((Close, true, 1001, UpgradedConnections.EndpointReason), (toBackend.Opcode, toBackend.Masked, toBackend.CloseCode, toBackend.CloseReason));
        }

        Assert.False(polite.Aborted);
        Assert.True(stubborn.Aborted);
        Assert.Empty(elsewhere.ClientWire.Written);
        Assert.False(elsewhere.Aborted);
    }

    [Fact]
    public async Task TheDrainTimeoutCanBeCancelledAndThenNothingIsClosedAndNoTimerIsLeft()
    {
        var time = new ManualTimeProvider();
        var connections = new UpgradedConnections(NullLogger<UpgradedConnections>.Instance, time);
        var tunnel = new FakeTunnel(connections, "10.0.0.1:8080");
        using var endpointBack = new CancellationTokenSource();

        var closing = connections.CloseAsync("10.0.0.1:8080", WebSocketCloseStatus.EndpointUnavailable, TimeSpan.FromSeconds(30), TimeSpan.Zero, endpointBack.Token);
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(closing.IsCompleted);
        Assert.Equal(1, time.ScheduledTimers);
        endpointBack.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => closing.WaitAsync(Deadline));
        Assert.Equal(0, time.ScheduledTimers);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Empty(tunnel.ClientWire.Written);
        Assert.Equal(1, connections.Count);
    }

    [Fact]
    public async Task AfterTheDrainTimeoutClosesAreSpreadEvenlyAndTunnelsThatEndedMeanwhileAreSkipped()
    {
        var time = new ManualTimeProvider();
        var connections = new UpgradedConnections(NullLogger<UpgradedConnections>.Instance, time) { CloseGrace = TimeSpan.FromMilliseconds(100) };
        var tunnels = Enumerable.Range(0, 5).Select(_ => new FakeTunnel(connections, "10.0.0.1:8080")).ToList();
        var closed = () => tunnels.Select(t => t.ClientWire.Written.Length > 0).ToArray();

        // Drain timeout 30 s, then 5 closes over 1 s: at 0, 0.2, 0.4, 0.6 and 0.8 s.
        var closing = connections.CloseAsync("10.0.0.1:8080", WebSocketCloseStatus.EndpointUnavailable, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromSeconds(29.9));
        Assert.Equal([false, false, false, false, false], closed());

        time.Advance(TimeSpan.FromSeconds(0.1));
        await WaitForAsync(() => closed()[0] && time.ScheduledTimers == 1);
        Assert.Equal([true, false, false, false, false], closed());

        time.Advance(TimeSpan.FromSeconds(0.19));
        Assert.Equal([true, false, false, false, false], closed());
        time.Advance(TimeSpan.FromSeconds(0.01));
        await WaitForAsync(() => closed()[1] && time.ScheduledTimers == 1);
        Assert.Equal([true, true, false, false, false], closed());

        tunnels[4].Tunnel.End(); // it ends on its own before its turn
        time.Advance(TimeSpan.FromSeconds(0.4)); // 0.6 s: two more are due at once
        await WaitForAsync(() => closed()[3] && time.ScheduledTimers == 1);
        Assert.Equal([true, true, true, true, false], closed());

        time.Advance(TimeSpan.FromSeconds(0.2));
        await closing.WaitAsync(Deadline);
        Assert.Equal([true, true, true, true, false], closed());
        Assert.False(tunnels[4].Aborted);
        Assert.Equal(0, time.ScheduledTimers);
    }

    [Fact]
    public async Task CancellingTheSpreadLeavesTheRestOpenAndFinishesTheClosesStarted()
    {
        var time = new ManualTimeProvider();
        var connections = new UpgradedConnections(NullLogger<UpgradedConnections>.Instance, time) { CloseGrace = TimeSpan.FromMilliseconds(100) };
        var tunnels = Enumerable.Range(0, 3).Select(_ => new FakeTunnel(connections, "10.0.0.1:8080")).ToList();
        using var endpointBack = new CancellationTokenSource();

        var closing = connections.CloseAsync("10.0.0.1:8080", WebSocketCloseStatus.EndpointUnavailable, TimeSpan.Zero, TimeSpan.FromSeconds(3), endpointBack.Token);
        await WaitForAsync(() => tunnels[0].ClientWire.Written.Length > 0 && time.ScheduledTimers == 1);
        endpointBack.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => closing.WaitAsync(Deadline));
        Assert.True(tunnels[0].Aborted); // its close was started: it went on to its end (here, the grace)
        Assert.Empty(tunnels[1].ClientWire.Written);
        Assert.Empty(tunnels[2].ClientWire.Written);
        Assert.Equal(0, time.ScheduledTimers);
    }

    [Fact]
    public async Task CloseAllClosesEveryEndpointAndWhatOpensAfterwards()
    {
        var connections = NewConnections();
        connections.CloseGrace = TimeSpan.FromMilliseconds(100);
        var a = new FakeTunnel(connections, "10.0.0.1:8080");
        var b = new FakeTunnel(connections, "10.0.0.2:8080");

        await connections.CloseAllAsync(UpgradedConnections.ServiceRestart, TimeSpan.Zero).WaitAsync(Deadline);
        var late = new FakeTunnel(connections, "10.0.0.3:8080");
        await WaitForAsync(() => late.Aborted);

        foreach (var tunnel in new[] { a, b, late })
        {
            var close = Assert.Single(Decode(tunnel.BackendWire.Written));
            Assert.Equal(1012, close.CloseCode);
            Assert.Equal(UpgradedConnections.ShutdownReason, close.CloseReason);
        }
    }

    [Fact]
    public async Task TheBackendsEndIsHeldBackUntilTheClientHasAnsweredTheClose()
    {
        // Reporting the backend's end makes the forwarder close the client's connection, which Kestrel resets if the
        // client is still sending: the client could lose the Close. So the end waits for the client's answer.
        var connections = NewConnections();
        var tunnel = new FakeTunnel(connections, "10.0.0.1:8080");
        var closing = tunnel.Tunnel.CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "", TimeSpan.FromMinutes(1));
        await WaitForAsync(() => tunnel.ClientWire.Written.Length > 0 && tunnel.BackendWire.Written.Length > 0);

        var backend = tunnel.Tunnel.BackendSide!;
        Assert.Equal(0, await backend.ReadAsync(Memory<byte>.Empty)); // a zero-byte read is not the end
        var end = backend.ReadAsync(new byte[100]).AsTask(); // the backend has closed its side
        Assert.False(end.IsCompleted);

        // The client still sends a message, then its Close: both are discarded (the backend has its Close), the
        // Close is noticed.
        await backend.WriteAsync(Encode(Text, "late"u8, masked: true));
        Assert.False(end.IsCompleted);
        await backend.WriteAsync(Encode(Close, [0x03, 0xE8], masked: true));
        Assert.Equal(0, await end.WaitAsync(Deadline));
        Assert.Equal(1001, Assert.Single(Decode(tunnel.BackendWire.Written)).CloseCode);

        tunnel.Tunnel.End();
        await closing.WaitAsync(Deadline);
        Assert.False(tunnel.Aborted);
    }

    [Fact]
    public async Task TheBackendsEndIsHeldBackOnlyShortlyForAClientThatNeverAnswers()
    {
        var connections = NewConnections();
        var tunnel = new FakeTunnel(connections, "10.0.0.1:8080");
        var closing = tunnel.Tunnel.CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "", TimeSpan.FromMinutes(1));
        await WaitForAsync(() => tunnel.ClientWire.Written.Length > 0 && tunnel.BackendWire.Written.Length > 0);

        var waited = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(0, await tunnel.Tunnel.BackendSide!.ReadAsync(new byte[100]).AsTask().WaitAsync(Deadline));
        Assert.True(waited.Elapsed >= WebSocketTunnel.MaxClientAnswerWait - TimeSpan.FromMilliseconds(50), $"held back {waited.Elapsed}");
        Assert.False(tunnel.Aborted);

        tunnel.Tunnel.End();
        await closing.WaitAsync(Deadline);
    }

    [Fact]
    public async Task TheBackendsEndIsNotHeldBackWhenTheGatewayClosesNothing()
    {
        var connections = NewConnections();
        var tunnel = new FakeTunnel(connections, "10.0.0.1:8080");
        Assert.Equal(0, await tunnel.Tunnel.BackendSide!.ReadAsync(new byte[100]).AsTask().WaitAsync(Deadline));

        // Nor when the client has closed its own side (no Close frame will come).
        var other = new FakeTunnel(connections, "10.0.0.1:8080");
        var closing = other.Tunnel.CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "", TimeSpan.FromMinutes(1));
        await WaitForAsync(() => other.ClientWire.Written.Length > 0 && other.BackendWire.Written.Length > 0);
        var end = other.Tunnel.BackendSide!.ReadAsync(new byte[100]).AsTask();
        Assert.Equal(0, await other.Tunnel.ClientSide!.ReadAsync(new byte[100]));
        Assert.Equal(0, await end.WaitAsync(Deadline));
        other.Tunnel.End();
        await closing.WaitAsync(Deadline);
    }

    [Fact]
    public async Task AnAbortNeverReachesARequestTheForwarderIsDoneWith()
    {
        var connections = NewConnections();
        var tunnel = new FakeTunnel(connections, "10.0.0.1:8080");
        tunnel.Tunnel.End();

        await tunnel.Tunnel.CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "", TimeSpan.Zero).WaitAsync(Deadline);
        Assert.False(tunnel.Aborted);
        Assert.Empty(tunnel.ClientWire.Written);
    }

    [Fact]
    public async Task CancellingATunnelsCloseAbortsIt()
    {
        var connections = NewConnections();
        var tunnel = new FakeTunnel(connections, "10.0.0.1:8080");
        using var hurry = new CancellationTokenSource();

        var closing = tunnel.Tunnel.CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "", TimeSpan.FromHours(1), hurry.Token);
        await WaitForAsync(() => tunnel.ClientWire.Written.Length > 0 && tunnel.BackendWire.Written.Length > 0);
        hurry.Cancel();
        await closing.WaitAsync(Deadline);
        Assert.True(tunnel.Aborted);
    }

    [Theory]
    [InlineData(999)]
    [InlineData(1004)]
    [InlineData(1005)]
    [InlineData(1006)]
    [InlineData(1015)]
    [InlineData(2000)]
    [InlineData(5000)]
    public async Task CodesThatMustNotBeSentAreRefused(int code)
    {
        var connections = NewConnections();
        Assert.Throws<ArgumentOutOfRangeException>(() => CloseFrame.Build((WebSocketCloseStatus)code, "", masked: false));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => connections.CloseAllAsync((WebSocketCloseStatus)code, TimeSpan.Zero));
    }

    [Fact]
    public void TheReasonIsCutToFitAControlFrameWithoutSplittingACharacter()
    {
        var reason = new string('é', 70); // 140 bytes in UTF-8
        var frame = Assert.Single(Decode(CloseFrame.Build(WebSocketCloseStatus.EndpointUnavailable, reason, masked: true)));
        Assert.Equal(new string('é', 61), frame.CloseReason); // 122 bytes: a 62nd would make 124
        Assert.True(frame.Payload.Length <= 125);

        var emoji = string.Concat(Enumerable.Repeat("😀", 40)); // 4 bytes each
        Assert.Equal(string.Concat(Enumerable.Repeat("😀", 30)),
            Assert.Single(Decode(CloseFrame.Build(UpgradedConnections.ServiceRestart, emoji, masked: false))).CloseReason);
        Assert.Equal(Encoding.UTF8.GetBytes("x"), Decode(CloseFrame.Build(WebSocketCloseStatus.NormalClosure, "x", masked: false))[0].Payload[2..]);
    }

    private static UpgradedConnections NewConnections() => new(NullLogger<UpgradedConnections>.Instance);

    private static Task WaitForAsync(Func<bool> condition) =>
        Task.Run(async () =>
        {
            while (!condition())
            {
                await Task.Delay(5);
            }
        }).WaitAsync(Deadline);

    /// <summary>A tunnel over in-memory sides, on a request whose abort is recorded.</summary>
    private sealed class FakeTunnel : IHttpRequestLifetimeFeature
    {
        public FakeTunnel(UpgradedConnections connections, string endpoint, bool attach = true)
        {
            var context = new DefaultHttpContext();
            context.Features.Set<IHttpRequestLifetimeFeature>(this);
            Tunnel = new WebSocketTunnel(connections, context, endpoint, "default/web", NullLogger.Instance);
            if (attach)
            {
                Tunnel.AttachClient(ClientWire);
                Tunnel.AttachBackend(BackendWire);
            }
        }

        public WebSocketTunnel Tunnel { get; }

        public WireStream ClientWire { get; } = new();

        public WireStream BackendWire { get; } = new();

        public bool Aborted { get; private set; }

        public CancellationToken RequestAborted { get; set; }

        public void Abort() => Aborted = true;
    }
}
