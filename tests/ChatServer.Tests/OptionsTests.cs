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
}
