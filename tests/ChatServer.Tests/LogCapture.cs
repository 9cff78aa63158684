using Microsoft.Extensions.Logging;

namespace ChatServer.Tests;

internal sealed record LogEntry(string Category, LogLevel Level, EventId EventId, string Message);

/// <summary>Records what one replica logs, so that a test can wait for an event or count them.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly Lock _gate = new();
    private readonly List<LogEntry> _entries = [];
    private TaskCompletionSource _added = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How many times the event of that name (the logging method's, such as <c>RedisLost</c>) was logged.</summary>
    public int Count(string eventName)
    {
        lock (_gate)
        {
            return _entries.Count(entry => entry.EventId.Name == eventName);
        }
    }

    /// <summary>Waits until the event of that name has been logged, failing the test past the deadline.</summary>
    public async Task<LogEntry> WaitForAsync(string eventName, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task added;
            lock (_gate)
            {
                if (_entries.FirstOrDefault(entry => entry.EventId.Name == eventName) is { } found)
                {
                    return found;
                }
                added = _added.Task;
            }
            try
            {
                await added.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"{eventName} was not logged in time; the replica logged:\n{Dump()}");
            }
        }
    }

    public string Dump()
    {
        lock (_gate)
        {
            return string.Join("\n", _entries.Select(entry => $"  {entry.Level} {entry.EventId.Name}: {entry.Message}"));
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Add(LogEntry entry)
    {
        TaskCompletionSource added;
        lock (_gate)
        {
            _entries.Add(entry);
            added = _added;
            _added = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        added.SetResult();
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        // The application's filters (Logging:LogLevel) have already chosen what reaches this logger.
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            capture.Add(new(category, logLevel, eventId, formatter(state, exception)));
    }
}
