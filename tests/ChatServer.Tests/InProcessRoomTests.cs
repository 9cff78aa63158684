namespace ChatServer.Tests;

/// <summary>Replicas of one process sharing an <see cref="InProcessRoom"/>, as the gateway's demo runs them.</summary>
public sealed class InProcessRoomTests
{
    [Fact]
    public async Task Replicas_sharing_an_in_process_room_are_one_room_and_others_are_not_in_it()
    {
        var room = new InProcessRoom();
        await using var first = await RunningChatServer.StartInRoomAsync(room, options => options.ReplicaName = "room-1");
        await using var second = await RunningChatServer.StartInRoomAsync(room, options => options.ReplicaName = "room-2");
        await using var elsewhere = await RunningChatServer.StartAsync(options => options.ReplicaName = "elsewhere");
        using var deadline = Deadline.Start();
        using var alice = await first.ConnectAsync();
        using var bob = await second.ConnectAsync();
        using var carol = await elsewhere.ConnectAsync();
        await alice.JoinedWithAsync(bob, deadline.Token);

        await alice.SaysToAsync(bob, "hello from the first replica", deadline.Token);
        await bob.SaysToAsync(alice, "hello from the second replica", deadline.Token);
        await alice.SaysToAsync(bob, "and nothing else came", deadline.Token);

        // Had anything from the shared room reached the replica outside it, it would arrive first.
        await carol.SendTextAsync("only carol's room", deadline.Token);
        Assert.Equal("only carol's room", await carol.ReceiveTextAsync(deadline.Token));
    }

    [Fact]
    public async Task A_replica_that_stops_leaves_the_room_without_holding_up_the_others()
    {
        // More messages than a replica's queue in the room holds: were the stopped one still a member, the room would stall.
        const int Messages = 1100;
        var room = new InProcessRoom();
        await using var staying = await RunningChatServer.StartInRoomAsync(room, options => options.ReplicaName = "staying");
        var leaving = await RunningChatServer.StartInRoomAsync(room, options => options.ReplicaName = "leaving");
        using var deadline = Deadline.StartLong();
        using var alice = await staying.ConnectAsync();
        await alice.JoinedAsync("alice", deadline.Token);

        await leaving.DisposeAsync();

        for (var i = 0; i < Messages; i++)
        {
            await alice.SendTextAsync($"message {i}", deadline.Token);
            Assert.Equal($"message {i}", await alice.ReceiveTextAsync(deadline.Token));
        }
    }
}
