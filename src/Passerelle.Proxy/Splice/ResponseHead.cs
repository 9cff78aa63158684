using System.Buffers;
using System.Text;

namespace Passerelle.Proxy.Splice;

/// <summary>
/// The status line and header fields of a backend's HTTP/1.1 response (RFC 9112 §4, §5), parsed from the bytes
/// before the empty line. Strict where a lenient reading could let the gateway and the client disagree on where
/// the response ends: a header field without a colon, a space before the colon, or a line folding is refused.
/// </summary>
internal sealed class ResponseHead
{
    private ResponseHead(int status, string reason, List<KeyValuePair<string, string>> fields)
    {
        Status = status;
        Reason = reason;
        Fields = fields;
    }

    public int Status { get; }

    public string Reason { get; }

    /// <summary>The header fields in order, names as sent.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Fields { get; }

    /// <summary>The field's values joined with ", " (RFC 9110 §5.3), or null when absent.</summary>
    public string? Get(string name)
    {
        string? value = null;
        foreach (var (key, fieldValue) in Fields)
        {
            if (key.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                value = value is null ? fieldValue : value + ", " + fieldValue;
            }
        }

        return value;
    }

    /// <summary>True when a comma-separated field lists <paramref name="token"/> (case-insensitive), as Connection lists "close".</summary>
    public bool Lists(string name, string token)
    {
        foreach (var (key, value) in Fields)
        {
            if (!key.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var range in value.AsSpan().Split(','))
            {
                if (value.AsSpan(range).Trim().Equals(token, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Finds the end of the head in <paramref name="bytes"/>: the length of the head including its empty line, or
    /// -1 when more bytes are needed.
    /// </summary>
    public static int FindEnd(ReadOnlySpan<byte> bytes)
    {
        var at = bytes.IndexOf("\r\n\r\n"u8);
        return at < 0 ? -1 : at + 4;
    }

    /// <summary>Parses a complete head (from <see cref="FindEnd"/>); throws <see cref="InvalidDataException"/> saying what is wrong.</summary>
    public static ResponseHead Parse(ReadOnlySpan<byte> head)
    {
        // One string for the head; each line is looked at in place, and only names and values become strings.
        var text = Encoding.Latin1.GetString(head).AsSpan();
        var statusLine = NextLine(ref text);

        // HTTP/1.x SP 3DIGIT SP [reason]
        if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1.", StringComparison.Ordinal) || statusLine[8] != ' ' ||
            !int.TryParse(statusLine.Slice(9, 3), System.Globalization.NumberStyles.None, null, out var status) || status < 100 ||
            (statusLine.Length > 12 && statusLine[12] != ' '))
        {
            throw new InvalidDataException($"the backend's status line is not HTTP/1.x: \"{Printable(statusLine)}\"");
        }

        var fields = new List<KeyValuePair<string, string>>(8);
        while (!text.IsEmpty)
        {
            var line = NextLine(ref text);
            if (line.IsEmpty)
            {
                continue;
            }

            var colon = line.IndexOf(':');
            if (colon <= 0 || line[0] is ' ' or '\t' || line[colon - 1] is ' ' or '\t' || line[..colon].ContainsAnyExcept(TokenCharacters))
            {
                throw new InvalidDataException($"the backend sent a malformed header line: \"{Printable(line)}\"");
            }

            fields.Add(new(line[..colon].ToString(), line[(colon + 1)..].Trim(" \t").ToString()));
        }

        return new ResponseHead(status, statusLine.Length > 13 ? statusLine[13..].ToString() : "", fields);
    }

    /// <summary>The text up to the next CRLF (or the end), which it takes off <paramref name="text"/>.</summary>
    private static ReadOnlySpan<char> NextLine(ref ReadOnlySpan<char> text)
    {
        var end = text.IndexOf("\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            var last = text;
            text = ReadOnlySpan<char>.Empty;
            return last;
        }

        var line = text[..end];
        text = text[(end + 2)..];
        return line;
    }

    // RFC 9110 §5.6.2 token characters.
    private static readonly SearchValues<char> TokenCharacters =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    private static string Printable(ReadOnlySpan<char> line)
    {
        var shown = line.Length > 80 ? line[..80].ToString() + "..." : line.ToString();
        return string.Concat(shown.Select(c => c is < ' ' or > '~' ? '?' : c));
    }
}
