using System.Net.WebSockets;
using System.Text;

namespace ChatServer.Tests;

public sealed class ChatRoomTests
{
    [Fact]
    public async Task A_lone_client_gets_its_own_message_back()
    {
        await using var server = await RunningChatServer.StartAsync();
        using var deadline = Deadline.Start();
        using var client = await server.ConnectAsync();

        await client.SendTextAsync("is anybody there?", deadline.Token);

        Assert.Equal("is anybody there?", await client.ReceiveTextAsync(deadline.Token));
    }

    [Fact]
    public async Task Two_clients_see_each_others_messages()
    {
        await using var server = await RunningChatServer.StartAsync();
        using var deadline = Deadline.Start();
        using var alice = await server.ConnectAsync();
        using var bob = await server.ConnectAsync();
        await alice.JoinedAsync("alice", deadline.Token);
        await bob.JoinedAsync("bob", deadline.Token);
        await alice.ReceiveTextAsync(deadline.Token); // bob's arrival

        await alice.SendTextAsync("hello bob", deadline.Token);
        Assert.Equal("hello bob", await bob.ReceiveTextAsync(deadline.Token));
        Assert.Equal("hello bob", await alice.ReceiveTextAsync(deadline.Token));

        await bob.SendTextAsync("hello alice", deadline.Token);
        Assert.Equal("hello alice", await alice.ReceiveTextAsync(deadline.Token));
        Assert.Equal("hello alice", await bob.ReceiveTextAsync(deadline.Token));
    }

    [Fact]
    public async Task A_message_at_the_limit_passes_and_one_byte_more_closes_with_1009()
    {
        await using var server = await RunningChatServer.StartAsync(options => options.MaxMessageSize = 1024);
        using var deadline = Deadline.Start();
        using var client = await server.ConnectAsync();
        var atLimit = new string('a', 1024);

        await client.SendTextAsync(atLimit, deadline.Token);
        Assert.Equal(atLimit, await client.ReceiveTextAsync(deadline.Token));
        // Sent in fragments, as the limit is on messages rather than frames.
        await client.SendAsync(Encoding.UTF8.GetBytes(new string('b', 1000)), WebSocketMessageType.Text, endOfMessage: false, deadline.Token);
        await client.SendAsync(Encoding.UTF8.GetBytes(new string('b', 25)), WebSocketMessageType.Text, endOfMessage: true, deadline.Token);
        var received = await client.ReceiveMessageAsync(deadline.Token);

        Assert.Equal(WebSocketMessageType.Close, received.Type);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, received.CloseStatus);
    }

    [Fact]
    public async Task Default_limit_is_64_KiB()
    {
        await using var server = await RunningChatServer.StartAsync();
        using var deadline = Deadline.Start();
        using var client = await server.ConnectAsync();

        var atLimit = string.Concat(Enumerable.Range(0, 64 * 1024).Select(i => (char)('a' + i % 26)));

        await client.SendTextAsync(atLimit, deadline.Token);
        Assert.Equal(atLimit, await client.ReceiveTextAsync(deadline.Token));
        await client.SendTextAsync(atLimit + "!", deadline.Token);
        var received = await client.ReceiveMessageAsync(deadline.Token);

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, received.CloseStatus);
    }

    [Fact]
    public async Task A_binary_message_closes_with_1003()
    {
        await using var server = await RunningChatServer.StartAsync();
        using var deadline = Deadline.Start();
        using var client = await server.ConnectAsync();

        await client.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, endOfMessage: true, deadline.Token);
        var received = await client.ReceiveMessageAsync(deadline.Token);

        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, received.CloseStatus);
    }

    [Fact]
    public async Task A_client_that_does_not_read_is_dropped_while_the_room_carries_on()
    {
        const int Messages = 1000;
        const int MessageSize = 32 * 1024; // in all far more than the socket buffers can hide
        await using var server = await RunningChatServer.StartAsync(options =>
        {
            options.SendQueueCapacity = 8;
            options.CloseTimeout = TimeSpan.FromSeconds(1);
            options.WriteTimeout = TimeSpan.FromSeconds(2);
        });
        using var deadline = Deadline.StartLong();
        using var sleeper = await server.ConnectAsync();
        using var talker = await server.ConnectAsync();
        await sleeper.JoinedAsync("sleeper", deadline.Token);
        await talker.JoinedAsync("talker", deadline.Token);
        await sleeper.ReceiveTextAsync(deadline.Token); // the talker's arrival, the last thing the sleeper reads for a while

        // The talker keeps a few messages in flight only, so that it is never too slow itself.
        var message = new string('x', MessageSize);
        const int Window = 4;
        for (var sent = 0; sent < Messages + Window; sent++)
        {
            if (sent >= Window)
            {
                Assert.Equal(message, await talker.ReceiveTextAsync(deadline.Token));
            }
            if (sent < Messages)
            {
                await talker.SendTextAsync(message, deadline.Token);
            }
        }

        // The talker heard every message back while the sleeper read nothing; now the sleeper finds it was dropped.
        var (sleeperHeard, ending) = await ReadUntilEndAsync(sleeper, message, deadline.Token);
        Assert.True(sleeperHeard < Messages, $"the sleeper received all {Messages} messages, so it was never dropped");
        Assert.True(
            ending is null or WebSocketCloseStatus.PolicyViolation,
            $"the sleeper's connection ended with {ending}, not with 1008 or an abort");
    }

    [Fact]
    public async Task Pings_are_sent_and_a_client_that_stops_answering_them_is_disconnected()
    {
        await using var server = await RunningChatServer.StartAsync(options =>
        {
            options.PingInterval = TimeSpan.FromMilliseconds(100);
            options.PongTimeout = TimeSpan.FromSeconds(1);
        });
        using var deadline = Deadline.Start();
        using var client = await RawWebSocketClient.ConnectAsync(server.Port, deadline.Token);
        Assert.Equal(101, (await client.SendRequestAsync(RawWebSocketClient.Handshake(), deadline.Token)).StatusCode);

        var ping = await client.ReadFrameAsync(deadline.Token);
        Assert.Equal(RawFrame.Ping, ping?.Opcode);
        await client.SendFrameAsync(RawFrame.Pong, ping!.Payload, deadline.Token);

        // A second ping means the answered one did not count against the read deadline.
        var second = await client.ReadFrameAsync(deadline.Token);
        Assert.Equal(RawFrame.Ping, second?.Opcode);

        // Left unanswered, it ends the connection; only more pings may come before that.
        RawFrame? frame;
        while ((frame = await client.ReadFrameAsync(deadline.Token)) is not null)
        {
            Assert.Equal(RawFrame.Ping, frame.Opcode);
        }
    }

    private static async Task<(int Heard, WebSocketCloseStatus? Ending)> ReadUntilEndAsync(
        WebSocket socket, string message, CancellationToken cancellationToken)
    {
        var heard = 0;
        try
        {
            while (true)
            {
                var received = await socket.ReceiveMessageAsync(cancellationToken);
                if (received.Type == WebSocketMessageType.Close)
                {
                    return (heard, received.CloseStatus);
                }
                if (received.Text == message)
                {
                    heard++;
                }
            }
        }
        catch (WebSocketException)
        {
            return (heard, null); // aborted
        }
    }
}
