namespace Passerelle.Kubernetes.Api;

/// <summary>
/// The sync state of one kind in one scope, as <c>/readyz</c> shows it. <paramref name="State"/> is
/// <c>syncing</c> until the first list, <c>synced</c> while listed and watched, <c>failing</c> while the API
/// cannot be reached (the objects of the last good sync are kept and served); <paramref name="Since"/> is when
/// that state began.
/// </summary>
internal sealed record ReflectorStatus(
    string Kind,
    string? Namespace,
    string State,
    DateTimeOffset Since,
    int Objects,
    string? ResourceVersion,
    DateTimeOffset? LastList,
    string? LastError);
