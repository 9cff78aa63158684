namespace Passerelle.Kubernetes.Manifests;

/// <summary>
/// A field its object's type does not have, at <see cref="Field"/> as the user wrote it, with the line of its key
/// (null if unknown) and the known field it most likely stands for.
/// </summary>
internal sealed record UnknownField(string Field, string Name, int? Line, string? Suggestion)
{
    // Worded like kubectl's strict field validation (unknown field "spec.foo"), adding the likely fix and what
    // Passerelle does with it: the object is still read, as with --validate=warn, without the field.
    public string Message => Suggestion is null
        ? $"unknown field \"{Name}\"; it is ignored"
        : $"unknown field \"{Name}\" (did you mean \"{Suggestion}\"?); it is ignored";
}
