using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Passerelle.Health.Tests.Infrastructure;

/// <summary>Keeps every event logged, with its structured values.</summary>
internal sealed class CapturingLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<LogEvent> _events = new();

    public IReadOnlyList<LogEvent> Events => _events.ToArray();

    public IReadOnlyList<LogEvent> WithId(int id) => _events.Where(e => e.Id.Id == id).ToArray();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var values = (state as IEnumerable<KeyValuePair<string, object?>> ?? []).ToDictionary(kv => kv.Key, kv => kv.Value);
        _events.Enqueue(new LogEvent(logLevel, eventId, formatter(state, exception), values));
    }
}

internal sealed record LogEvent(LogLevel Level, EventId Id, string Message, IReadOnlyDictionary<string, object?> Values);
