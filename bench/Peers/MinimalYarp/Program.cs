using Yarp.ReverseProxy.Configuration;

// minimal-yarp --urls http://127.0.0.1:PORT --destination http://127.0.0.1:BACKEND
// One route (every path) to one cluster of one destination, as in YARP's getting-started, built from code so that
// the bench needs no config file. Only logging is lowered to warnings: at the default level YARP writes lines for
// every request, which no one benchmarking or running it in production keeps.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var destination = builder.Configuration["destination"]
    ?? throw new InvalidOperationException("--destination http://HOST:PORT is required");

builder.Services.AddReverseProxy().LoadFromMemory(
    [new RouteConfig { RouteId = "all", ClusterId = "backend", Match = new RouteMatch { Path = "{**catch-all}" } }],
    [new ClusterConfig { ClusterId = "backend", Destinations = new Dictionary<string, DestinationConfig> { ["backend"] = new() { Address = destination } } }]);

var app = builder.Build();
app.MapReverseProxy();
app.Run();
