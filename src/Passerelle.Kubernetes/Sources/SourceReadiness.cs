namespace Passerelle.Kubernetes.Sources;

/// <summary>
/// A source's state for <c>/readyz</c>. <paramref name="Detail"/> is one sentence for people;
/// <paramref name="Details"/> is serialised as JSON as it is (per-kind sync state, for the API source).
/// </summary>
public sealed record SourceReadiness(string Source, bool Complete, string Detail, object? Details = null);
