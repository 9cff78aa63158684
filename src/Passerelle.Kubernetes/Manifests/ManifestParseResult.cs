using Passerelle.Model.Diagnostics;
using Passerelle.Model.Objects;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>
/// What one manifest file holds. <paramref name="Readable"/> is false when the file is not valid YAML: it then
/// has no objects and one error, and the caller should keep using what the file last held rather than drop it.
/// </summary>
public sealed record ManifestParseResult(bool Readable, IReadOnlyList<SourcedObject> Objects, IReadOnlyList<Diagnostic> Diagnostics);
