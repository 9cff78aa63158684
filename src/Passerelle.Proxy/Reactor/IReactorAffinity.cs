namespace Passerelle.Proxy.Reactor;

/// <summary>
/// A request feature of a connection that will be served by a reactor once upgraded (the front door's): the backend
/// connection is opened on the same reactor, so that one thread serves both sides of the WebSocket from the start.
/// </summary>
internal interface IReactorAffinity
{
    EpollReactor? Reactor { get; }
}
