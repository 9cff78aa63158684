using System.Net;
using System.Net.WebSockets;

namespace ChatServer.Tests;

public sealed class ShutdownTests
{
    [Fact]
    public async Task Stopping_closes_every_client_with_1001_and_health_answers_503_meanwhile()
    {
        // The server waits up to CloseTimeout for the clients' answers: ample time to look at /health.
        await using var server = await RunningChatServer.StartAsync(options => options.CloseTimeout = Deadline.Long);
        using var deadline = Deadline.Start();
        using var first = await server.ConnectAsync();
        using var second = await server.ConnectAsync();
        await first.JoinedAsync("first", deadline.Token);
        await second.JoinedAsync("second", deadline.Token);
        await first.ReceiveTextAsync(deadline.Token); // second's arrival
        using var http = new HttpClient { Timeout = Deadline.Default };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(server.HttpUri, "/health"))).StatusCode);

        server.App.Lifetime.StopApplication();

        var toFirst = await first.ReceiveMessageAsync(deadline.Token);
        var toSecond = await second.ReceiveMessageAsync(deadline.Token);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, toFirst.CloseStatus);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, toSecond.CloseStatus);

        using var health = await http.GetAsync(new Uri(server.HttpUri, "/health"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.False(server.Run.IsCompleted, "the server stopped without waiting for its clients to answer");

        await first.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, null, deadline.Token);
        await second.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, null, deadline.Token);
        await server.Run.WaitAsync(deadline.Token);
        Assert.Equal(WebSocketState.Closed, first.State);
        Assert.Equal(WebSocketState.Closed, second.State);
    }

    [Fact]
    public async Task Stopping_a_replica_hosted_in_process_closes_its_clients_with_1001()
    {
        await using var app = ChatServerApp.Build(["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning"]);
        using var deadline = Deadline.Start();
        await app.StartAsync(deadline.Token);
        using var client = new ClientWebSocket();
        await client.ConnectAsync(new UriBuilder(app.Urls.Single()) { Scheme = "ws", Path = "/ws" }.Uri, deadline.Token);
        await client.JoinedAsync("client", deadline.Token);

        var stopping = app.StopAsync(deadline.Token);

        var received = await client.ReceiveMessageAsync(deadline.Token);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, received.CloseStatus);
        Assert.Equal("server shutting down", received.Text);
        await client.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, null, deadline.Token);
        await stopping;
        Assert.Equal(WebSocketState.Closed, client.State);
    }
}
