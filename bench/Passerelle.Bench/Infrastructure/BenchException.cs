namespace Passerelle.Bench.Infrastructure;

/// <summary>A benchmark that cannot go on; its message is printed as it is, without a stack trace.</summary>
internal sealed class BenchException(string message) : Exception(message);
