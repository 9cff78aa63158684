namespace Passerelle.Proxy.Splice;

/// <summary>
/// A relay side over a socket of its own: its input can be stopped (an end of input for a pending read) and its
/// output ended with a TCP FIN, the half-close a client's FIN is passed on as.
/// </summary>
internal interface ISocketEnd : IStoppableReads
{
    void EndOutput();
}
