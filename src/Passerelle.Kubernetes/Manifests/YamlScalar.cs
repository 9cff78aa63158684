using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>
/// Gives a YAML scalar its JSON type. Quoted and block scalars are strings. Plain scalars follow the YAML 1.2
/// core schema, adjusted to read the way Kubernetes does: only true/false (in any of three casings) are
/// booleans, so yes/no/on/off stay strings, and a leading zero means octal (file modes such as
/// <c>defaultMode: 0644</c>, as go-yaml reads them).
/// </summary>
internal static partial class YamlScalar
{
    private const string StrTag = "tag:yaml.org,2002:str";
    private const string NullTag = "tag:yaml.org,2002:null";

    public static JsonNode? ToJson(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        var tag = scalar.Tag.IsEmpty ? null : scalar.Tag.Value;
        if (tag == StrTag)
        {
            return JsonValue.Create(text);
        }

        if (tag == NullTag)
        {
            return null;
        }

        // "!" is YAML's "not resolved" tag: the scalar stays text, as a quoted one does.
        var typedByTag = tag is not null && tag.StartsWith("tag:yaml.org,2002:", StringComparison.Ordinal);
        if (!typedByTag && (scalar.Style != ScalarStyle.Plain || tag == "!"))
        {
            return JsonValue.Create(text);
        }

        return TryResolve(text, out var value) ? value : JsonValue.Create(text);
    }

    /// <summary>Resolves a plain scalar to null, a boolean or a number; false when it is a string.</summary>
    internal static bool TryResolve(string text, out JsonNode? value)
    {
        value = null;
        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return true;
            case "true" or "True" or "TRUE":
                value = JsonValue.Create(true);
                return true;
            case "false" or "False" or "FALSE":
                value = JsonValue.Create(false);
                return true;
        }

        if (TryInteger(text, out var integer))
        {
            value = integer;
            return true;
        }

        // JSON has no infinity or NaN, so .inf, .nan and numbers too large for a double stay text.
        if (Float().IsMatch(text)
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real)
            && double.IsFinite(real))
        {
            value = JsonValue.Create(real);
            return true;
        }

        return false;
    }

    private static bool TryInteger(string text, out JsonNode? value)
    {
        value = null;
        var negative = text.StartsWith('-');
        var digits = text.Length > 0 && text[0] is '-' or '+' ? text[1..] : text;
        long magnitude;
        if (digits.StartsWith("0x", StringComparison.Ordinal) && HexDigits().IsMatch(digits[2..]))
        {
            if (!long.TryParse(digits[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out magnitude) || magnitude < 0)
            {
                return false;
            }
        }
        else if (digits.StartsWith("0o", StringComparison.Ordinal) && OctalDigits().IsMatch(digits[2..]))
        {
            if (!TryOctal(digits[2..], out magnitude))
            {
                return false;
            }
        }
        else if (digits.Length > 1 && digits[0] == '0' && OctalDigits().IsMatch(digits))
        {
            if (!TryOctal(digits[1..], out magnitude))
            {
                return false;
            }
        }
        else if (DecimalDigits().IsMatch(digits))
        {
            if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out magnitude))
            {
                // Too large for 64 bits: still a number, as it is in Go, only a less precise one.
                value = JsonValue.Create(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
                return true;
            }
        }
        else
        {
            return false;
        }

        value = JsonValue.Create(negative ? -magnitude : magnitude);
        return true;
    }

    private static bool TryOctal(string digits, out long value)
    {
        value = 0;
        foreach (var digit in digits)
        {
            if (value > (long.MaxValue >> 3))
            {
                return false;
            }

            value = (value << 3) + (digit - '0');
        }

        return true;
    }

    [GeneratedRegex("^[0-9]+$")]
    private static partial Regex DecimalDigits();

    [GeneratedRegex("^[0-7]+$")]
    private static partial Regex OctalDigits();

    [GeneratedRegex("^[0-9a-fA-F]+$")]
    private static partial Regex HexDigits();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex Float();
}
