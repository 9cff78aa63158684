using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Passerelle.EndToEnd.Tests.Infrastructure;

/// <summary>Keeps every log line the gateway writes, so tests can assert what a user would read.</summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Category, EventId Event, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, string Category, EventId Event, string Message)> Entries => _entries.ToArray();

    public int Count(string contains) => _entries.Count(e => e.Message.Contains(contains, StringComparison.Ordinal));

    public string Dump() => string.Join("\n", _entries.Select(e => $"{e.Level} {e.Event.Name}: {e.Message}"));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._entries.Enqueue((logLevel, category, eventId, formatter(state, exception)));
    }
}
