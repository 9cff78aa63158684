using System.Text.Json.Nodes;
using Passerelle.Model.Diagnostics;
using Passerelle.Model.Objects;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>
/// Turns the JSON documents of one file into objects and diagnostics: flattens lists, checks each object's
/// identity, skips duplicates and kinds Passerelle does not use, normalises and decodes the rest. A problem
/// in one object never stops the others.
/// </summary>
internal sealed class ManifestObjectReader(string file, LineMap lines)
{
    private readonly List<SourcedObject> _objects = [];
    private readonly List<Diagnostic> _diagnostics = [];
    private readonly Dictionary<ObjectRef, int> _firstLines = [];

    public IReadOnlyList<SourcedObject> Objects => _objects;

    public IReadOnlyList<Diagnostic> Diagnostics => _diagnostics;

    public void ReadDocument(JsonNode root, int line)
    {
        if (root is not JsonObject obj)
        {
            Report(DiagnosticSeverity.Error, null, null, line,
                $"expected a Kubernetes object (a mapping with apiVersion, kind and metadata), got {ValueText.Describe(root)}");
            return;
        }

        if (ManifestLists.IsList(obj))
        {
            ReadList(obj, line);
            return;
        }

        ReadObject(obj, line);
    }

    private void ReadList(JsonObject list, int line)
    {
        var items = list["items"];
        if (items is not JsonArray array)
        {
            if (items is not null)
            {
                Report(DiagnosticSeverity.Error, null, "items", lines.LineOf(items) ?? line, $"expected a list, got {ValueText.Describe(items)}");
            }

            return;
        }

        foreach (var item in ManifestLists.TakeItems(array, list))
        {
            if (item is not null)
            {
                ReadDocument(item, lines.LineOf(item) ?? line);
            }
        }
    }

    private void ReadObject(JsonObject obj, int line)
    {
        var problems = new List<(string Field, string Message)>();
        var envelope = ObjectEnvelope.Read(obj, problems);
        if (envelope is null)
        {
            var origin = new ObjectOrigin(file, line, lines.FieldLinesOf(obj));
            foreach (var (field, message) in problems)
            {
                Report(DiagnosticSeverity.Error, null, field, origin.LineOf(field), message);
            }

            return;
        }

        if (!KnownKinds.TryGet(envelope.ApiVersion, envelope.Kind, out var known))
        {
            ReportIgnored(envelope, line);
            return;
        }

        // Kubernetes puts a namespaced object without one in "default" (kubectl's current context aside), and
        // drops the namespace of a cluster-scoped one.
        var ns = known.Namespaced ? envelope.Namespace ?? "default" : null;
        var reference = new ObjectRef(known.Kind, ns, envelope.Name);
        if (_firstLines.TryGetValue(reference, out var firstLine))
        {
            Report(DiagnosticSeverity.Error, reference, null, line,
                $"already defined at line {firstLine} of this file; this definition is ignored");
            return;
        }

        // Claimed before decoding: a first definition that fails to decode still owns the name, so the user sees
        // both its error and the duplicate, rather than a later copy silently standing in for it.
        _firstLines[reference] = line;
        Decode(obj, line, known, reference);
    }

    private void Decode(JsonObject obj, int line, KnownKind known, ObjectRef reference)
    {
        // As kubectl apply --validate=warn (strict field validation, reported rather than refused): the object
        // loads without the field, and the user learns that what it said is lost. Checked before normalising, so
        // a legacy Ingress's fields are named as written.
        foreach (var unknown in UnknownFields.Find(obj, known.ModelType, known.OlderFields, lines))
        {
            Report(DiagnosticSeverity.Warning, reference, unknown.Field, unknown.Line ?? line, unknown.Message);
        }

        known.Normalise?.Invoke(obj, lines);
        var emptyItems = KubernetesNulls.Apply(obj, known.ModelType);
        var metadata = (JsonObject)obj["metadata"]!;
        if (reference.Namespace is null)
        {
            metadata.Remove("namespace");
        }
        else if (!ValueText.IsString(metadata["namespace"], out var written) || written != reference.Namespace)
        {
            // Only when it changes, so that a namespace the user wrote keeps its line.
            metadata["namespace"] = reference.Namespace;
        }

        var origin = new ObjectOrigin(file, line, lines.FieldLinesOf(obj));
        if (emptyItems.Count > 0)
        {
            foreach (var field in emptyItems)
            {
                Report(DiagnosticSeverity.Error, reference, field, origin.LineOf(field), "empty list item (a lone \"-\"); remove it or give it a value");
            }

            return;
        }

        try
        {
            var decoded = known.Decode(obj);
            decoded.ApiVersion = known.ApiVersion;
            decoded.Kind = known.Kind;
            _objects.Add(new SourcedObject(decoded, origin));
        }
        catch (Exception error) when (ModelErrors.IsDecodingError(error))
        {
            var (field, message) = ModelErrors.Describe(error, known.ModelType, obj);
            Report(DiagnosticSeverity.Error, reference, field, origin.LineOf(field), message);
        }
    }

    private void ReportIgnored(ObjectEnvelope envelope, int line)
    {
        var reference = new ObjectRef(envelope.Kind, envelope.Namespace, envelope.Name);
        if (KnownKinds.Similar(envelope.Kind) is not { } similar)
        {
            Report(DiagnosticSeverity.Info, reference, null, line, $"ignored: Passerelle does not use {envelope.ApiVersion} {envelope.Kind}");
            return;
        }

        // A kind Passerelle reads, misspelt or in a version it does not read: the API server would refuse it
        // ("no matches for kind"), so say so louder than for a kind that is simply not ours.
        var versions = similar.ApiVersions.Count == 1
            ? similar.ApiVersions[0]
            : string.Join(", ", similar.ApiVersions.Take(similar.ApiVersions.Count - 1)) + " or " + similar.ApiVersions[^1];
        var message = similar.Kind == envelope.Kind
            ? $"ignored: Passerelle reads {similar.Kind} as {versions}, not {envelope.ApiVersion}"
            : $"ignored: kinds are case-sensitive; did you mean {similar.Kind}?";
        Report(DiagnosticSeverity.Warning, reference, null, line, message);
    }

    private void Report(DiagnosticSeverity severity, ObjectRef? reference, string? field, int line, string message) =>
        _diagnostics.Add(new Diagnostic(severity, message, reference, field, file, line));
}
