using System.Security.Cryptography;
using Passerelle.Kubernetes.Manifests;
using Passerelle.Kubernetes.Sources;
using Passerelle.Model.Diagnostics;
using Passerelle.Model.Objects;

namespace Passerelle.Kubernetes.Files;

/// <summary>
/// The objects of the manifest files and folders a user named with <c>-f</c>, like <c>kubectl apply -f</c>:
/// a folder contributes its <c>.yaml</c>, <c>.yml</c> and <c>.json</c> files (not its subfolders), a file is read
/// whatever its extension. Each file keeps its last good objects: a file that stops parsing changes nothing
/// until it parses again, and its error is reported. Not thread-safe: one configuration loop owns it.
/// </summary>
public sealed class ManifestFiles
{
    private static readonly string[] Extensions = [".yaml", ".yml", ".json"];

    private readonly IReadOnlyList<string> _paths;
    private readonly Dictionary<string, FileState> _files = new(StringComparer.Ordinal);

    public ManifestFiles(IEnumerable<string> paths) => _paths = paths.ToArray();

    public IReadOnlyList<string> Paths => _paths;

    /// <summary>
    /// Re-reads what changed on disk. <see cref="ObjectSnapshot.Changed"/> is false when every file has the
    /// same content as before, so a no-op rewrite (or an editor's touch) applies nothing.
    /// </summary>
    public ObjectSnapshot Load()
    {
        var diagnostics = new List<Diagnostic>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var changed = false;

        foreach (var file in EnumerateFiles(diagnostics))
        {
            seen.Add(file);
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, $"cannot read the file: {e.Message}", File: file));
                if (_files.TryGetValue(file, out var kept) && kept.Objects.Count > 0)
                {
                    diagnostics.Add(KeptNote(file, kept));
                }

                continue;
            }

            var hash = SHA256.HashData(bytes);
            if (_files.TryGetValue(file, out var state) && state.Hash.AsSpan().SequenceEqual(hash))
            {
                diagnostics.AddRange(state.Diagnostics);
                continue;
            }

            changed = true;
            var result = ManifestParser.Parse(System.Text.Encoding.UTF8.GetString(bytes), file);
            var objects = result.Readable ? result.Objects : state?.Objects ?? [];
            var fileDiagnostics = result.Diagnostics.ToList();
            if (!result.Readable && objects.Count > 0)
            {
                fileDiagnostics.Add(KeptNote(file, objects));
            }

            _files[file] = new FileState(hash, objects, fileDiagnostics);
            diagnostics.AddRange(fileDiagnostics);
        }

        foreach (var gone in _files.Keys.Where(f => !seen.Contains(f)).ToList())
        {
            _files.Remove(gone);
            changed = true;
        }

        return new ObjectSnapshot(new ObjectSet(Deduplicate(diagnostics)), diagnostics, changed);
    }

    private static Diagnostic KeptNote(string file, FileState state) => KeptNote(file, state.Objects);

    private static Diagnostic KeptNote(string file, IReadOnlyList<SourcedObject> objects) =>
        new(DiagnosticSeverity.Info, $"keeping the {objects.Count} object(s) of the last version of this file that could be read", File: file);

    /// <summary>The same object in two files: the first file (in the order given, then by name) wins, as a store would keep one.</summary>
    private List<SourcedObject> Deduplicate(List<Diagnostic> diagnostics)
    {
        var owners = new Dictionary<(string, string?, string), SourcedObject>();
        var kept = new List<SourcedObject>();
        foreach (var file in _files.Keys.Order(StringComparer.Ordinal))
        {
            foreach (var source in _files[file].Objects)
            {
                var key = (source.Ref.Kind, source.Ref.Namespace, source.Ref.Name);
                if (owners.TryGetValue(key, out var first))
                {
                    diagnostics.Add(Diagnostic.For(source, DiagnosticSeverity.Error, null,
                        $"ignored: the same object is already defined in {first.Origin?.File}:{first.Origin?.Line}"));
                    continue;
                }

                owners[key] = source;
                kept.Add(source);
            }
        }

        return kept;
    }

    private IEnumerable<string> EnumerateFiles(List<Diagnostic> diagnostics)
    {
        var files = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var path in _paths)
        {
            if (File.Exists(path))
            {
                files.Add(path);
            }
            else if (Directory.Exists(path))
            {
                foreach (var file in Directory.EnumerateFiles(path))
                {
                    var name = Path.GetFileName(file);
                    if (!name.StartsWith('.') && Extensions.Contains(Path.GetExtension(file), StringComparer.OrdinalIgnoreCase))
                    {
                        files.Add(file);
                    }
                }
            }
            else
            {
                diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, "no such file or directory", File: path));
            }
        }

        return files;
    }

    private sealed record FileState(byte[] Hash, IReadOnlyList<SourcedObject> Objects, IReadOnlyList<Diagnostic> Diagnostics);
}
