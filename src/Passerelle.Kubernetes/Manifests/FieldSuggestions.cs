namespace Passerelle.Kubernetes.Manifests;

/// <summary>
/// The known field an unknown one was probably meant to be. kubectl's strict field validation names the unknown
/// field but offers nothing; a suggestion turns "unknown field" into a fix. Only close matches are offered, so a
/// field that is simply not Kubernetes' gets no misleading guess.
/// </summary>
internal static class FieldSuggestions
{
    private const int MaxDistance = 2;

    public static string? For(string name, IEnumerable<string> known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known.Order(StringComparer.Ordinal))
        {
            // Field names are case-sensitive (sigs.k8s.io/json), and a case slip is the commonest typo.
            if (string.Equals(candidate, name, StringComparison.OrdinalIgnoreCase))
            {
                return candidate;
            }

            var distance = Distance(name.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                (best, bestDistance) = (candidate, distance);
            }
        }

        // A distance as long as the name itself would match any short field ("ab" would suggest "ip").
        return bestDistance <= MaxDistance && bestDistance < name.Length ? best : null;
    }

    /// <summary>Levenshtein distance, or more than <see cref="MaxDistance"/> as soon as it must be.</summary>
    private static int Distance(string a, string b)
    {
        if (Math.Abs(a.Length - b.Length) > MaxDistance)
        {
            return MaxDistance + 1;
        }

        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
