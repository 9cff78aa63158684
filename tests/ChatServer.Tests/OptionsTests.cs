using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChatServer.Tests;

public sealed class OptionsTests
{
    [Theory]
    [InlineData("--ChatServer:MaxMessageSize=0", "ChatServer:MaxMessageSize must be between 1 and")]
    [InlineData("--ChatServer:SendQueueCapacity=0", "ChatServer:SendQueueCapacity must be at least 1")]
    [InlineData("--ChatServer:PingInterval=00:00:00", "ChatServer:PingInterval must be a positive duration")]
    [InlineData("--ChatServer:AllowedOrigins:0=chat.example.com/path", "ChatServer:AllowedOrigins contains 'chat.example.com/path'")]
    [InlineData("--ChatServer:ReplicaName= ", "ChatServer:ReplicaName must not be empty")]
    [InlineData("--ChatServer:Redis=localhost:6379,nonsense=1", "ChatServer:Redis is not a StackExchange.Redis configuration string")]
    [InlineData("--redis", "--redis needs a value")]
    public void Invalid_settings_are_refused_with_a_message_naming_the_key(string argument, string expected)
    {
        var failure = Assert.Throws<OptionsValidationException>(
            () => ChatServerApp.Build(["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=None", argument]));

        Assert.Contains(expected, failure.Message);
    }

    [Fact]
    public void Settings_from_code_are_validated_too()
    {
        var failure = Assert.Throws<OptionsValidationException>(
            () => ChatServerApp.Build(["--urls", "http://127.0.0.1:0"], options => options.CloseTimeout = TimeSpan.Zero));

        Assert.Contains("ChatServer:CloseTimeout must be a positive duration", failure.Message);
    }

    [Fact]
    public void A_redis_channel_is_required_with_redis()
    {
        var failure = Assert.Throws<OptionsValidationException>(() => ChatServerApp.Build(
            ["--urls", "http://127.0.0.1:0", "--redis", "localhost:6379", "--ChatServer:RedisChannel= "]));

        Assert.Contains("ChatServer:RedisChannel must not be empty", failure.Message);
    }

    [Theory]
    [InlineData("--redis", "redis.example:6380,password=secret")]
    [InlineData("--redis=redis.example:6380,password=secret")]
    public async Task The_redis_switch_sets_the_redis_option(params string[] redis)
    {
        await using var app = ChatServerApp.Build(["--urls", "http://127.0.0.1:0", .. redis]);

        var options = app.Services.GetRequiredService<IOptions<ChatServerOptions>>().Value;
        Assert.Equal("redis.example:6380,password=secret", options.Redis);
        Assert.Equal("chat:room", options.RedisChannel);
    }

    [Fact]
    public void A_replica_is_given_redis_or_an_in_process_room_not_both()
    {
        var failure = Assert.Throws<OptionsValidationException>(() => ChatServerApp.Build(
            ["--urls", "http://127.0.0.1:0", "--redis", "localhost:6379"], room: new InProcessRoom()));

        Assert.Contains("ChatServer:Redis is set, but this replica was also given an in-process room", failure.Message);
    }
}
