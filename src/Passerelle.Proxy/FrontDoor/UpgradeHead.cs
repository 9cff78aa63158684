using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Passerelle.Proxy.FrontDoor;

/// <summary>
/// A WebSocket opening handshake (RFC 6455 §4.1) read from a connection's first bytes, accepted only in the plain
/// form WebSocket clients send: <c>GET</c>, an origin-form target without percent-encoding or dot segments (so the
/// path needs no decoding or normalising and means the same to every reader), <c>HTTP/1.1</c>, CRLF line ends,
/// token field names, visible-ASCII field values, no folding, one <c>Host</c>, <c>Upgrade: websocket</c>,
/// <c>Connection</c> naming <c>upgrade</c>, and no body framing. Anything else is not refused here: it is left to
/// Kestrel's HTTP/1.1 server, which reads it from the start (<see cref="FrontDoorListener"/>).
/// </summary>
internal sealed class UpgradeHead
{
    /// <summary>A head is read from the first bytes the client sent, at most this many.</summary>
    public const int MaxLength = 8 * 1024;

    private const int MaxFields = 64;

    // The names every handshake carries, shared instead of allocated per connection.
    private static readonly string[] CommonNames =
    [
        "Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions",
        "Sec-WebSocket-Protocol", "Origin", "User-Agent", "Cookie", "Pragma", "Cache-Control", "Accept-Encoding",
        "Accept-Language", "Authorization", "X-Forwarded-For",
    ];

    private static readonly byte[][] CommonNameBytes = [.. CommonNames.Select(Encoding.ASCII.GetBytes)];

    private UpgradeHead(int length, string target, string path, string query, HeaderDictionary headers)
    {
        Length = length;
        Target = target;
        Path = path;
        Query = query;
        Headers = headers;
    }

    /// <summary>Bytes of the head, its blank line included: what the client sent before any frame.</summary>
    public int Length { get; }

    /// <summary>The request target as sent: path and query.</summary>
    public string Target { get; }

    /// <summary>The path, which needs no decoding (no <c>%</c>, no dot segments).</summary>
    public string Path { get; }

    /// <summary>The query with its <c>?</c>, or empty.</summary>
    public string Query { get; }

    public HeaderDictionary Headers { get; }

    /// <summary>The handshake at the start of <paramref name="bytes"/>, or null with why it is left to Kestrel.</summary>
    public static UpgradeHead? TryParse(ReadOnlySpan<byte> bytes, out string? notTaken)
    {
        var end = bytes.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            notTaken = bytes.Length >= MaxLength ? "head longer than the first read" : "head not complete in the first read";
            return null;
        }

        var head = bytes[..(end + 2)]; // each line with its CRLF
        var lineEnd = head.IndexOf("\r\n"u8);
        if (ParseRequestLine(head[..lineEnd]) is not var (target, path, query))
        {
            notTaken = "not a plain GET with an origin-form target over HTTP/1.1";
            return null;
        }

        var headers = new HeaderDictionary(Math.Min(head.Count("\r\n"u8) - 1, MaxFields)); // an entry per field line at most: no resizing
        var fields = 0;
        head = head[(lineEnd + 2)..];
        while (!head.IsEmpty)
        {
            lineEnd = head.IndexOf("\r\n"u8);
            if (++fields > MaxFields || !TryParseField(head[..lineEnd], out var name, out var value))
            {
                notTaken = "a header field outside the plain form";
                return null;
            }

            headers.Append(name, value);
            head = head[(lineEnd + 2)..];
        }

