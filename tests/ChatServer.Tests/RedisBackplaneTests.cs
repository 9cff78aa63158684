using System.Net;
using System.Net.WebSockets;
using StackExchange.Redis;

namespace ChatServer.Tests;

/// <summary>Replicas sharing a real redis-server, which is killed and started again under their feet.</summary>
public sealed class RedisBackplaneTests
{
    private static readonly HttpClient Http = new() { Timeout = Deadline.Default };

    [Fact]
    public async Task Replicas_sharing_redis_are_one_room_each_carries_on_alone_while_it_is_down_and_they_rejoin_when_it_is_back()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var first = await StartReplicaAsync("redis-1", redis.Configuration);
        await using var second = await StartReplicaAsync("redis-2", redis.Configuration);
        using (var connecting = Deadline.StartLong())
        {
            await first.Logs.WaitForAsync("RedisConnected", connecting.Token);
            await second.Logs.WaitForAsync("RedisConnected", connecting.Token);
        }
        using var deadline = Deadline.Start();
        using var alice = await first.ConnectAsync();
        using var bob = await second.ConnectAsync();
        await alice.JoinedWithAsync(bob, deadline.Token);

        // One room: a message reaches the clients of both replicas, the sender's own replica included, once.
        await alice.SaysToAsync(bob, "hello from the first replica", deadline.Token);
        await bob.SaysToAsync(alice, "hello from the second replica", deadline.Token);

        await redis.KillAsync();

        // Each replica goes on serving its own members, and what they say stays on their replica.
        for (var i = 1; i <= 3; i++)
        {
            await alice.SendTextAsync($"alice alone {i}", deadline.Token);
            await bob.SendTextAsync($"bob alone {i}", deadline.Token);
            Assert.Equal($"alice alone {i}", await alice.ReceiveTextAsync(deadline.Token));
            Assert.Equal($"bob alone {i}", await bob.ReceiveTextAsync(deadline.Token));
        }
        await first.Logs.WaitForAsync("RedisLost", deadline.Token);
        await second.Logs.WaitForAsync("RedisLost", deadline.Token);
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync(new Uri(first.HttpUri, "/health"), deadline.Token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync(new Uri(second.HttpUri, "/health"), deadline.Token)).StatusCode);

        await redis.StartAsync(); // on the same port
        using (var reconnecting = Deadline.StartLong())
        {
            await first.Logs.WaitForAsync("RedisRestored", reconnecting.Token);
            await second.Logs.WaitForAsync("RedisRestored", reconnecting.Token);
        }

        // One room again. Had anything said while apart been sent on now, or twice, it would arrive before these.
        using var rejoined = Deadline.Start();
        await alice.SaysToAsync(bob, "the first replica is back", rejoined.Token);
        await bob.SaysToAsync(alice, "the second replica is back", rejoined.Token);
        await alice.SaysToAsync(bob, "and nothing else came", rejoined.Token);

        // One warning for the outage however many messages it saw, and one information for its end.
        foreach (var replica in new[] { first, second })
        {
            Assert.True(replica.Logs.Count("RedisLost") == 1, $"expected one RedisLost:\n{replica.Logs.Dump()}");
            Assert.True(replica.Logs.Count("RedisRestored") == 1, $"expected one RedisRestored:\n{replica.Logs.Dump()}");
        }
    }

    [Fact]
    public async Task A_replica_started_while_redis_is_unreachable_serves_its_members_and_joins_the_room_once_redis_is_up()
    {
        await using var redis = RedisServer.OnFreePort(); // nothing listens there yet
        // Any StackExchange.Redis option may follow host:port.
        await using var early = await StartReplicaAsync("early", redis.Configuration + ",connectTimeout=1000");
        using var deadline = Deadline.StartLong();
        using var alice = await early.ConnectAsync();

        await alice.SendTextAsync("anybody there?", deadline.Token);
        Assert.Equal("anybody there?", await alice.ReceiveTextAsync(deadline.Token));
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync(new Uri(early.HttpUri, "/health"), deadline.Token)).StatusCode);
        await early.Logs.WaitForAsync("RedisUnreachable", deadline.Token);

        await redis.StartAsync();
        await early.Logs.WaitForAsync("RedisConnected", deadline.Token);
        await using var late = await StartReplicaAsync("late", redis.Configuration);
        await late.Logs.WaitForAsync("RedisConnected", deadline.Token);
        using var bob = await late.ConnectAsync();
        await bob.JoinedAsync("bob", deadline.Token);
        Assert.StartsWith("bob is here", await alice.ReceiveTextAsync(deadline.Token));

        await alice.SaysToAsync(bob, "hello from the early replica", deadline.Token);
        await bob.SaysToAsync(alice, "hello from the late replica", deadline.Token);
        await alice.SaysToAsync(bob, "and nothing else came", deadline.Token);
        Assert.Equal(0, early.Logs.Count("RedisLost")); // never had it, so never lost it
    }

    [Fact]
    public async Task The_room_is_the_configured_channel_and_text_published_there_by_another_program_reaches_the_members()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var replica = await StartReplicaAsync("listener", redis.Configuration, "--ChatServer:RedisChannel=tests:another-room");
        using var deadline = Deadline.StartLong();
        await replica.Logs.WaitForAsync("RedisConnected", deadline.Token);
        using var alice = await replica.ConnectAsync();
        await alice.JoinedAsync("alice", deadline.Token);
        await using var outsider = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        var publisher = outsider.GetSubscriber();
        var room = RedisChannel.Literal("tests:another-room");

        Assert.Equal(0, await publisher.PublishAsync(RedisChannel.Literal("chat:room"), "into the default room"));
        // Neither a replica's message nor text: not for a WebSocket text frame.
        Assert.Equal(1, await publisher.PublishAsync(room, new byte[] { 0xFF, 0x00, 0x01 }));
        Assert.Equal(1, await publisher.PublishAsync(room, "maintenance at noon"));

        Assert.Equal("maintenance at noon", await alice.ReceiveTextAsync(deadline.Token));
    }

    private static Task<RunningChatServer> StartReplicaAsync(string name, string redis, params string[] args) =>
        RunningChatServer.StartAsync(options => options.ReplicaName = name, ["--redis", redis, .. args]);
}
