using System.Diagnostics;
using System.Net;
using Passerelle.Model;
using Passerelle.Model.Health;

namespace Passerelle.Health.Probes;

/// <summary>
/// Application Gateway's probe: a GET of the probe path with the probe host in Host, healthy when the status is
/// in the probe's ranges. Redirects are not followed (a 3xx is a status like any other), and the body is not
/// read.
/// </summary>
internal sealed class HttpProbe : IDisposable
{
    private readonly HttpMessageInvoker _client = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,

        // Backends behind an ingress usually present self-signed or internal certificates; TLS policy for
        // backends comes with TLS support.
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    });

    public async Task<ProbeResult> RunAsync(BackendEndpoint endpoint, ProbeSpec probe, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var url = ProbeTargets.Url(probe.Scheme, endpoint, probe);
        var what = $"GET {probe.Scheme}://{probe.Host}{probe.Path}";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(probe.Timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Host = probe.Host;
            request.Headers.UserAgent.ParseAdd("Passerelle-Probe/1.0");
            using var response = await _client.SendAsync(request, timeout.Token);
            var status = (int)response.StatusCode;
            return new ProbeResult(probe.HealthyStatuses.Contains(status), ProbeMode.Http, $"{what} -> {status}",
                Stopwatch.GetElapsedTime(started), DateTimeOffset.UtcNow) { StatusCode = status };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ProbeResult(false, ProbeMode.Http, $"{what} -> no answer within {probe.Timeout.TotalSeconds:0.###} s",
                Stopwatch.GetElapsedTime(started), DateTimeOffset.UtcNow);
        }
        catch (HttpRequestException e)
        {
            return new ProbeResult(false, ProbeMode.Http, $"{what} -> {ConnectionErrors.Describe(e)}",
                Stopwatch.GetElapsedTime(started), DateTimeOffset.UtcNow);
        }
    }

    public void Dispose() => _client.Dispose();
}
