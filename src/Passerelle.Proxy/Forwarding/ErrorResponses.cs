using Microsoft.AspNetCore.Http;

namespace Passerelle.Proxy.Forwarding;

/// <summary>
/// The gateway's own answers. Short plain text that says what happened and what to look at, because the person
/// reading it is usually running curl against a misconfigured route.
/// </summary>
internal static class ErrorResponses
{
    public static Task NoRoute(HttpContext context) =>
        Write(context, StatusCodes.Status404NotFound, "no-route",
            $"404 Not Found: no route for host \"{context.Request.Host.Host}\" and path \"{context.Request.Path.Value}\"\n");

    public static Task BadGateway(HttpContext context, string service, string reason) =>
        Write(context, StatusCodes.Status502BadGateway, "bad-gateway", $"502 Bad Gateway: {service}: {reason}\n");

    public static Task GatewayTimeout(HttpContext context, string service, string reason) =>
        Write(context, StatusCodes.Status504GatewayTimeout, "gateway-timeout", $"504 Gateway Timeout: {service}: {reason}\n");

    /// <summary>The <c>X-Passerelle-Error</c> header tells a gateway answer from a backend's with the same status.</summary>
    private static Task Write(HttpContext context, int status, string code, string text)
    {
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        context.Response.Clear();
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers["X-Passerelle-Error"] = code;
        return context.Response.WriteAsync("Passerelle: " + text, context.RequestAborted);
    }
}
