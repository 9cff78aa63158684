using System.CommandLine;
using Passerelle.Cli;
using Passerelle.Proxy.Listeners;

// Before anything creates a socket: .NET reads this setting once.
SocketTuning.ApplyProcessDefaults();

var root = new RootCommand(
    "Passerelle: an application gateway and Kubernetes ingress controller for WebSocket-heavy applications, " +
    "a drop-in for Azure Application Gateway's ingress controller (AGIC).")
{
    RunCommand.Create(),
    CheckCommand.Create(),
    DoctorCommand.Create(),
    DemoCommand.Create(),
};

// The gateway's host handles SIGINT/SIGTERM itself and drains gracefully; the parser must not cut that short.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
