using System.Buffers;

namespace Passerelle.Proxy.Splice;

/// <summary>The bytes HTTP's grammar allows where both the front door and the backend's answers are read strictly.</summary>
internal static class HttpSyntax
{
    /// <summary>RFC 9110 §5.6.2 tchar: what a field name is made of.</summary>
    public static readonly SearchValues<byte> TokenBytes =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);
}
