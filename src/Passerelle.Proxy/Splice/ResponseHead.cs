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
        for (var i = 0; i < Fields.Count; i++)
        {
            var (key, fieldValue) = Fields[i];
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
        for (var i = 0; i < Fields.Count; i++)
        {
            var (key, value) = Fields[i];
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
        // Each line is looked at in place; only names, values and the reason become strings (Latin-1: a byte each).
        var statusLine = NextLine(ref head);

        // HTTP/1.x SP 3DIGIT SP [reason]
        if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || statusLine[8] != (byte)' ' ||
            statusLine.Slice(9, 3).ContainsAnyExceptInRange((byte)'0', (byte)'9') || statusLine[9] == (byte)'0' ||
            (statusLine.Length > 12 && statusLine[12] != (byte)' '))
        {
            throw new InvalidDataException($"the backend's status line is not HTTP/1.x: \"{Printable(statusLine)}\"");
        }

        var status = ((statusLine[9] - '0') * 100) + ((statusLine[10] - '0') * 10) + (statusLine[11] - '0');
        var fields = new List<KeyValuePair<string, string>>(8);
        while (!head.IsEmpty)
        {
            var line = NextLine(ref head);
            if (line.IsEmpty)
            {
                continue;
            }

            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || line[0] is (byte)' ' or (byte)'\t' || line[colon - 1] is (byte)' ' or (byte)'\t' || line[..colon].ContainsAnyExcept(HttpSyntax.TokenBytes))
            {
                throw new InvalidDataException($"the backend sent a malformed header line: \"{Printable(line)}\"");
            }

            fields.Add(new(Encoding.Latin1.GetString(line[..colon]), Encoding.Latin1.GetString(line[(colon + 1)..].Trim(" \t"u8))));
        }

        return new ResponseHead(status, statusLine.Length > 13 ? Encoding.Latin1.GetString(statusLine[13..]) : "", fields);
    }

    /// <summary>The bytes up to the next CRLF (or the end), which it takes off <paramref name="bytes"/>.</summary>
    private static ReadOnlySpan<byte> NextLine(ref ReadOnlySpan<byte> bytes)
    {
        var end = bytes.IndexOf("\r\n"u8);
        if (end < 0)
        {
            var last = bytes;
            bytes = ReadOnlySpan<byte>.Empty;
            return last;
        }

        var line = bytes[..end];
        bytes = bytes[(end + 2)..];
        return line;
    }

    private static string Printable(ReadOnlySpan<byte> line)
    {
        var shown = Encoding.Latin1.GetString(line.Length > 80 ? line[..80] : line);
        return string.Concat(shown.Select(c => c is < ' ' or > '~' ? '?' : c)) + (line.Length > 80 ? "..." : "");
    }
}
