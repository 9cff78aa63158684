using System.CommandLine;
using System.Net;
using Passerelle.Health;
using Passerelle.Model.Health;
using Passerelle.Model.Translation;
using Passerelle.Proxy;

namespace Passerelle.Cli;

/// <summary>The options shared by the verbs that start a gateway, and their binding onto <see cref="GatewayOptions"/>.</summary>
internal sealed class CommonOptions
{
    private static readonly GatewayOptions Defaults = new();

    public Option<string[]> Files { get; } = new("--filename", "-f")
    {
        Description = "A manifest file or folder (its .yaml, .yml and .json files), like kubectl apply -f. Repeat for more.",
        HelpName = "PATH",
        Required = true,
        Arity = ArgumentArity.OneOrMore,
    };

    public Option<int> HttpPort { get; }

    public Option<IPAddress> ListenAddress { get; } = new("--listen-address")
    {
        Description = "Address of the traffic listener.",
        DefaultValueFactory = _ => Defaults.ListenAddress,
        CustomParser = r => ParseAddress(r.Tokens[0].Value, r),
    };

    public Option<int> AdminPort { get; } = new("--admin-port")
    {
        Description = "Port of the admin listener (/healthz, /readyz, /config).",
        DefaultValueFactory = _ => Defaults.AdminPort,
    };

    public Option<IPAddress> AdminAddress { get; } = new("--admin-address")
    {
        Description = "Address of the admin listener; loopback only unless you say otherwise.",
        DefaultValueFactory = _ => Defaults.AdminAddress,
        CustomParser = r => ParseAddress(r.Tokens[0].Value, r),
    };

    public Option<TimeSpan> RequestTimeout { get; } = Duration("--request-timeout",
        "How long a backend may stay silent while answering an HTTP request (30s as on Application Gateway). Never applies to WebSockets.",
        Defaults.RequestTimeout);

    public Option<TimeSpan> WebSocketIdleTimeout { get; } = Duration("--websocket-idle-timeout",
        "How long a WebSocket may carry no data in either direction before the gateway closes it (Close 1001, \"idle timeout\").",
        Defaults.WebSocketIdleTimeout);

    public Option<TimeSpan> ConnectTimeout { get; } = Duration("--connect-timeout",
        "How long to wait for a TCP connection to a backend before trying another endpoint.",
        Defaults.ConnectTimeout);

    public Option<TimeSpan> DrainTimeout { get; } = Duration("--drain-timeout",
        "How long WebSockets to an endpoint that left its Service may continue before the gateway closes them with 1001.",
        Defaults.DrainTimeout);

    public Option<TimeSpan> CloseSpread { get; } = Duration("--close-spread",
        "Window over which the Close frames of many WebSockets are spread, so clients do not reconnect all at once.",
        Defaults.CloseSpread);

    public Option<TimeSpan> ShutdownTimeout { get; } = Duration("--shutdown-timeout",
        "On SIGTERM: the longest the gateway takes to close its WebSockets politely, finish requests and stop.",
        Defaults.ShutdownTimeout);

    public Option<ProbeMode> HealthProbeMode { get; } = new("--health-probe-mode")
    {
        Description = "Probe mode of backends whose Ingress sets no passerelle.io/health-probe-mode: auto (HTTP probe, then a " +
            "WebSocket handshake when the endpoint answers like a WebSocket-only server), http, websocket, tcp, or appgw " +
            "(exactly Application Gateway's probe).",
        HelpName = "MODE",
        DefaultValueFactory = _ => ProbeMode.Auto,
        CustomParser = r =>
        {
            var text = r.Tokens[0].Value;
            if (ProbeModes.TryParse(text, out var mode))
            {
                return mode;
            }

            r.AddError($"--health-probe-mode: \"{text}\" is not a probe mode (auto, http, websocket, tcp, appgw)");
            return ProbeMode.Auto;
        },
    };

    public CommonOptions(int defaultHttpPort)
    {
        HttpPort = new Option<int>("--http-port")
        {
            Description = "Port of the traffic listener (HTTP/1.1, HTTP/2 and WebSocket).",
            DefaultValueFactory = _ => defaultHttpPort,
        };
    }

    public void AddListenerOptionsTo(Command command)
    {
        command.Options.Add(HttpPort);
        command.Options.Add(ListenAddress);
        command.Options.Add(AdminPort);
        command.Options.Add(AdminAddress);
        command.Options.Add(RequestTimeout);
        command.Options.Add(WebSocketIdleTimeout);
        command.Options.Add(ConnectTimeout);
        command.Options.Add(HealthProbeMode);
        command.Options.Add(DrainTimeout);
        command.Options.Add(CloseSpread);
        command.Options.Add(ShutdownTimeout);
    }

    public GatewayOptions Bind(ParseResult parse) => new()
    {
        HttpPort = parse.GetValue(HttpPort),
        ListenAddress = parse.GetValue(ListenAddress)!,
        AdminPort = parse.GetValue(AdminPort),
        AdminAddress = parse.GetValue(AdminAddress)!,
        RequestTimeout = parse.GetValue(RequestTimeout),
        WebSocketIdleTimeout = parse.GetValue(WebSocketIdleTimeout),
        ConnectTimeout = parse.GetValue(ConnectTimeout),
        Health = new HealthOptions { DefaultMode = parse.GetValue(HealthProbeMode) },
        DrainTimeout = parse.GetValue(DrainTimeout),
        CloseSpread = parse.GetValue(CloseSpread),
        ShutdownTimeout = parse.GetValue(ShutdownTimeout),
    };

    private static Option<TimeSpan> Duration(string name, string description, TimeSpan defaultValue) => new(name)
    {
        Description = description + " Seconds or a duration such as 90s, 30m, 1h.",
        HelpName = "DURATION",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            var text = r.Tokens[0].Value;
            if (DurationParser.TryParse(text, out var value))
            {
                return value;
            }

            r.AddError($"{name}: \"{text}\" is not a duration (give seconds, or a duration such as 90s, 30m, 1h)");
            return default;
        },
    };

    private static IPAddress ParseAddress(string text, System.CommandLine.Parsing.ArgumentResult result)
    {
        if (IPAddress.TryParse(text, out var address))
        {
            return address;
        }

        result.AddError($"\"{text}\" is not an IP address");
        return IPAddress.None;
    }
}
