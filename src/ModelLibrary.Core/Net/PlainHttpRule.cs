using System.Net;

namespace ModelLibrary.Net;

/// <summary>
/// The one rule for plain http, for every request the library makes (catalogs, downloads, probes, Hub, registries)
/// and for every redirect hop: https anywhere; http only to this machine (loopback), unless the user allowed it
/// (a source registered with <c>-AllowInsecureHttp</c>, or a provider endpoint the user configured).
/// </summary>
public static class PlainHttpRule
{
    /// <summary>
    /// True for <c>localhost</c> and the loopback addresses (127.0.0.0/8, ::1, IPv4-mapped 127.x). Names are not
    /// resolved: any other name could point anywhere, so it is not loopback whatever it resolves to today.
    /// </summary>
    public static bool IsLoopback(Uri url)
    {
        var host = url.DnsSafeHost.Trim('[', ']');
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(host, out var address)
            && (IPAddress.IsLoopback(address) || (address.IsIPv4MappedToIPv6 && IPAddress.IsLoopback(address.MapToIPv4())));
    }

    /// <summary>True when a request may go to <paramref name="url"/> under the rule.</summary>
    public static bool Allows(Uri url, bool allowInsecureHttp, string? trustedPlainHttpHost = null) =>
        url.Scheme == Uri.UriSchemeHttps
        || (url.Scheme == Uri.UriSchemeHttp && (allowInsecureHttp || IsLoopback(url)
            || (trustedPlainHttpHost is not null && string.Equals(url.IdnHost, trustedPlainHttpHost, StringComparison.OrdinalIgnoreCase))));

    /// <summary>Credentials may travel to https hosts and to this machine only, whatever else is allowed.</summary>
    public static bool MaySendCredentials(Uri url) => url.Scheme == Uri.UriSchemeHttps || IsLoopback(url);
}
