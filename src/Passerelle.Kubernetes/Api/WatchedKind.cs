using System.Text.Json;
using k8s;
using k8s.Models;

namespace Passerelle.Kubernetes.Api;

/// <summary>Where one list or watch call looks: a namespace (null for all, or for a cluster-scoped kind) and a field selector.</summary>
internal readonly record struct ApiScope(string? Namespace, string? FieldSelector = null);

/// <summary>One page of a list: its objects, their undecodable items, and what a watch or the next page starts from.</summary>
internal sealed record ListPage(
    IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Items,
    IReadOnlyList<UnreadableItem> Unreadable,
    string? ResourceVersion,
    string? Continue);

/// <summary>An item of a list that the client's model types cannot decode, named as well as its JSON allows.</summary>
internal sealed record UnreadableItem(string? Namespace, string Name, string Error);

/// <summary>
/// A kind the gateway lists and watches, with the KubernetesClient calls that do it. The typed calls are used;
/// when one item of a list cannot be decoded (a field the model types do not accept), the same page is fetched
/// as plain JSON and decoded item by item, so that one odd object cannot stop the others from syncing.
/// </summary>
internal sealed class WatchedKind
{
    // List: (client, scope, continue token, page size); watch: (client, scope, resourceVersion, timeoutSeconds, onError).
    private readonly Func<IKubernetes, ApiScope, string?, int, CancellationToken, Task<ListPage>> _list;
    private readonly Func<IKubernetes, ApiScope, string, int, Action<Exception>, CancellationToken,
        IAsyncEnumerable<(WatchEventType, IKubernetesObject<V1ObjectMeta>)>> _watch;
    private readonly Func<string, IKubernetesObject<V1ObjectMeta>> _decode;
    private readonly Action<IKubernetesObject<V1ObjectMeta>>? _trim;

    private WatchedKind(
        string kind, string group, string version, string plural, bool namespaced,
        Func<IKubernetes, ApiScope, string?, int, CancellationToken, Task<ListPage>> list,
        Func<IKubernetes, ApiScope, string, int, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, IKubernetesObject<V1ObjectMeta>)>> watch,
        Func<string, IKubernetesObject<V1ObjectMeta>> decode,
        Action<IKubernetesObject<V1ObjectMeta>>? trim)
    {
        Kind = kind;
        Group = group;
        Version = version;
        Plural = plural;
        Namespaced = namespaced;
        _list = list;
        _watch = watch;
        _decode = decode;
        _trim = trim;
    }

    public string Kind { get; }

    /// <summary>The API group, "" for the core group.</summary>
    public string Group { get; }

    public string Version { get; }

    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>The resource name in URLs and RBAC rules: <c>ingresses</c>, <c>endpointslices</c>.</summary>
    public string Plural { get; }

    public bool Namespaced { get; }

    public static WatchedKind Of<T, TList>(
        string kind, string group, string version, string plural, bool namespaced,
        Func<IKubernetes, ApiScope, string?, int, CancellationToken, Task<TList>> list,
        Func<IKubernetes, ApiScope, string, int, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch,
        Action<T>? trim = null)
        where T : IKubernetesObject<V1ObjectMeta>
        where TList : IItems<T>, IMetadata<V1ListMeta>
    {
        return new WatchedKind(kind, group, version, plural, namespaced,
            async (client, scope, next, limit, cancellationToken) =>
            {
                var page = await list(client, scope, next, limit, cancellationToken).ConfigureAwait(false);
                return new ListPage(page.Items.Cast<IKubernetesObject<V1ObjectMeta>>().ToArray(), [], page.Metadata?.ResourceVersion, page.Metadata?.ContinueProperty);
            },
            (client, scope, resourceVersion, timeoutSeconds, onError, cancellationToken) =>
                Widen(watch(client, scope, resourceVersion, timeoutSeconds, onError, cancellationToken), cancellationToken),
            json => KubernetesJson.Deserialize<T>(json),
            trim is null ? null : o => trim((T)o));
    }

    /// <summary>A page through the typed call, or decoded item by item when the typed call cannot decode it.</summary>
    public async Task<ListPage> ListAsync(IKubernetes client, ApiScope scope, string? next, int limit, CancellationToken cancellationToken)
    {
        try
        {
            return await _list(client, scope, next, limit, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return await ListItemByItemAsync(client, scope, next, limit, cancellationToken).ConfigureAwait(false);
        }
    }

    public IAsyncEnumerable<(WatchEventType Type, IKubernetesObject<V1ObjectMeta> Object)> Watch(
        IKubernetes client, ApiScope scope, string resourceVersion, int timeoutSeconds, Action<Exception> onError, CancellationToken cancellationToken) =>
        _watch(client, scope, resourceVersion, timeoutSeconds, onError, cancellationToken);

    /// <summary>
    /// Makes a listed or watched object self-describing (list items carry no kind or apiVersion) and drops what
    /// the gateway never reads but would keep in memory for every object: managed fields, the last applied
    /// configuration, and whatever the kind's trim removes (most of a Pod).
    /// </summary>
    public IKubernetesObject<V1ObjectMeta> Normalise(IKubernetesObject<V1ObjectMeta> item)
    {
        item.Kind = Kind;
        item.ApiVersion = ApiVersion;
        if (item.Metadata is { } metadata)
        {
            metadata.ManagedFields = null;
            metadata.Annotations?.Remove("kubectl.kubernetes.io/last-applied-configuration");
        }

        _trim?.Invoke(item);
        return item;
    }

    private async Task<ListPage> ListItemByItemAsync(IKubernetes client, ApiScope scope, string? next, int limit, CancellationToken cancellationToken)
    {
        // The custom-objects calls take any group; for the core group ("") the client turns "apis//v1" into "api/v1".
        var list = scope.Namespace is null || !Namespaced
            ? await client.CustomObjects.ListClusterCustomObjectAsync<JsonElement>(Group, Version, Plural,
                continueParameter: next, fieldSelector: scope.FieldSelector, limit: limit, cancellationToken: cancellationToken).ConfigureAwait(false)
            : await client.CustomObjects.ListNamespacedCustomObjectAsync<JsonElement>(Group, Version, scope.Namespace, Plural,
                continueParameter: next, fieldSelector: scope.FieldSelector, limit: limit, cancellationToken: cancellationToken).ConfigureAwait(false);

        var items = new List<IKubernetesObject<V1ObjectMeta>>();
        var unreadable = new List<UnreadableItem>();
        if (list.TryGetProperty("items", out var array) && array.ValueKind == JsonValueKind.Array)
        {
            foreach (var element in array.EnumerateArray())
            {
                try
                {
                    items.Add(_decode(element.GetRawText()));
                }
                catch (JsonException e)
                {
                    unreadable.Add(new UnreadableItem(Text(element, "namespace"), Text(element, "name") ?? "(no name)", e.Message));
                }
            }
        }

        var metadata = list.TryGetProperty("metadata", out var m) ? m : default;
        return new ListPage(items, unreadable, Text(metadata, "resourceVersion", direct: true), Text(metadata, "continue", direct: true));
    }

    private static string? Text(JsonElement element, string property, bool direct = false)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (!direct)
        {
            if (!element.TryGetProperty("metadata", out element) || element.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
        }

        return element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }

    private static async IAsyncEnumerable<(WatchEventType, IKubernetesObject<V1ObjectMeta>)> Widen<T>(
        IAsyncEnumerable<(WatchEventType, T)> events, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        await foreach (var (type, item) in events.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return (type, item);
        }
    }
}
