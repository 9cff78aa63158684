using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Passerelle.Health;
using Passerelle.Model.Text;
using Passerelle.Proxy.Runtime;

namespace Passerelle.Hosting;

/// <summary>
/// The admin listener's answers, for orchestrators and for people: <c>/healthz</c> (the process is alive),
/// <c>/readyz</c> (a configuration is loaded and the gateway is not stopping) and <c>/config</c> (the routing
/// table and diagnostics, as <c>passerelle check</c> prints them), <c>/backend-health</c> (JSON) and
/// <c>/backend-health.html</c> (the same for a browser, like the portal's Backend health view).
/// </summary>
internal sealed class AdminEndpoints(SnapshotHolder snapshots, ConfigurationLoop configuration, HealthMonitor health, IHostApplicationLifetime lifetime)
{
    public Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        switch (context.Request.Path.Value)
        {
            case "/healthz":
                return Text(response, StatusCodes.Status200OK, "ok\n");

            case "/readyz":
                if (lifetime.ApplicationStopping.IsCancellationRequested)
                {
                    return Text(response, StatusCodes.Status503ServiceUnavailable, "stopping\n");
                }

                return snapshots.HasConfiguration
                    ? Text(response, StatusCodes.Status200OK, $"ready (configuration generation {snapshots.Generation})\n")
                    : Text(response, StatusCodes.Status503ServiceUnavailable, "no configuration loaded yet\n");

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

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private static Task Text(HttpResponse response, int status, string text)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(text);
    }
}
