using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatServer;

/// <summary>Rejects settings that would make the server misbehave later, naming the configuration key at fault.</summary>
internal sealed class ChatServerOptionsValidator : IValidateOptions<ChatServerOptions>
{
    // Beyond this a single message would hold a worrying share of memory per connection.
    private const int MaxMessageSizeLimit = 16 * 1024 * 1024;

    public ValidateOptionsResult Validate(string? name, ChatServerOptions options)
    {
        var failures = new List<string>();
        const string S = ChatServerOptions.SectionName;

        if (string.IsNullOrWhiteSpace(options.ReplicaName))
        {
            failures.Add($"{S}:ReplicaName must not be empty.");
        }
        foreach (var origin in options.AllowedOrigins)
        {
            if (origin != "*" && !OriginPolicy.TryParseOrigin(origin, out _))
            {
                failures.Add($"{S}:AllowedOrigins contains '{origin}', which is neither '*' nor an origin such as 'https://chat.example.com' or 'http://localhost:8888'.");
            }
        }
        if (options.MaxMessageSize is < 1 or > MaxMessageSizeLimit)
        {
            failures.Add($"{S}:MaxMessageSize must be between 1 and {MaxMessageSizeLimit} bytes; it is {options.MaxMessageSize}.");
        }
        if (options.SendQueueCapacity < 1)
        {
            failures.Add($"{S}:SendQueueCapacity must be at least 1; it is {options.SendQueueCapacity}.");
        }
        RequirePositive(failures, nameof(options.PingInterval), options.PingInterval);
        RequirePositive(failures, nameof(options.PongTimeout), options.PongTimeout);
        RequirePositive(failures, nameof(options.WriteTimeout), options.WriteTimeout);
        RequirePositive(failures, nameof(options.CloseTimeout), options.CloseTimeout);
        if (!string.IsNullOrWhiteSpace(options.Redis))
        {
            ValidateRedis(failures, options);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateRedis(List<string> failures, ChatServerOptions options)
    {
        const string S = ChatServerOptions.SectionName;
        try
        {
            if (ConfigurationOptions.Parse(options.Redis!).EndPoints.Count == 0)
            {
                failures.Add($"{S}:Redis names no server; expected host:port, optionally followed by ',password=...' and other StackExchange.Redis options.");
            }
        }
        catch (ArgumentException e)
        {
            // The value itself is not repeated: it may hold a password.
            failures.Add($"{S}:Redis is not a StackExchange.Redis configuration string such as 'localhost:6379' or 'redis:6379,password=...': {e.Message}");
        }
        if (string.IsNullOrWhiteSpace(options.RedisChannel))
        {
            failures.Add($"{S}:RedisChannel must not be empty when {S}:Redis is set.");
        }
    }

    private static void RequirePositive(List<string> failures, string key, TimeSpan value)
    {
        // Int32.MaxValue milliseconds is the most a timer (CancelAfter, keep-alive) accepts.
        if (value <= TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue)
        {
            failures.Add($"{ChatServerOptions.SectionName}:{key} must be a positive duration such as '00:00:30'; it is {value}.");
        }
    }
}
