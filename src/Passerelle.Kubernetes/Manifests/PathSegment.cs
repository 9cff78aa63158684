namespace Passerelle.Kubernetes.Manifests;

/// <summary>One step of a field path: a property <see cref="Name"/>, or else a list <see cref="Index"/>.</summary>
internal readonly record struct PathSegment(string? Name, int Index)
{
    public static PathSegment Property(string name) => new(name, -1);

    public static PathSegment Item(int index) => new(null, index);
}
