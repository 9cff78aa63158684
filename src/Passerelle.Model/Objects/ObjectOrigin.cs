namespace Passerelle.Model.Objects;

/// <summary>
/// Where an object came from, so a diagnostic can point at the file and line a user must edit.
/// <paramref name="FieldLines"/> maps field paths in the form <c>spec.rules[0].host</c> to 1-based lines.
/// </summary>
public sealed record ObjectOrigin(string File, int Line, IReadOnlyDictionary<string, int>? FieldLines = null)
{
    /// <summary>The line of <paramref name="fieldPath"/>, or of its nearest parent that has one, else the object's line.</summary>
    public int LineOf(string? fieldPath)
    {
        if (FieldLines is null || string.IsNullOrEmpty(fieldPath))
        {
            return Line;
        }

        var path = fieldPath;
        while (path.Length > 0)
        {
            if (FieldLines.TryGetValue(path, out var line))
            {
                return line;
            }

            var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
            path = cut > 0 ? path[..cut] : "";
        }

        return Line;
    }
}
