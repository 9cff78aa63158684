using System.Text.Json.Nodes;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>One non-empty YAML document converted to JSON, and the line of its first node.</summary>
internal sealed record JsonDocumentRoot(JsonNode Root, int Line);
