namespace Passerelle.Model.Objects;

/// <summary>Names one Kubernetes object the way a user reads it: <c>Ingress default/websocket-repeater</c>.</summary>
public sealed record ObjectRef(string Kind, string? Namespace, string Name)
{
    public override string ToString() =>
        string.IsNullOrEmpty(Namespace) ? $"{Kind} {Name}" : $"{Kind} {Namespace}/{Name}";
}
