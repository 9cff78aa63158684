using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Passerelle.Health;
using Passerelle.Kubernetes.Api.Status;
using Passerelle.Model.Text;
using Passerelle.Proxy.Runtime;

namespace Passerelle.Hosting;

/// <summary>
/// The admin listener's answers, for orchestrators and for people: <c>/healthz</c> (the process is alive),
/// <c>/readyz</c> (a configuration is loaded and the gateway is not stopping, with the source's state as JSON)
/// and <c>/config</c> (the routing
/// table and diagnostics, as <c>passerelle check</c> prints them), <c>/backend-health</c> (JSON) and
/// <c>/backend-health.html</c> (the same for a browser, like the portal's Backend health view).
/// </summary>
internal sealed class AdminEndpoints(
    SnapshotHolder snapshots,
    ConfigurationLoop configuration,
    HealthMonitor health,
    IHostApplicationLifetime lifetime,
    IngressStatusPublisher? statusPublisher)
{
    public Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        switch (context.Request.Path.Value)
        {
            case "/healthz":
                return Text(response, StatusCodes.Status200OK, "ok\n");

            case "/readyz":
                return Readiness(response);

            case "/config":
                if (context.Request.Query.ContainsKey("json"))
                {
                    response.ContentType = "application/json";
                    return response.WriteAsync(JsonSerializer.Serialize(new
                    {
                        generation = snapshots.Generation,
                        routes = snapshots.Model.Routes,
                        defaultRoute = snapshots.Model.DefaultRoute,
                        pools = snapshots.Model.Pools.Values,
                        diagnostics = configuration.Diagnostics.Select(d => d.ToString()),
                    }, JsonOptions));
                }

                return Text(response, StatusCodes.Status200OK,
                    RoutingTableText.Format(snapshots.Model) + Environment.NewLine + DiagnosticsText.Format(configuration.Diagnostics));

            case "/backend-health":
                response.ContentType = "application/json";
                return response.WriteAsync(JsonSerializer.Serialize(BackendHealthReport.Create(snapshots.Model, health), JsonOptions));

            case "/backend-health.html":
                response.ContentType = "text/html; charset=utf-8";
                return response.WriteAsync(BackendHealthPage.Render(BackendHealthReport.Create(snapshots.Model, health)));

            default:
                return Text(response, StatusCodes.Status404NotFound, "admin endpoints: /healthz /readyz /config /backend-health /backend-health.html\n");
        }
    }

    /// <summary>
    /// 200 once a configuration is published and until the gateway stops. An API outage does not make the gateway
    /// unready: it goes on serving the last known configuration, which is what taking it out of the load
    /// balancer would lose; <c>detail</c> and <c>source</c> say so.
    /// </summary>
    private Task Readiness(HttpResponse response)
    {
        var source = configuration.Source.Readiness;
        var stopping = lifetime.ApplicationStopping.IsCancellationRequested;
        var ready = !stopping && snapshots.HasConfiguration;
        response.StatusCode = ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        response.ContentType = "application/json";
        return response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = stopping ? "stopping" : ready ? "ready" : "not ready",
            detail = stopping ? "stopping" : snapshots.HasConfiguration ? source.Detail : $"no configuration loaded yet: {source.Detail}",
            generation = snapshots.Generation,
            source = new { kind = source.Source, complete = source.Complete, details = source.Details },
            ingressStatus = statusPublisher?.Readiness,
        }, JsonOptions) + "\n");
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private static Task Text(HttpResponse response, int status, string text)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(text);
    }
}
