namespace Passerelle.Model.Translation;

/// <summary>Maps an Ingress path and pathType to how the gateway matches it, or says what is wrong.</summary>
internal static class IngressPaths
{
    public static (PathMatch Match, string Path, string? Error) Interpret(string? path, string? pathType)
    {
        switch (pathType)
        {
            case "Exact":
                return string.IsNullOrEmpty(path) || path[0] != '/'
                    ? (default, "", "an Exact path must start with \"/\"")
                    : (PathMatch.Exact, path, null);

            case "Prefix":
                if (string.IsNullOrEmpty(path) || path[0] != '/')
                {
                    return (default, "", "a Prefix path must start with \"/\"");
                }

                // Kubernetes ignores a trailing slash for Prefix: "/foo/" and "/foo" are the same rule.
                var trimmed = path.Length > 1 ? path.TrimEnd('/') : path;
                return trimmed is "" or "/" ? (PathMatch.Any, "/", null) : (PathMatch.Prefix, trimmed, null);

            case null or "" or "ImplementationSpecific":
                // Application Gateway semantics, as AGIC configures them: no path or "/*" is the whole site,
                // a trailing '*' is a string prefix, anything else is an exact path.
                if (string.IsNullOrEmpty(path) || path is "/" or "/*" or "*")
                {
                    return (PathMatch.Any, "/", null);
                }

                if (path[0] != '/')
                {
                    return (default, "", "a path must start with \"/\"");
                }

                if (path.IndexOf('*') is var star && star >= 0 && star != path.Length - 1)
                {
                    return (default, "", "'*' is only allowed at the end of a path");
                }

                return path.EndsWith('*') ? (PathMatch.StringPrefix, path[..^1], null) : (PathMatch.Exact, path, null);

            default:
                return (default, "", $"unknown pathType \"{pathType}\" (expected Exact, Prefix or ImplementationSpecific)");
        }
    }

    /// <summary>RFC 1123 host, optionally with a single leading "*." label as Kubernetes allows.</summary>
    public static string? ValidateHost(string host)
    {
        var name = host.StartsWith("*.", StringComparison.Ordinal) ? host[2..] : host;
        if (name.Length == 0 || name.Length > 253)
        {
            return "a host must be a DNS name such as ws.contoso.com or *.contoso.com";
        }

        if (name.Contains('*'))
        {
            return "a wildcard is only allowed as the first label (*.contoso.com)";
        }

        foreach (var label in name.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-'
                || !label.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return $"\"{host}\" is not a valid lower-case DNS name (RFC 1123)";
            }
        }

        return null;
    }
}
