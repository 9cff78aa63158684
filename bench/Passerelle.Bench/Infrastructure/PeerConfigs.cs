using System.Net;

namespace Passerelle.Bench.Infrastructure;

/// <summary>The config files of the peers that are configured by file: nginx and HAProxy, each as its docs recommend.</summary>
internal static class PeerConfigs
{
    /// <summary>
    /// nginx's documented WebSocket proxying (https://nginx.org/en/docs/http/websocket.html) with its documented
    /// keep-alive to the upstream for plain HTTP (the Connection header is cleared for requests that do not upgrade,
    /// as the keepalive directive's docs ask), one worker, in the foreground. Each proxied WebSocket takes two worker
    /// connections; with 2 × C + 128 nginx ran out ("worker_connections are not enough") at C = 2000, so the limits
    /// leave ample room. Capped at the open-file limit
    /// (19,900 slots) nginx still ran out at C = 9,750 (418 refused), so worker_connections is not capped; nginx only
    /// warns that it exceeds the file limit. The connection array is allocated when the worker starts, before any baseline reading.
    /// </summary>
    public static string Nginx(string tmp, string stem, int port, IPEndPoint upstream, int capacity) => $$"""
        daemon off;
        worker_processes 1;
        worker_rlimit_nofile {{Math.Min((4L * capacity) + 1024, ProcFs.OpenFilesHardLimit())}};
        pid {{tmp}}/{{stem}}-nginx.pid;
        error_log stderr warn;
        events { worker_connections {{(4 * capacity) + 512}}; }
        http {
            access_log off;
            client_body_temp_path {{tmp}}/{{stem}}-nginx-body;
            proxy_temp_path {{tmp}}/{{stem}}-nginx-proxy;
            map $http_upgrade $connection_upgrade {
                default upgrade;
                ''      '';
            }
            upstream echo {
                server {{upstream}};
                keepalive 64;
            }
            server {
                listen 127.0.0.1:{{port}} backlog=4096;
                location / {
                    proxy_pass http://echo;
                    proxy_http_version 1.1;
                    proxy_set_header Upgrade $http_upgrade;
                    proxy_set_header Connection $connection_upgrade;
                    proxy_set_header Host $host;
                    proxy_read_timeout 1h;
                    proxy_send_timeout 1h;
                }
            }
        }

        """;

    /// <summary>
    /// HAProxy's documented WebSocket setup (mode http, timeout tunnel), one thread, in the foreground (-db). HTTP/1.1
    /// keep-alive on both sides and server-connection reuse are its defaults. It raises its own file limit from maxconn.
    /// </summary>
    public static string Haproxy(int port, IPEndPoint upstream, int capacity) => $$"""
        global
            nbthread 1
            maxconn {{capacity + 64}}

        defaults
            mode http
            timeout connect 5s
            timeout client 30s
            timeout server 30s
            timeout tunnel 1h

        frontend bench
            bind 127.0.0.1:{{port}}
            default_backend echo

        backend echo
            server echo {{upstream}}

        """;

    /// <summary>Service, EndpointSlice and Ingress routing <c>/</c> of any host to <paramref name="upstream"/>, for Passerelle.</summary>
    public static string PasserelleManifests(IPEndPoint upstream) => $$"""
        apiVersion: v1
        kind: Service
        metadata:
          name: echo
        spec:
          ports:
            - port: 80
              targetPort: {{upstream.Port}}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: echo-slice
          labels:
            kubernetes.io/service-name: echo
        addressType: IPv4
        ports:
          - port: {{upstream.Port}}
        endpoints:
          - addresses: ["{{upstream.Address}}"]
            conditions:
              ready: true
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata:
          name: echo
          annotations:
            kubernetes.io/ingress.class: azure/application-gateway
            appgw.ingress.kubernetes.io/health-probe-path: /health
        spec:
          rules:
            - http:
                paths:
                  - path: /
                    pathType: Prefix
                    backend:
                      service:
                        name: echo
                        port:
                          number: 80

        """;
}