        notTaken = Check(headers);
        return notTaken is null ? new UpgradeHead(end + 4, target, path, query, headers) : null;
    }

    private static string? Check(IHeaderDictionary headers)
    {
        if (headers.Host.Count != 1 || !IsHost(headers.Host.ToString()))
        {
            return "not exactly one plain Host";
        }

        if (headers.Upgrade.Count != 1 || !headers.Upgrade.ToString().Equals("websocket", StringComparison.OrdinalIgnoreCase))
        {
            return "not Upgrade: websocket";
        }

        if (!NamesUpgrade(headers.Connection))
        {
            return "Connection does not name upgrade";
        }

        return headers.ContainsKey("Content-Length") || headers.ContainsKey("Transfer-Encoding") ? "body framing on a handshake" : null;
    }

    private static (string Target, string Path, string Query)? ParseRequestLine(ReadOnlySpan<byte> line)
    {
        if (!line.StartsWith("GET /"u8) || !line.EndsWith(" HTTP/1.1"u8))
        {
            return null;
        }

        var target = line[4..^9];
        var question = target.IndexOf((byte)'?');
        var path = question < 0 ? target : target[..question];
        foreach (var b in path)
        {
            if (!IsPathByte(b))
            {
                return null;
            }
        }

        if (HasDotSegment(path))
        {
            return null;
        }

        if (question >= 0)
        {
            foreach (var b in target[(question + 1)..])
            {
                if (!IsPathByte(b) && b is not ((byte)'?' or (byte)'%'))
                {
                    return null;
                }
            }
        }

        var text = Encoding.ASCII.GetString(target);
        return question < 0 ? (text, text, "") : (text, text[..question], text[question..]);
    }

    private static bool HasDotSegment(ReadOnlySpan<byte> path)
    {
        foreach (var range in path.Split((byte)'/'))
        {
            var segment = path[range];
            if (segment.SequenceEqual("."u8) || segment.SequenceEqual(".."u8))
            {
                return true;
            }
        }

        return false;
    }

    // RFC 3986 pchar without pct-encoded, and '/'.
    private static bool IsPathByte(byte b) =>
        char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~' or (byte)'!' or (byte)'$' or (byte)'&'
            or (byte)'\'' or (byte)'(' or (byte)')' or (byte)'*' or (byte)'+' or (byte)',' or (byte)';' or (byte)'=' or (byte)':' or (byte)'@'
            or (byte)'/';

    private static bool TryParseField(ReadOnlySpan<byte> line, out string name, out string value)
    {
        (name, value) = ("", "");
        var colon = line.IndexOf((byte)':');
        if (colon <= 0)
        {
            return false;
        }

        if (line[..colon].ContainsAnyExcept(Splice.HttpSyntax.TokenBytes))
        {
            return false;
        }

        var raw = line[(colon + 1)..].Trim(" \t"u8);
        foreach (var b in raw)
        {
            if (b is not ((>= 0x21 and <= 0x7E) or (byte)' ' or (byte)'\t'))
            {
                return false;
            }
        }

        if (raw.IsEmpty)
        {
            return false; // an empty field means something different to each reader (HeaderDictionary drops it)
        }

        name = NameOf(line[..colon]);
        value = Encoding.ASCII.GetString(raw);
        return true;
    }

    private static string NameOf(ReadOnlySpan<byte> name)
    {
        for (var i = 0; i < CommonNameBytes.Length; i++)
        {
            if (name.SequenceEqual(CommonNameBytes[i]))
            {
                return CommonNames[i];
            }
        }

        return Encoding.ASCII.GetString(name);
    }

    /// <summary>
    /// <c>host [ ":" port ]</c> with a name of letters, digits, hyphens and dots, or a bracketed IPv6 address, and a
    /// port of 1 to 5 digits. Anything else (an empty port, a second colon, an underscore...) is left to Kestrel's rules.
    /// </summary>
    private static bool IsHost(string host)
    {
        // Where the name ends: after the bracket of an IPv6 literal, or at the first colon.
        int nameEnd;
        if (host.StartsWith('['))
        {
            nameEnd = host.IndexOf(']') + 1;
            if (nameEnd < 3 || host.AsSpan(1, nameEnd - 2).ContainsAnyExcept(Ipv6Chars))
            {
                return false;
            }
        }
        else
        {
            nameEnd = host.IndexOf(':');
            nameEnd = nameEnd < 0 ? host.Length : nameEnd;
            if (nameEnd == 0 || host.AsSpan(0, nameEnd).ContainsAnyExcept(HostNameChars))
            {
                return false;
            }
        }

        if (nameEnd == host.Length)
        {
            return true;
        }

        var port = host.AsSpan(nameEnd + 1);
        return host[nameEnd] == ':' && port.Length is >= 1 and <= 5 && !port.ContainsAnyExcept(Digits);
    }

    private static readonly System.Buffers.SearchValues<char> Ipv6Chars = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF:.");

    private static readonly System.Buffers.SearchValues<char> Digits = System.Buffers.SearchValues.Create("0123456789");

    private static readonly System.Buffers.SearchValues<char> HostNameChars =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.");

    private static bool NamesUpgrade(StringValues connection)
    {
        foreach (var value in connection)
        {
            foreach (var range in value.AsSpan().Split(','))
            {
                if (value.AsSpan(range).Trim().Equals("upgrade", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
