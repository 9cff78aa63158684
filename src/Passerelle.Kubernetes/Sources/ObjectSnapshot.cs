using Passerelle.Model.Diagnostics;
using Passerelle.Model.Objects;

namespace Passerelle.Kubernetes.Sources;

/// <summary>
/// The objects of a source at one moment, with every diagnostic about reading them. <paramref name="Changed"/>
/// is false when nothing differs from the previous snapshot, so that a no-op applies nothing.
/// </summary>
public sealed record ObjectSnapshot(ObjectSet Objects, IReadOnlyList<Diagnostic> Diagnostics, bool Changed);
