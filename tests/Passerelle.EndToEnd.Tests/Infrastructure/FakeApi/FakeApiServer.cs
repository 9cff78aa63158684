using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Passerelle.EndToEnd.Tests.Infrastructure.FakeApi;

/// <summary>
/// An in-process Kubernetes API server speaking the list/watch protocol as the real one does, on real sockets:
/// lists with <c>metadata.resourceVersion</c> and items without kind or apiVersion, paging with
/// <c>limit</c>/<c>continue</c>, watches as chunked JSON lines (ADDED, MODIFIED, DELETED, BOOKMARK when asked,
/// ERROR with a 410 Status for a resourceVersion older than its window), <c>timeoutSeconds</c>, one
/// resourceVersion sequence for all kinds (as etcd), create/replace with optimistic concurrency (409), the
/// status subresource (PUT and merge PATCH), and Status objects for errors. Tests change objects through
/// <see cref="Apply"/> and <see cref="Delete"/>, drop watch streams, expire history (<see cref="Compact"/>),
/// stop answering altogether, or cut off one client (<see cref="Partition"/>).
/// </summary>
internal sealed class FakeApiServer : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };

    private readonly object _lock = new();
    private readonly Dictionary<(string Resource, string? Namespace, string Name), JsonObject> _objects = [];
    private readonly List<(long Version, FakeResource Resource, string Type, JsonObject Object)> _history = [];
    private readonly List<Watch> _watches = [];
    private readonly List<FakeRequest> _requests = [];
    private readonly List<string> _queries = [];
    private readonly HashSet<string> _partitioned = [];
    private WebApplication? _app;
    private long _version = 1000;
    private long _oldestKept;
    private volatile bool _answering = true;
    private TaskCompletionSource _watchGate = Opened();

    public Uri Url { get; private set; } = null!;

    /// <summary>Every request received so far.</summary>
    public IReadOnlyList<FakeRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return _requests.ToArray();
            }
        }
    }

    public IReadOnlyList<string> Queries
    {
        get
        {
            lock (_lock)
            {
                return _queries.ToArray();
            }
        }
    }

    /// <summary>When true, writes to a status subresource answer 500, as an API server whose storage is failing.</summary>
    public bool StatusWritesFail { get; set; }

    /// <summary>Watches open now.</summary>
    public int OpenWatches
    {
        get
        {
            lock (_lock)
            {
                return _watches.Count;
            }
        }
    }

    public static async Task<FakeApiServer> StartAsync()
    {
        var server = new FakeApiServer();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server._app = app;
        server.Url = new Uri(app.Urls.First());
        return server;
    }

    /// <summary>A kubeconfig naming this server, for a client authenticating with <paramref name="token"/>.</summary>
    public string WriteKubeconfig(string token, string ns = "passerelle")
    {
        var path = Path.Combine(Path.GetTempPath(), $"passerelle-kubeconfig-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {Url.ToString().TrimEnd('/')}
            users:
            - name: {token}
              user:
                token: {token}
            contexts:
            - name: fake
              context:
                cluster: fake
                user: {token}
                namespace: {ns}
            current-context: fake
            """);
        return path;
    }

    /// <summary>When false, every request and open watch is cut off at once, as an API server that went away.</summary>
    public bool Answering
    {
        get => _answering;
        set
        {
            _answering = value;
            if (!value)
            {
                DropWatches();
            }
        }
    }

    /// <summary>
    /// While true, new watch requests are accepted but not answered, as a slow API server: a test can change
    /// objects and compact history before a watch resumes.
    /// </summary>
    public bool HoldWatches
    {
        set
        {
            lock (_lock)
            {
                if (value && _watchGate.Task.IsCompleted)
                {
                    _watchGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
                else if (!value)
                {
                    _watchGate.TrySetResult();
                }
            }
        }
    }

    /// <summary>Cuts off (or lets back) the requests authenticated with <paramref name="token"/>, as a network partition of one replica.</summary>
    public void Partition(string token, bool cut)
    {
        lock (_lock)
        {
            if (cut)
            {
                _partitioned.Add(token);
                foreach (var watch in _watches.Where(w => w.Token == token))
                {
                    watch.Context.Abort();
                    watch.Lines.Writer.TryComplete();
                }

                _watches.RemoveAll(w => w.Token == token);
            }
            else
            {
                _partitioned.Remove(token);
            }
        }
    }

    /// <summary>Creates or replaces an object (ADDED or MODIFIED to watchers); returns its new resourceVersion.</summary>
    public long Apply(JsonObject source)
    {
        var item = (JsonObject)source.DeepClone();
        var resource = FakeResource.OfKind((string)item["kind"]!);
        var metadata = (JsonObject)item["metadata"]!;
        var key = (resource.Plural, resource.Namespaced ? (string?)metadata["namespace"] ?? "default" : null, (string)metadata["name"]!);
        if (resource.Namespaced)
        {
            metadata["namespace"] = key.Item2;
        }

        lock (_lock)
        {
            var exists = _objects.TryGetValue(key, out var held);
            metadata["uid"] ??= held?["metadata"]?["uid"]?.DeepClone() ?? Guid.NewGuid().ToString();
            metadata["creationTimestamp"] ??= held?["metadata"]?["creationTimestamp"]?.DeepClone() ?? DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ");
            return Store(resource, key, item, exists ? "MODIFIED" : "ADDED");
        }
    }

    public long Delete(string kind, string? ns, string name)
    {
        var resource = FakeResource.OfKind(kind);
        lock (_lock)
        {
            var key = (resource.Plural, resource.Namespaced ? ns : null, name);
            var item = _objects[key];
            _objects.Remove(key);
            var version = ++_version;
            item = (JsonObject)item.DeepClone();
            item["metadata"]!["resourceVersion"] = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Record(version, resource, "DELETED", item);
            return version;
        }
    }

    /// <summary>The object as stored, kind and apiVersion included.</summary>
    public JsonObject? Get(string kind, string? ns, string name)
    {
        var resource = FakeResource.OfKind(kind);
        lock (_lock)
        {
            return _objects.TryGetValue((resource.Plural, resource.Namespaced ? ns : null, name), out var item) ? (JsonObject)item.DeepClone() : null;
        }
    }

    /// <summary>Forgets every event so far: a watch from an older resourceVersion gets 410 Gone, as after etcd compaction.</summary>
    public void CompactHistory()
    {
        lock (_lock)
        {
            _oldestKept = _version + 1;
            _history.Clear();
        }
    }

    /// <summary>Breaks every open watch stream in the middle, as a restarting API server or an idle-timeout load balancer does.</summary>
    public void DropWatches()
    {
        lock (_lock)
        {
            foreach (var watch in _watches)
            {
                watch.Context.Abort();
                watch.Lines.Writer.TryComplete();
            }

            _watches.Clear();
        }
    }

    /// <summary>
    /// Sends a BOOKMARK to every watch that asked for bookmarks, at a new resourceVersion (as in a cluster, where
    /// other kinds' writes move it on); returns that version.
    /// </summary>
    public long SendBookmarks()
    {
        lock (_lock)
        {
            _version++;
            foreach (var watch in _watches.Where(w => w.Bookmarks))
            {
                var bookmark = new JsonObject
                {
                    ["kind"] = watch.Resource.Kind,
                    ["apiVersion"] = watch.Resource.ApiVersion,
                    ["metadata"] = new JsonObject { ["resourceVersion"] = _version.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                };
                watch.Lines.Writer.TryWrite(Event("BOOKMARK", bookmark));
            }

            return _version;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            DropWatches();
            using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _app.StopAsync(stopping.Token);
            await _app.DisposeAsync();
        }
    }

    private long Store(FakeResource resource, (string, string?, string) key, JsonObject item, string type)
    {
        var version = ++_version;
        item["metadata"]!["resourceVersion"] = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        item["kind"] = resource.Kind;
        item["apiVersion"] = resource.ApiVersion;
        _objects[key] = item;
        Record(version, resource, type, (JsonObject)item.DeepClone());
        return version;
    }

    private void Record(long version, FakeResource resource, string type, JsonObject item)
    {
        _history.Add((version, resource, type, item));
        foreach (var watch in _watches.Where(w => w.Matches(resource, item)))
        {
            watch.Lines.Writer.TryWrite(Event(type, item));
        }
    }

    private static TaskCompletionSource Opened()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }

    private static string Event(string type, JsonObject item) =>
        new JsonObject { ["type"] = type, ["object"] = item.DeepClone() }.ToJsonString(Compact) + "\n";

    private async Task HandleAsync(HttpContext context)
    {
        var token = context.Request.Headers.Authorization.ToString() is { Length: > 7 } auth && auth.StartsWith("Bearer ", StringComparison.Ordinal)
            ? auth[7..]
            : null;
        bool cut;
        lock (_lock)
        {
            cut = !_answering || (token is not null && _partitioned.Contains(token));
        }

        if (cut)
        {
            context.Abort();
            return;
        }

        if (!FakeRoute.TryParse(context.Request.Path.Value ?? "", out var route))
        {
            await StatusAsync(context, 404, "NotFound", $"the server could not find the requested resource ({context.Request.Path})");
            return;
        }

        var query = context.Request.Query;
        var watching = query["watch"] is var w && (w == "true" || w == "1");
        var verb = (context.Request.Method, route.Name, watching) switch
        {
            ("GET", null, true) => "watch",
            ("GET", null, false) => "list",
            ("GET", _, _) => "get",
            ("POST", _, _) => "create",
            ("PUT", _, _) => "update",
            ("PATCH", _, _) => "patch",
            ("DELETE", _, _) => "delete",
            _ => context.Request.Method.ToLowerInvariant(),
        };
        lock (_lock)
        {
            _requests.Add(new FakeRequest(verb, route.Resource.Group, route.Resource.Plural, route.Subresource, route.Namespace, token));
            _queries.Add(context.Request.Path + context.Request.QueryString);
        }

        switch (verb)
        {
            case "watch":
                await WatchAsync(context, route, token);
                break;
            case "list":
                await ListAsync(context, route);
                break;
            case "get":
                await GetAsync(context, route);
                break;
            case "create":
                await CreateAsync(context, route);
                break;
            case "update":
            case "patch":
                await UpdateAsync(context, route, verb == "patch");
                break;
            default:
                await StatusAsync(context, 405, "MethodNotAllowed", "not supported by this server");
                break;
        }
    }

    private async Task ListAsync(HttpContext context, FakeRoute route)
    {
        var query = context.Request.Query;
        var limit = int.TryParse(query["limit"], out var l) && l > 0 ? l : int.MaxValue;
        var offset = query["continue"] is { Count: > 0 } next && !string.IsNullOrEmpty(next) ? int.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(next!)), System.Globalization.CultureInfo.InvariantCulture) : 0;
        var selector = FieldSelector.Parse(query["fieldSelector"]);
        JsonArray items;
        string? more;
        long version;
        lock (_lock)
        {
            var all = _objects
                .Where(o => o.Key.Resource == route.Resource.Plural && (route.Namespace is null || o.Key.Namespace == route.Namespace) && selector.Matches(o.Value))
                .OrderBy(o => o.Key.Namespace, StringComparer.Ordinal).ThenBy(o => o.Key.Name, StringComparer.Ordinal)
                .Select(o => o.Value)
                .ToList();
            var page = all.Skip(offset).Take(limit).ToList();
            items = [.. page.Select(ListItem)];
            more = offset + page.Count < all.Count ? Convert.ToBase64String(Encoding.UTF8.GetBytes((offset + page.Count).ToString(System.Globalization.CultureInfo.InvariantCulture))) : null;
            version = _version;
        }

        var metadata = new JsonObject { ["resourceVersion"] = version.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (more is not null)
        {
            metadata["continue"] = more;
            metadata["remainingItemCount"] = 1;
        }

        await JsonAsync(context, 200, new JsonObject
        {
            ["kind"] = route.Resource.Kind + "List",
            ["apiVersion"] = route.Resource.ApiVersion,
            ["metadata"] = metadata,
            ["items"] = items,
        });
    }

    /// <summary>Items of a list carry no kind or apiVersion: the list's own say what they are.</summary>
    private static JsonObject ListItem(JsonObject item)
    {
        var copy = (JsonObject)item.DeepClone();
        copy.Remove("kind");
        copy.Remove("apiVersion");
        return copy;
    }

    private async Task WatchAsync(HttpContext context, FakeRoute route, string? token)
    {
        Task gate;
        lock (_lock)
        {
            gate = _watchGate.Task;
        }

        try
        {
            await gate.WaitAsync(context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        var query = context.Request.Query;
        var from = query["resourceVersion"].ToString();
        var timeout = int.TryParse(query["timeoutSeconds"], out var t) && t > 0 ? TimeSpan.FromSeconds(t) : TimeSpan.FromMinutes(30);
        var watch = new Watch(route.Resource, route.Namespace, FieldSelector.Parse(query["fieldSelector"]), query["allowWatchBookmarks"] == "true", token, context);
        string? tooOld = null;
        lock (_lock)
        {
            if (string.IsNullOrEmpty(from) || from == "0")
            {
                foreach (var item in _objects.Where(o => o.Key.Resource == route.Resource.Plural).Select(o => o.Value).Where(i => watch.Matches(route.Resource, i)))
                {
                    watch.Lines.Writer.TryWrite(Event("ADDED", item));
                }
            }
            else
            {
                var version = long.Parse(from, System.Globalization.CultureInfo.InvariantCulture);
                if (version + 1 < _oldestKept)
                {
                    tooOld = $"too old resource version: {version} ({_oldestKept - 1})";
                }
                else
                {
                    foreach (var (_, resource, type, item) in _history.Where(h => h.Version > version && watch.Matches(h.Resource, h.Object)))
                    {
                        watch.Lines.Writer.TryWrite(Event(type, item));
                    }
                }
            }

            if (tooOld is null)
            {
                _watches.Add(watch);
            }
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.StartAsync();
        try
        {
            if (tooOld is not null)
            {
                // The real server answers 200 and then one ERROR event carrying a 410 Expired Status.
                var status = StatusObject(410, "Expired", tooOld);
                await context.Response.WriteAsync(Event("ERROR", status), context.RequestAborted);
                return;
            }

            using var ends = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            ends.CancelAfter(timeout);
            try
            {
                await foreach (var line in watch.Lines.Reader.ReadAllAsync(ends.Token))
                {
                    await context.Response.WriteAsync(line, ends.Token);
                    await context.Response.Body.FlushAsync(ends.Token);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
        }
        finally
        {
            lock (_lock)
            {
                _watches.Remove(watch);
            }
        }
    }

    private async Task GetAsync(HttpContext context, FakeRoute route)
    {
        JsonObject? item;
        lock (_lock)
        {
            item = _objects.TryGetValue((route.Resource.Plural, route.Namespace, route.Name!), out var held) ? (JsonObject)held.DeepClone() : null;
        }

        if (item is null)
        {
            await NotFoundAsync(context, route);
            return;
        }

        await JsonAsync(context, 200, item);
    }

    private async Task CreateAsync(HttpContext context, FakeRoute route)
    {
        var body = (JsonObject)(await JsonNode.ParseAsync(context.Request.Body))!;
        var metadata = (JsonObject)body["metadata"]!;
        var key = (route.Resource.Plural, route.Namespace, (string)metadata["name"]!);
        JsonObject created;
        lock (_lock)
        {
            if (_objects.ContainsKey(key))
            {
                created = null!;
            }
            else
            {
                metadata["namespace"] = route.Namespace;
                metadata["uid"] = Guid.NewGuid().ToString();
                metadata["creationTimestamp"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ");
                Store(route.Resource, key, body, "ADDED");
                created = (JsonObject)_objects[key].DeepClone();
            }
        }

        if (created is null)
        {
            await StatusAsync(context, 409, "AlreadyExists", $"{route.Resource.Plural}.{route.Resource.Group} \"{key.Item3}\" already exists");
            return;
        }

        await JsonAsync(context, 201, created);
    }

    private async Task UpdateAsync(HttpContext context, FakeRoute route, bool patch)
    {
        var body = (JsonObject)(await JsonNode.ParseAsync(context.Request.Body))!;
        var key = (route.Resource.Plural, route.Namespace, route.Name!);
        if (patch && context.Request.ContentType?.StartsWith("application/merge-patch+json", StringComparison.Ordinal) != true)
        {
            await StatusAsync(context, 415, "UnsupportedMediaType", $"this server takes merge patches only, not {context.Request.ContentType}");
            return;
        }

        if (route.Subresource == "status" && StatusWritesFail)
        {
            await StatusAsync(context, 500, "InternalError", "Internal error occurred: etcdserver: request timed out");
            return;
        }

        JsonObject? updated = null;
        var conflict = false;
        lock (_lock)
        {
            if (_objects.TryGetValue(key, out var held))
            {
                var next = (JsonObject)held.DeepClone();
                var sentVersion = (string?)body["metadata"]?["resourceVersion"];
                if (!patch && sentVersion is not null && sentVersion != (string?)held["metadata"]!["resourceVersion"])
                {
                    conflict = true;
                }
                else if (route.Subresource == "status")
                {
                    // The status subresource changes status only, whatever else the body says.
                    var status = patch ? MergePatch.Apply(next["status"]?.DeepClone(), body["status"]) : body["status"]?.DeepClone();
                    next["status"] = status;
                }
                else
                {
                    next = patch ? (JsonObject)MergePatch.Apply(next, body)! : (JsonObject)body.DeepClone();
                    next["metadata"]!["uid"] = held["metadata"]!["uid"]!.DeepClone();
                    next["metadata"]!["creationTimestamp"] = held["metadata"]!["creationTimestamp"]!.DeepClone();
                }

                if (!conflict)
                {
                    Store(route.Resource, key, next, "MODIFIED");
                    updated = (JsonObject)_objects[key].DeepClone();
                }
            }
        }

        if (conflict)
        {
            await StatusAsync(context, 409, "Conflict",
                $"Operation cannot be fulfilled on {route.Resource.Plural}.{route.Resource.Group} \"{key.Item3}\": the object has been modified; please apply your changes to the latest version and try again");
        }
        else if (updated is null)
        {
            await NotFoundAsync(context, route);
        }
        else
        {
            await JsonAsync(context, 200, updated);
        }
    }

    private static Task NotFoundAsync(HttpContext context, FakeRoute route) =>
        StatusAsync(context, 404, "NotFound", $"{route.Resource.Plural}{(route.Resource.Group.Length > 0 ? "." + route.Resource.Group : "")} \"{route.Name}\" not found");

    private static Task StatusAsync(HttpContext context, int code, string reason, string message) =>
        JsonAsync(context, code, StatusObject(code, reason, message));

    private static JsonObject StatusObject(int code, string reason, string message) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["code"] = code,
    };

    private static async Task JsonAsync(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(Compact));
    }

    private sealed class Watch(FakeResource resource, string? ns, FieldSelector selector, bool bookmarks, string? token, HttpContext context)
    {
        public FakeResource Resource { get; } = resource;

        public bool Bookmarks { get; } = bookmarks;

        public string? Token { get; } = token;

        public HttpContext Context { get; } = context;

        public Channel<string> Lines { get; } = Channel.CreateUnbounded<string>();

        public bool Matches(FakeResource kind, JsonObject item) =>
            kind == Resource && (ns is null || (string?)item["metadata"]?["namespace"] == ns) && selector.Matches(item);
    }
}
