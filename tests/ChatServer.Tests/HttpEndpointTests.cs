using System.Net;

namespace ChatServer.Tests;

public sealed class HttpEndpointTests
{
    private static readonly HttpClient Http = new() { Timeout = Deadline.Default };

    [Fact]
    public async Task Health_answers_200_ok()
    {
        await using var server = await RunningChatServer.StartAsync();

        using var response = await Http.GetAsync(new Uri(server.HttpUri, "/health"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Whoami_answers_the_replica_name_set_in_code_over_the_one_in_configuration()
    {
        await using var server = await RunningChatServer.StartAsync(
            options => options.ReplicaName = "replica-from-code",
            "--ChatServer:ReplicaName=replica-from-args");

        Assert.Equal("replica-from-code", await Http.GetStringAsync(new Uri(server.HttpUri, "/whoami")));
    }

    [Fact]
    public async Task Page_is_html_that_opens_the_socket_and_asks_who_served_it()
    {
        await using var server = await RunningChatServer.StartAsync();

        using var response = await Http.GetAsync(server.HttpUri);
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("new WebSocket(", page);
        Assert.Contains("new URL(\"ws\", location.href)", page);
        Assert.Contains("\"wss:\"", page);
        Assert.Contains("fetch(\"whoami\")", page);
    }

    [Fact]
    public async Task Two_replicas_in_one_process_are_independent()
    {
        await using var first = await RunningChatServer.StartAsync(options => options.ReplicaName = "chat-1");
        await using var second = await RunningChatServer.StartAsync(options => options.ReplicaName = "chat-2");
        using var deadline = Deadline.Start();
        using var onFirst = await first.ConnectAsync();
        using var onSecond = await second.ConnectAsync();
        await onFirst.JoinedAsync("first", deadline.Token);
        await onSecond.JoinedAsync("second", deadline.Token);

        await onFirst.SendTextAsync("only for the first room", deadline.Token);
        Assert.Equal("only for the first room", await onFirst.ReceiveTextAsync(deadline.Token));
        await onSecond.SendTextAsync("only for the second room", deadline.Token);

        // In a shared room the first message, broadcast before the second was sent, would arrive first.
        Assert.Equal("only for the second room", await onSecond.ReceiveTextAsync(deadline.Token));
        Assert.Equal("chat-1", await Http.GetStringAsync(new Uri(first.HttpUri, "/whoami")));
        Assert.Equal("chat-2", await Http.GetStringAsync(new Uri(second.HttpUri, "/whoami")));
    }
}
