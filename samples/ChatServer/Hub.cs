using System.Net.WebSockets;
using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace ChatServer;

/// <summary>
/// The room. One loop reads join, leave and broadcast commands from a channel and is the only code that touches
/// the member set, so the room needs no locks. A broadcast only queues the message for each member without
/// waiting, and drops the members whose queue is full, so a slow client never holds the others up.
/// </summary>
internal sealed class Hub : BackgroundService, IHostedLifecycleService
{
    private abstract record Command;
    private sealed record Join(Client Client) : Command;
    private sealed record Leave(Client Client) : Command;
    private sealed record Broadcast(ReadOnlyMemory<byte> Message) : Command;
    private sealed record Drain : Command;

    private const string ShuttingDown = "server shutting down";

    private readonly Channel<Command> _commands =
        Channel.CreateBounded<Command>(new BoundedChannelOptions(1024) { SingleReader = true });
    private readonly HashSet<Client> _members = [];
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IChatBackplane _backplane;
    private readonly ChatServerOptions _options;
    private readonly ILogger<Hub> _logger;
    private bool _draining;

    public Hub(IChatBackplane backplane, IOptions<ChatServerOptions> options, ILogger<Hub> logger)
    {
        _backplane = backplane;
        _options = options.Value;
        _logger = logger;
    }

    public ValueTask JoinAsync(Client client, CancellationToken cancellationToken) =>
        _commands.Writer.WriteAsync(new Join(client), cancellationToken);

    public async ValueTask LeaveAsync(Client client)
    {
        try
        {
            await _commands.Writer.WriteAsync(new Leave(client));
        }
        catch (ChannelClosedException)
        {
            // The hub has stopped, and the room with it.
        }
    }

    /// <summary>Sends a member's message to the room, on every replica the backplane reaches.</summary>
    public ValueTask PublishAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken) =>
        _backplane.PublishAsync(message, cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var relaying = _backplane.RelayAsync(
            (message, cancellationToken) => _commands.Writer.WriteAsync(new Broadcast(message), cancellationToken),
            stoppingToken);
        try
        {
            await foreach (var command in _commands.Reader.ReadAllAsync(stoppingToken))
            {
                Handle(command);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            _commands.Writer.TryComplete();
            try
            {
                await relaying;
            }
            catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
            {
            }
        }
    }

    private void Handle(Command command)
    {
        switch (command)
        {
            case Join(var client) when _draining:
                client.Close(WebSocketCloseStatus.EndpointUnavailable, ShuttingDown);
                break;
            case Join(var client):
                _members.Add(client);
                Log.ClientJoined(_logger, _options.ReplicaName, client.Id, _members.Count);
                break;
            case Leave(var client):
                if (_members.Remove(client))
                {
                    Log.ClientLeft(_logger, _options.ReplicaName, client.Id, _members.Count);
                }
                break;
            case Broadcast(var message):
                List<Client>? slow = null;
                foreach (var member in _members)
                {
                    if (!member.TryEnqueue(message))
                    {
                        (slow ??= []).Add(member);
                    }
                }
                if (slow is not null)
                {
                    foreach (var member in slow)
                    {
                        _members.Remove(member);
                        Log.SlowClientDropped(_logger, _options.ReplicaName, member.Id, _options.SendQueueCapacity, _members.Count);
                        member.Close(WebSocketCloseStatus.PolicyViolation, "too slow to keep up with the room");
                    }
                }
                break;
            case Drain:
                _draining = true;
                Log.Draining(_logger, _options.ReplicaName, _members.Count);
                foreach (var member in _members)
                {
                    member.Close(WebSocketCloseStatus.EndpointUnavailable, ShuttingDown);
                }
                break;
        }
        if (_draining && _members.Count == 0)
        {
            _drained.TrySetResult();
        }
    }

    // Runs after ApplicationStopping and before the server stops listening: the members are told to go
    // (Close 1001) while /health already answers 503, and the server waits for them before shutting down.
    Task IHostedLifecycleService.StoppingAsync(CancellationToken cancellationToken) => DrainAsync(cancellationToken);

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        if (ExecuteTask is not { IsCompleted: false })
        {
            return;
        }
        try
        {
            await _commands.Writer.WriteAsync(new Drain(), cancellationToken);
            await _drained.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Log.DrainTimedOut(_logger, _options.ReplicaName);
        }
        catch (ChannelClosedException)
        {
        }
    }

    Task IHostedLifecycleService.StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
