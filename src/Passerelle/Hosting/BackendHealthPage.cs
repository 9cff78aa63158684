using System.Net;
using System.Text;
using Passerelle.Health;

namespace Passerelle.Hosting;

/// <summary>The backend health report as a page a person reads in a browser; it refreshes itself every 5 s.</summary>
internal static class BackendHealthPage
{
    public static string Render(BackendHealthReport report)
    {
        var html = new StringBuilder("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
            <title>Passerelle: backend health</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2em;color:#222}
            table{border-collapse:collapse;margin-bottom:2em;width:100%}
            th,td{border:1px solid #ccc;padding:.35em .6em;text-align:left;font-size:.92em}
            th{background:#f3f3f3}
            .healthy{color:#176117}.unhealthy,.out{color:#a11}.unknown,.not{color:#666}
            code{font-size:.9em}
            </style></head><body>
            <h1>Backend health</h1>
            """);
        html.Append($"<p>As of {report.At:u}. <a href=\"/backend-health\">JSON</a></p>\n");
        if (report.Pools.Count == 0)
        {
            html.Append("<p>No backend pools.</p>\n");
        }

        foreach (var pool in report.Pools)
        {
            html.Append($"<h2>{E(pool.Service)}:{E(pool.Port)}</h2>\n")
                .Append($"<p>Probe: <code>{E(pool.Probe)}</code> (mode {E(pool.ProbeMode)})<br>")
                .Append($"Passerelle: <b>{E(pool.Passerelle)}</b>. Application Gateway: <b>{E(pool.ApplicationGateway)}</b>.");
            if (pool.Problem is not null)
            {
                html.Append($"<br>Problem: {E(pool.Problem)}");
            }

            html.Append("</p>\n<table><tr><th>Endpoint</th><th>State</th><th>Probe used</th><th>Last result</th><th>Latency</th><th>Since</th><th>Application Gateway</th></tr>\n");
            foreach (var e in pool.Endpoints)
            {
                var css = e.State.Split(' ')[0];
                html.Append($"<tr><td>{E(e.Endpoint)}</td><td class=\"{css}\">{E(e.State)}</td><td>{E(e.ModeUsed ?? "")}</td>")
                    .Append($"<td>{E(e.LastResult ?? e.PassiveFailure ?? "")}</td>")
                    .Append($"<td>{(e.LatencyMs is { } ms ? $"{ms:0.0} ms" : "")}</td><td>{(e.Since is { } since ? since.ToString("u") : "")}</td>")
                    .Append($"<td>{E(e.ApplicationGateway)}</td></tr>\n");
            }

            html.Append("</table>\n");
        }

        return html.Append("</body></html>\n").ToString();
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
