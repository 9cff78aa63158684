using System.Collections;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Passerelle.Proxy.Reactor;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;

namespace Passerelle.Proxy.FrontDoor;

/// <summary>
/// One WebSocket handshake taken by the front door, as the features an <see cref="HttpContext"/> is made of, so
/// that the gateway's one request handler serves it as it serves Kestrel's requests. One object carries them all,
/// as Kestrel's own request does. The response goes straight to the client's socket: a <c>101</c> through
/// <see cref="UpgradeAsync"/>, after which the socket is the WebSocket's; any other answer with
/// <c>Connection: close</c>, as the front door closes the connection after it.
/// </summary>
internal sealed class UpgradeExchange : IFeatureCollection, IHttpRequestFeature, IHttpResponseFeature, IHttpResponseBodyFeature,
    IHttpUpgradeFeature, IHttpRequestBodyDetectionFeature, IHttpRequestLifetimeFeature, IHttpConnectionFeature, Splice.IDetachableUpgrade,
    IReactorAffinity
{
    private static readonly Type[] Own =
    [
        typeof(IHttpRequestFeature), typeof(IHttpResponseFeature), typeof(IHttpResponseBodyFeature), typeof(IHttpUpgradeFeature),
        typeof(IHttpRequestBodyDetectionFeature), typeof(IHttpRequestLifetimeFeature), typeof(IHttpConnectionFeature),
        typeof(Splice.IDetachableUpgrade), typeof(IReactorAffinity),
    ];

    private Socket? _socket; // null once a reactor has the connection (_adopted), or from the start
    private ReactorSocket? _adopted;
    private bool _detached;
    private CancellationTokenSource? _aborted = new(); // the handshake's; let go of once upgraded (the tunnel aborts the socket)
    private readonly long _connectionNumber;
    private IHeaderDictionary? _requestHeaders;
    private IHeaderDictionary? _responseHeaders;
    private Dictionary<Type, object?>? _overrides;
    private int _revision;
    private List<(Func<object, Task> Callback, object State)>? _onStarting;
    private Stream? _body;
    private PipeWriter? _writer;
    private bool _chunked;
    private string? _connectionId;

    public UpgradeExchange(Socket socket, UpgradeHead head, long connectionNumber)
    {
        _socket = socket;
        socket.Blocking = false; // writes are tried straight away (SocketStream)
        Path = head.Path;
        QueryString = head.Query;
        RawTarget = head.Target;
        _requestHeaders = head.Headers;
        _connectionNumber = connectionNumber;
        Reactor = Reactors.IsAvailable ? Reactors.Pick() : null;
        var local = (IPEndPoint)socket.LocalEndPoint!;
        var remote = (IPEndPoint)socket.RemoteEndPoint!;
        (LocalIpAddress, LocalPort, RemoteIpAddress, RemotePort) = (local.Address, local.Port, remote.Address, remote.Port);
    }

    /// <summary>A connection that is a reactor's from the start (accepted on a reactor): no .NET socket at all.</summary>
    public UpgradeExchange(ReactorSocket socket, (IPAddress Address, int Port) local, (IPAddress Address, int Port) remote, UpgradeHead head,
        long connectionNumber)
    {
        _adopted = socket;
        Reactor = socket.Reactor;
        Path = head.Path;
        QueryString = head.Query;
        RawTarget = head.Target;
        _requestHeaders = head.Headers;
        _connectionNumber = connectionNumber;
        (LocalIpAddress, LocalPort, RemoteIpAddress, RemotePort) = (local.Address, local.Port, remote.Address, remote.Port);
    }

    /// <summary>The reactor that will serve the WebSocket, known now so that the backend is connected on it too.</summary>
    public EpollReactor? Reactor { get; }

    /// <summary>True once the client has its <c>101</c>: the socket now carries the WebSocket.</summary>
    public bool Upgraded { get; private set; }

    // IFeatureCollection: the own features, and what the handler sets beside (or over) them.
    bool IFeatureCollection.IsReadOnly => false;

    int IFeatureCollection.Revision => _revision;

    object? IFeatureCollection.this[Type key]
    {
        get => _overrides is not null && _overrides.TryGetValue(key, out var value) ? value : Array.IndexOf(Own, key) >= 0 ? this : null;
        set
        {
            (_overrides ??= new Dictionary<Type, object?>())[key] = value;
            _revision++;
        }
    }

    TFeature? IFeatureCollection.Get<TFeature>() where TFeature : default => (TFeature?)((IFeatureCollection)this)[typeof(TFeature)];

    void IFeatureCollection.Set<TFeature>(TFeature? instance) where TFeature : default => ((IFeatureCollection)this)[typeof(TFeature)] = instance;

    IEnumerator<KeyValuePair<Type, object>> IEnumerable<KeyValuePair<Type, object>>.GetEnumerator()
    {
        foreach (var type in Own)
        {
            if (_overrides?.ContainsKey(type) != true)
            {
                yield return new KeyValuePair<Type, object>(type, this);
            }
        }

        foreach (var (type, value) in _overrides ?? [])
        {
            if (value is not null)
            {
                yield return new KeyValuePair<Type, object>(type, value);
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable<KeyValuePair<Type, object>>)this).GetEnumerator();

    // IHttpRequestFeature
    public string Protocol { get; set; } = "HTTP/1.1";

    public string Scheme { get; set; } = "http";

    public string Method { get; set; } = "GET";

    public string PathBase { get; set; } = "";

    public string Path { get; set; }

    public string QueryString { get; set; }

    public string RawTarget { get; set; }

    IHeaderDictionary IHttpRequestFeature.Headers
    {
        get => _requestHeaders ??= new HeaderDictionary();
        set => _requestHeaders = value;
    }

    Stream IHttpRequestFeature.Body { get; set; } = Stream.Null;

    // IHttpRequestBodyDetectionFeature: a handshake has no body (the head was refused otherwise).
    bool IHttpRequestBodyDetectionFeature.CanHaveBody => false;

    // IHttpConnectionFeature. The id is only written when something reads it (logs that name the connection).
    public string ConnectionId
    {
        get => _connectionId ??= $"front-{_connectionNumber}";
        set => _connectionId = value;
    }

    public IPAddress? RemoteIpAddress { get; set; }

    public IPAddress? LocalIpAddress { get; set; }

    public int RemotePort { get; set; }

    public int LocalPort { get; set; }

    // IHttpRequestLifetimeFeature. The client is not watched during the handshake (nothing reads its socket until
    // the 101): a client that leaves is seen when its answer is written, as a failed write.
    public CancellationToken RequestAborted
    {
        get => Volatile.Read(ref _aborted)?.Token ?? CancellationToken.None;
        set { }
    }

    public void Abort()
    {
        try
        {
            Volatile.Read(ref _aborted)?.Cancel();
        }
        catch (Exception e) when (e is AggregateException or ObjectDisposedException)
        {
            // A callback failed, or the upgrade let go of the source meanwhile; the connection is closed all the same.
        }

        Abort(_adopted, _socket);
    }

    /// <summary>Ends the relay's reads and writes on whichever socket carries the connection; it is closed after them.</summary>
    internal static void Abort(ReactorSocket? adopted, Socket? socket)
    {
        socket?.Dispose();
        adopted?.Shutdown(Libc.ShutRdWr);
    }

    // IHttpResponseFeature
    public int StatusCode { get; set; } = StatusCodes.Status200OK;

    public string? ReasonPhrase { get; set; }

    IHeaderDictionary IHttpResponseFeature.Headers
    {
        get => ResponseHeaders;
        set => _responseHeaders = value;
    }

    private IHeaderDictionary ResponseHeaders => _responseHeaders ??= new HeaderDictionary(8);

    Stream IHttpResponseFeature.Body
    {
        get => Stream;
        set => throw new NotSupportedException("The front door writes responses to the client's socket.");
    }

    public bool HasStarted { get; private set; }

    void IHttpResponseFeature.OnStarting(Func<object, Task> callback, object state) => (_onStarting ??= []).Add((callback, state));

    void IHttpResponseFeature.OnCompleted(Func<object, Task> callback, object state)
    {
        // Nothing registers completion callbacks on this path; the connection's end is its completion.
    }

    // IHttpResponseBodyFeature
    public Stream Stream => _body ??= new ResponseBody(this);

    public PipeWriter Writer => _writer ??= PipeWriter.Create(Stream, new StreamPipeWriterOptions(leaveOpen: true));

    public void DisableBuffering()
    {
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (HasStarted)
        {
            return;
        }

        foreach (var (callback, state) in Enumerable.Reverse(_onStarting ?? []))
        {
            await callback(state).ConfigureAwait(false);
        }

        HasStarted = true;
        _chunked = ResponseHeaders.ContentLength is null && CanHaveContent(StatusCode);
        if (_chunked)
        {
            ResponseHeaders.TransferEncoding = "chunked";
        }

        await SendAsync(Head(StatusCode, ReasonPhrase, closes: true), cancellationToken).ConfigureAwait(false);
    }

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
        SendFileFallback.SendFileAsync(Stream, path, offset, count, cancellationToken);

    public async Task CompleteAsync()
    {
        if (_writer is not null)
        {
            await _writer.FlushAsync().ConfigureAwait(false);
        }

        if (!HasStarted)
        {
            if (CanHaveContent(StatusCode))
            {
                ResponseHeaders.ContentLength ??= 0;
            }

            await StartAsync().ConfigureAwait(false);
        }

        if (_chunked)
        {
            _chunked = false;
            await SendAsync("0\r\n\r\n"u8.ToArray(), RequestAborted).ConfigureAwait(false);
        }
    }

    // RFC 9110 §6.4.1: no content, and so no content framing, in 1xx, 204 and 304 answers.
    private static bool CanHaveContent(int status) => status >= 200 && status is not (204 or 304);

    // IHttpUpgradeFeature
    bool IHttpUpgradeFeature.IsUpgradableRequest => true;

    public async Task<Stream> UpgradeAsync()
    {
        if (HasStarted)
        {
            throw new InvalidOperationException("The response has already started.");
        }

        StatusCode = StatusCodes.Status101SwitchingProtocols;
        if (!ResponseHeaders.ContainsKey("Connection"))
        {
            ResponseHeaders.Connection = "Upgrade";
        }

        HasStarted = true;
        Upgraded = true;
        var head = Head(StatusCode, ReasonPhrase, closes: false);

        // Both header sets are read and written by now; the WebSocket's life does not need to hold them.
        (_requestHeaders, _responseHeaders) = (null, null);
        await SendAsync(head, RequestAborted).ConfigureAwait(false);

        // The handshake is over: its cancellation source (and what registrations left in it) need not live as long as the WebSocket.
        Interlocked.Exchange(ref _aborted, null)?.Dispose();

        // The front door closes the connection when the WebSocket ends (CloseConnection).
        if (_adopted is { } already)
        {
            return new ReactorStream(already, ownsSocket: false);
        }

        if (!Reactors.IsAvailable)
        {
            return new Splice.SocketStream(Socket, ownsSocket: false);
        }

        _adopted = Reactors.Adopt(Socket, Reactor);
        _socket = null;
        return new ReactorStream(_adopted, ownsSocket: false);
    }

    /// <summary>Ends the client's connection (FIN both ways) and closes it, on whichever socket carries it now.</summary>
    public void CloseConnection() => Close(_adopted, _socket);

    internal static void Close(ReactorSocket? adopted, Socket? socket)
    {
        if (adopted is not null)
        {
            adopted.Shutdown(Libc.ShutRdWr);
            adopted.Dispose();
            return;
        }

        try
        {
            socket?.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }

        socket?.Dispose();
    }

    /// <summary>True once the relay took over the connection's end (<see cref="Splice.IDetachableUpgrade"/>).</summary>
    public bool Detached => Volatile.Read(ref _detached);

    /// <summary>What the front door does once a detached WebSocket has ended and its connection is closed (one delegate for all).</summary>
    public Action? OnDetachedEnd { private get; init; }

    Splice.IDetachedConnection Splice.IDetachableUpgrade.Detach()
    {
        if (OnDetachedEnd is null || !Upgraded)
        {
            throw new InvalidOperationException("Only an upgraded connection of a front door can be detached.");
        }

        Volatile.Write(ref _detached, true);
        return new DetachedConnection(_adopted, _socket, OnDetachedEnd);
    }

    private byte[] Head(int status, string? reason, bool closes)
    {
        var head = Splice.HeadBuilder.Acquire();
        head.Append("HTTP/1.1 ").Append(status).Append(' ').Append(reason ?? ReasonPhrases.GetReasonPhrase(status)).Append("\r\n");
        if (closes)
        {
            ResponseHeaders.Connection = "close";
            if (!ResponseHeaders.ContainsKey("Date"))
            {
                ResponseHeaders.Date = DateTimeOffset.UtcNow.ToString("r");
            }
        }

        if (ResponseHeaders is HeaderDictionary own)
        {
            foreach (var (name, values) in own) // its struct enumerator: the interface's is boxed, once per answer
            {
                AppendField(head, name, values);
            }
        }
        else
        {
            foreach (var (name, values) in ResponseHeaders)
            {
                AppendField(head, name, values);
            }
        }

        return Splice.HeadBuilder.ToLatin1(head.Append("\r\n"));
    }

    private static void AppendField(StringBuilder head, string name, Microsoft.Extensions.Primitives.StringValues values)
    {
        foreach (var value in values)
        {
            if (value is null || value.AsSpan().IndexOfAny('\r', '\n') >= 0 || name.AsSpan().IndexOfAny("\r\n: ") >= 0)
            {
                throw new InvalidOperationException($"Response field {name} cannot be written on one line.");
            }

            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }
    }

    private ValueTask SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken) => _adopted is { } adopted
        ? adopted.SendAsync(bytes, cancellationToken)
        : Splice.SocketStream.SendAllAsync(Socket, bytes, cancellationToken);

    private Socket Socket => _socket ?? throw new ObjectDisposedException(nameof(UpgradeExchange), "The connection was handed to a reactor.");

    /// <summary>
    /// The body of a non-101 answer: written to the socket as it comes, with the head first; chunked when no
    /// Content-Length was set, so that a client can tell a complete body from a cut one.
    /// </summary>
    private sealed class ResponseBody(UpgradeExchange exchange) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (exchange.Upgraded)
            {
                throw new InvalidOperationException("The connection is upgraded.");
            }

            await exchange.StartAsync(cancellationToken).ConfigureAwait(false);
            if (buffer.IsEmpty)
            {
                return;
            }

            if (exchange._chunked)
            {
                await exchange.SendAsync(Encoding.ASCII.GetBytes($"{buffer.Length:X}\r\n"), cancellationToken).ConfigureAwait(false);
                await exchange.SendAsync(buffer, cancellationToken).ConfigureAwait(false);
                await exchange.SendAsync("\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
                return;
            }

            await exchange.SendAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override Task FlushAsync(CancellationToken cancellationToken) => exchange.StartAsync(cancellationToken);

        public override void Flush() => FlushAsync().GetAwaiter().GetResult();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
