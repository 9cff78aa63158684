using System.Text;
using Microsoft.AspNetCore.Http;
using Passerelle.Proxy.FrontDoor;

namespace Passerelle.Proxy.Tests.FrontDoor;

/// <summary>
/// Which first bytes the front door takes as a WebSocket handshake it serves itself (<see cref="UpgradeHead"/>), and
/// that everything else is left to Kestrel with a reason.
/// </summary>
public sealed class UpgradeHeadTests
{
    private const string Browser =
        "GET /chat/ws?room=1&x=%20y HTTP/1.1\r\n" +
        "Host: ws.contoso.com:8080\r\n" +
        "Connection: Upgrade\r\n" +
        "Pragma: no-cache\r\n" +
        "Cache-Control: no-cache\r\n" +
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n" +
        "Upgrade: websocket\r\n" +
        "Origin: https://ws.contoso.com\r\n" +
        "Sec-WebSocket-Version: 13\r\n" +
        "Accept-Encoding: gzip, deflate, br, zstd\r\n" +
        "Accept-Language: en-GB,en;q=0.9,fr;q=0.8\r\n" +
        "Cookie: session=abc; theme=dark\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
        "X-Trace: one\r\n" +
        "x-trace: \ttwo \r\n" +
        "\r\n";

    [Fact]
    public void ABrowsersHandshakeIsTakenWithItsTargetAndFieldsAsSent()
    {
        var head = Parse(Browser, out var notTaken);

        Assert.NotNull(head);
        Assert.Null(notTaken);
        Assert.Equal(Encoding.ASCII.GetByteCount(Browser), head.Length);
        Assert.Equal("/chat/ws?room=1&x=%20y", head.Target);
        Assert.Equal("/chat/ws", head.Path);
        Assert.Equal("?room=1&x=%20y", head.Query);
        IHeaderDictionary headers = head.Headers;
        Assert.Equal("ws.contoso.com:8080", headers.Host.ToString());
        Assert.Equal("websocket", headers.Upgrade.ToString());
        Assert.Equal("Upgrade", headers.Connection.ToString());
        Assert.Equal("dGhlIHNhbXBsZSBub25jZQ==", headers.SecWebSocketKey.ToString());
        Assert.Equal("13", headers.SecWebSocketVersion.ToString());
        Assert.Equal("permessage-deflate; client_max_window_bits", headers.SecWebSocketExtensions.ToString());
        Assert.Equal("https://ws.contoso.com", headers.Origin.ToString());
        Assert.Equal("session=abc; theme=dark", headers.Cookie.ToString());
        Assert.Equal("gzip, deflate, br, zstd", headers.AcceptEncoding.ToString());
        Assert.Equal("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            headers.UserAgent.ToString());

        // A repeated field keeps each value, trimmed, in order, whatever the case of its name.
        Assert.Equal(new[] { "one", "two" }, headers["X-TRACE"].ToArray());
        string[] names =
        [
            "Host", "Connection", "Pragma", "Cache-Control", "User-Agent", "Upgrade", "Origin", "Sec-WebSocket-Version", "Accept-Encoding",
            "Accept-Language", "Cookie", "Sec-WebSocket-Key", "Sec-WebSocket-Extensions", "X-Trace",
        ];
        Assert.Equal(names.Order(StringComparer.Ordinal), headers.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(15, head.Headers.Sum(h => h.Value.Count));
    }

    [Fact]
    public void ATargetWithoutQueryHasAnEmptyQuery()
    {
        var head = Parse(Handshake("GET /ws HTTP/1.1"), out _);

        Assert.NotNull(head);
        Assert.Equal("/ws", head.Target);
        Assert.Equal("/ws", head.Path);
        Assert.Equal("", head.Query);
    }

    [Theory]
    [InlineData("GET /ws?token=a%2Fb%3D%3D HTTP/1.1", "/ws", "?token=a%2Fb%3D%3D")]
    [InlineData("GET /ws?next=/a/../b?c HTTP/1.1", "/ws", "?next=/a/../b?c")]
    [InlineData("GET / HTTP/1.1", "/", "")]
    [InlineData("GET /a/.../b/..c/.d HTTP/1.1", "/a/.../b/..c/.d", "")]
    public void PercentEncodingAndDotsAreAllowedWhereTheyNeedNoDecoding(string requestLine, string path, string query)
    {
        var head = Parse(Handshake(requestLine), out var notTaken);

        Assert.True(head is not null, notTaken);
        Assert.Equal(path, head.Path);
        Assert.Equal(query, head.Query);
    }

    [Theory]
    [InlineData("Connection: keep-alive, Upgrade")]
    [InlineData("Connection: UPGRADE")]
    [InlineData("Connection: keep-alive,upgrade ")]
    [InlineData("Connection: keep-alive\r\nConnection: Upgrade")]
    public void AConnectionFieldNamingUpgradeAmongOthersIsTaken(string connection)
    {
        var head = Parse(Handshake(connection: connection), out var notTaken);

        Assert.True(head is not null, notTaken);
    }

    [Fact]
    public void BytesAfterTheBlankLineAreTheWebSocketsNotTheHeads()
    {
        var text = Handshake();
        byte[] frame = [0x81, 0x85, 0x11, 0x22, 0x33, 0x44, 0x79, 0x47, 0x5F, 0x28, 0x7E];
        byte[] bytes = [.. Encoding.ASCII.GetBytes(text), .. frame, .. Encoding.ASCII.GetBytes("\r\n\r\n")];

        var head = UpgradeHead.TryParse(bytes, out _);

        Assert.NotNull(head);
        Assert.Equal(text.Length, head.Length);
        Assert.Equal(frame, bytes[head.Length..^4]);
    }

    [Fact]
    public void SixtyFourFieldsAreTakenAndSixtyFiveAreNot()
    {
        // The handshake has four fields of its own.
        var sixtyFour = Handshake(extra: string.Concat(Enumerable.Range(0, 60).Select(i => $"X-F{i}: {i}\r\n")));
        var sixtyFive = Handshake(extra: string.Concat(Enumerable.Range(0, 61).Select(i => $"X-F{i}: {i}\r\n")));

        Assert.NotNull(Parse(sixtyFour, out _));
        AssertNotTaken(sixtyFive);
    }

    [Fact]
    public void AHeadOfEightKibibytesIsTakenAndOneNotCompleteWithinThemIsNot()
    {
        var pad = new string('a', UpgradeHead.MaxLength - Handshake(extra: "X-Pad: \r\n").Length);
        var full = Handshake(extra: $"X-Pad: {pad}\r\n");
        Assert.Equal(UpgradeHead.MaxLength, full.Length);

        Assert.NotNull(Parse(full, out _));

        // What the front door sees of a longer head: its first 8 KiB, without the blank line.
        var longer = Handshake(extra: $"X-Pad: {pad}a\r\n");
        var seen = Encoding.ASCII.GetBytes(longer)[..UpgradeHead.MaxLength];
        Assert.Null(UpgradeHead.TryParse(seen, out var notTaken));
        Assert.Contains("longer", notTaken);
    }

    [Theory]
    [InlineData("", "not complete")]
    [InlineData("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n", "not complete")]
    [InlineData("GET /ws HTTP/1.1\r\n", "not complete")]
    [InlineData("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r", "not complete")]
    public void AHeadNotCompleteInTheFirstBytesIsNotTaken(string text, string reason)
    {
        Assert.Null(Parse(text, out var notTaken));
        Assert.Contains(reason, notTaken);
    }

    [Theory]
    [InlineData("POST /ws HTTP/1.1")]
    [InlineData("get /ws HTTP/1.1")]
    [InlineData("GET http://ws.contoso.com/ws HTTP/1.1")]
    [InlineData("GET * HTTP/1.1")]
    [InlineData("GET ws.contoso.com:80 HTTP/1.1")]
    [InlineData("GET /ws HTTP/1.0")]
    [InlineData("GET /ws HTTP/2.0")]
    [InlineData("GET /ws http/1.1")]
    [InlineData("GET /ws HTTP/1.1 ")]
    [InlineData("GET  /ws HTTP/1.1")]
    [InlineData("GET /ws  HTTP/1.1")]
    [InlineData("GET /w s HTTP/1.1")]
    [InlineData("GET /ws#frag HTTP/1.1")]
    [InlineData("GET /chat%2Fws HTTP/1.1")]
    [InlineData("GET /w%73 HTTP/1.1")]
    [InlineData("GET /a/../b HTTP/1.1")]
    [InlineData("GET /a/./b HTTP/1.1")]
    [InlineData("GET /./ HTTP/1.1")]
    [InlineData("GET /a/.. HTTP/1.1")]
    [InlineData("GET /a/. HTTP/1.1")]
    [InlineData("GET /.. HTTP/1.1")]
    [InlineData("GET /../ws?x=1 HTTP/1.1")]
    [InlineData("GET /a\\b HTTP/1.1")]
    [InlineData("GET /ws?a b HTTP/1.1")]
    [InlineData("GET /ws?a#b HTTP/1.1")]
    public void ARequestLineOutsideThePlainFormIsNotTaken(string requestLine) => AssertNotTaken(Handshake(requestLine));

    [Theory]
    [InlineData("Upgrade: websocket\r\n folded: continuation")]
    [InlineData("Upgrade: websocket\r\n\tcontinued")]
    [InlineData("Upgrade : websocket")]
    [InlineData("Upgrade\t: websocket")]
    [InlineData("X(y): 1")]
    [InlineData(": no name")]
    [InlineData("No colon")]
    [InlineData("X-Value: caf\u00e9")]
    [InlineData("X-Value: a\u0001b")]
    [InlineData("X-Value: a\u007fb")]
    [InlineData("X-Name\u00e9: 1")]
    public void AFieldOutsideThePlainFormIsNotTaken(string field) => AssertNotTaken(Handshake(extra: field + "\r\n"));

    [Fact]
    public void BareLineFeedsAreNotTaken()
    {
        AssertNotTaken(Handshake().Replace("\r\n", "\n"));
        AssertNotTaken(Handshake().Replace("Upgrade: websocket\r\n", "Upgrade: websocket\n"));
        AssertNotTaken(Handshake().Replace("GET /ws HTTP/1.1\r\n", "GET /ws HTTP/1.1\n"));
    }

    [Fact]
    public void ACarriageReturnInsideAFieldIsNotTaken() =>
        AssertNotTaken(Handshake().Replace("Upgrade: websocket\r\n", "Upgrade: websocket\rX-Smuggled: 1\r\n"));

    [Theory]
    [InlineData("Host: a\r\nHost: b")]
    [InlineData("Host: a\r\nhost: a")]
    [InlineData("Host: a, b")]
    [InlineData("Host: a b")]
    [InlineData("Host: user@a")]
    [InlineData("Host: a/b")]
    [InlineData("Host:")]
    public void AnythingButOnePlainHostIsNotTaken(string host) => AssertNotTaken(Handshake(host: host));

    [Fact]
    public void AMissingHostIsNotTaken() => AssertNotTaken(Handshake(host: null));

    [Theory]
    [InlineData("Upgrade: h2c")]
    [InlineData("Upgrade: websocket, h2c")]
    [InlineData("Upgrade: websocket\r\nUpgrade: websocket")]
    [InlineData("Upgrade:")]
    [InlineData(null)]
    public void AnUpgradeToAnythingButWebsocketIsNotTaken(string? upgrade) => AssertNotTaken(Handshake(upgrade: upgrade));

    [Theory]
    [InlineData("Connection: keep-alive")]
    [InlineData("Connection: upgraded")]
    [InlineData("Connection: close")]
    [InlineData(null)]
    public void AConnectionFieldThatDoesNotNameUpgradeIsNotTaken(string? connection) => AssertNotTaken(Handshake(connection: connection));

    [Theory]
    [InlineData("Content-Length: 0")]
    [InlineData("content-length: 5")]
    [InlineData("Transfer-Encoding: chunked")]
    [InlineData("Transfer-Encoding: identity")]
    public void BodyFramingIsNotTaken(string framing) => AssertNotTaken(Handshake(extra: framing + "\r\n"));

    // Kestrel answers these 400 (a Transfer-Encoding or Content-Length on an upgrade; two Host fields): an empty value
    // is a field all the same, and the front door must not serve what Kestrel refuses.
    [Theory]
    [InlineData("Transfer-Encoding:")]
    [InlineData("Content-Length:")]
    [InlineData("Content-Length: ")]
    public void EmptyBodyFramingIsNotTaken(string framing) => AssertNotTaken(Handshake(extra: framing + "\r\n"));

    [Fact]
    public void AnEmptyHostBeforeAnotherHostIsNotTaken() => AssertNotTaken(Handshake(host: "Host:\r\nHost: ws.contoso.com"));

    // Kestrel validates Host as uri-host [ ":" port ] and answers 400 to these.
    [Theory]
    [InlineData("Host: a:b")]
    [InlineData("Host: a:80:80")]
    [InlineData("Host: a:")]
    [InlineData("Host: [::1")]
    [InlineData("Host: a]")]
    [InlineData("Host: :80")]
    public void AHostThatIsNotAHostAndPortIsNotTaken(string host) => AssertNotTaken(Handshake(host: host));

    private static string Handshake(string requestLine = "GET /ws HTTP/1.1", string? host = "Host: ws.contoso.com", string? upgrade = "Upgrade: websocket",
        string? connection = "Connection: Upgrade", string extra = "")
    {
        var text = new StringBuilder(requestLine).Append("\r\n");
        foreach (var field in new[] { host, upgrade, connection, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" })
        {
            if (field is not null)
            {
                text.Append(field).Append("\r\n");
            }
        }

        return text.Append(extra).Append("\r\n").ToString();
    }

    private static UpgradeHead? Parse(string text, out string? notTaken) => UpgradeHead.TryParse(Encoding.Latin1.GetBytes(text), out notTaken);

    private static void AssertNotTaken(string text)
    {
        var head = Parse(text, out var notTaken);
        Assert.True(head is null, $"taken: {text}");
        Assert.False(string.IsNullOrWhiteSpace(notTaken), "no reason given");
    }
}
