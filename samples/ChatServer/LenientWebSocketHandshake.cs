using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace ChatServer;

/// <summary>
/// The server's half of the RFC 6455 opening handshake over HTTP/1.1, done by hand on top of
/// <see cref="IHttpUpgradeFeature"/> because ASP.NET Core's WebSocket middleware refuses any key
/// that is not 16 base64-encoded bytes.
/// </summary>
/// <remarks>
/// RFC 6455 §4.1 makes the <em>client</em> send a key of 16 random bytes, base64-encoded, but §4.2.1 only asks
/// the server to find a |Sec-WebSocket-Key| header field, and §4.2.2 derives |Sec-WebSocket-Accept| from the key
/// as a string, without decoding it. gorilla/websocket and websocketd therefore accept any non-empty key, and the
/// founding document's curl test sends <c>Sec-WebSocket-Key: 123</c>; this server does the same unless
/// <see cref="ChatServerOptions.StrictHandshake"/> asks for the §4.1 check.
/// </remarks>
internal static class LenientWebSocketHandshake
{
    // RFC 6455 §1.3: the GUID a server appends to the key before hashing.
    private const string KeyGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    public readonly record struct Rejection(int StatusCode, string Reason);

    /// <summary>Checks the request against RFC 6455 §4.2.1; null when the handshake may proceed.</summary>
    public static Rejection? Check(HttpRequest request, IHttpUpgradeFeature? upgrade, bool strict)
    {
        var headers = request.Headers;
        if (!HttpMethods.IsGet(request.Method))
        {
            return new(StatusCodes.Status405MethodNotAllowed, "a WebSocket handshake must be a GET request");
        }
        if (!HasToken(headers.Connection, "upgrade"))
        {
            return new(StatusCodes.Status400BadRequest, "the Connection header lacks the 'upgrade' token");
        }
        if (!HasToken(headers.Upgrade, "websocket"))
        {
            return new(StatusCodes.Status400BadRequest, "the Upgrade header lacks the 'websocket' token");
        }
        if (headers.SecWebSocketVersion is not [ "13" ])
        {
            // §4.4: answer with the versions we speak so the client can retry.
            return new(StatusCodes.Status426UpgradeRequired, "only Sec-WebSocket-Version 13 is supported");
        }
        if (headers.SecWebSocketKey is not [ { Length: > 0 } key ])
        {
            return new(StatusCodes.Status400BadRequest, "Sec-WebSocket-Key is missing or repeated");
        }
        if (strict && !IsSixteenByteNonce(key))
        {
            return new(StatusCodes.Status400BadRequest, "Sec-WebSocket-Key is not 16 base64-encoded bytes (RFC 6455 §4.1)");
        }
        if (upgrade is not { IsUpgradableRequest: true })
        {
            return new(StatusCodes.Status400BadRequest, "the request cannot be upgraded (it is not HTTP/1.1, or it has a body)");
        }
        return null;
    }

    public static Task RejectAsync(HttpContext context, Rejection rejection)
    {
        var response = context.Response;
        response.StatusCode = rejection.StatusCode;
        if (rejection.StatusCode == StatusCodes.Status426UpgradeRequired)
        {
            response.Headers.SecWebSocketVersion = "13";
        }
        else if (rejection.StatusCode == StatusCodes.Status405MethodNotAllowed)
        {
            response.Headers.Allow = HttpMethods.Get;
        }
        return response.WriteAsync(rejection.Reason + "\n");
    }

    /// <summary>Sends the 101 response and returns the server end of the socket; call only after <see cref="Check"/>.</summary>
    public static async Task<WebSocket> AcceptAsync(HttpContext context, IHttpUpgradeFeature upgrade, WebSocketCreationOptions options)
    {
        var headers = context.Response.Headers;
        headers.Connection = "Upgrade";
        headers.Upgrade = "websocket";
        headers.SecWebSocketAccept = ComputeAccept(context.Request.Headers.SecWebSocketKey.ToString());
        var stream = new AbortOnDisposeStream(context, await upgrade.UpgradeAsync());
        var socket = WebSocket.CreateFromStream(stream, options);
        stream.Socket = socket;
        return socket;
    }

    /// <summary>RFC 6455 §4.2.2: base64(SHA-1(key + GUID)), the key taken verbatim.</summary>
    public static string ComputeAccept(string key) =>
        Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + KeyGuid)));

    private static bool IsSixteenByteNonce(string key)
    {
        Span<byte> nonce = stackalloc byte[18];
        return key.Length == 24 && Convert.TryFromBase64String(key, nonce, out var length) && length == 16;
    }

    private static bool HasToken(StringValues header, string token)
    {
        foreach (var value in header)
        {
            foreach (var item in (value ?? "").Split(',', StringSplitOptions.TrimEntries))
            {
                if (item.Equals(token, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }
        return false;
    }
}
