using System.Globalization;

namespace Passerelle.Model.Health;

/// <summary>
/// The status codes a probe accepts, written as Application Gateway's probe match does: <c>"200-399"</c>,
/// <c>"200-399, 401"</c>. Each part is a code or an inclusive range between 100 and 599.
/// </summary>
public sealed class StatusCodeRanges : IEquatable<StatusCodeRanges>
{
    public static readonly StatusCodeRanges Default = new([(200, 399)]);

    private readonly (int From, int To)[] _ranges;

    private StatusCodeRanges((int From, int To)[] ranges) => _ranges = ranges;

    public bool Contains(int status)
    {
        foreach (var (from, to) in _ranges)
        {
            if (status >= from && status <= to)
            {
                return true;
            }
        }

        return false;
    }

    public static bool TryParse(string? text, out StatusCodeRanges ranges, out string? error)
    {
        ranges = Default;
        error = null;
        var parts = (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            error = "no status code given";
            return false;
        }

        var parsed = new List<(int, int)>();
        foreach (var part in parts)
        {
            var bounds = part.Split('-', StringSplitOptions.TrimEntries);
            if (bounds.Length > 2
                || !int.TryParse(bounds[0], NumberStyles.None, CultureInfo.InvariantCulture, out var from)
                || !int.TryParse(bounds[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var to)
                || from < 100 || to > 599 || from > to)
            {
                error = $"\"{part}\" is not a status code or range between 100 and 599 (for example \"200-399, 401\")";
                return false;
            }

            parsed.Add((from, to));
        }

        ranges = new StatusCodeRanges(parsed.Order().ToArray());
        return true;
    }

    public bool Equals(StatusCodeRanges? other) => other is not null && _ranges.AsSpan().SequenceEqual(other._ranges);

    public override bool Equals(object? obj) => Equals(obj as StatusCodeRanges);

    public override int GetHashCode() => _ranges.Length == 0 ? 0 : HashCode.Combine(_ranges[0], _ranges.Length);

    public override string ToString() =>
        string.Join(", ", _ranges.Select(r => r.From == r.To ? $"{r.From}" : $"{r.From}-{r.To}"));
}
