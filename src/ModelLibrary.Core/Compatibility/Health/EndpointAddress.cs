using System.Globalization;
using System.Net;

namespace ModelLibrary.Compatibility;

/// <summary>
/// Reads endpoint settings the way Ollama's own clients read OLLAMA_HOST: <c>host</c>, <c>host:port</c>,
/// <c>[::1]:port</c> or a full URL with an optional path (for reverse proxies). A missing scheme means http and the
/// provider's default port; an explicit http:// or https:// without a port means 80 or 443. An empty host and the
/// "any address" hosts 0.0.0.0 and :: mean this machine, because that is where a server bound to them is reached.
/// </summary>
public static class EndpointAddress
{
    public static bool TryParse(string? value, int defaultPort, out Uri? endpoint, out string? error)
    {
        endpoint = null;
        error = null;
        var text = value?.Trim() ?? "";
        if (text.Length == 0)
        {
            error = "it is empty";
            return false;
        }

        var scheme = "http";
        var port = defaultPort;
        var rest = text;
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd >= 0)
        {
            scheme = text[..schemeEnd].ToLowerInvariant();
            rest = text[(schemeEnd + 3)..];
            switch (scheme)
            {
                case "http":
                    port = 80;
                    break;
                case "https":
                    port = 443;
                    break;
                default:
                    error = $"the scheme '{scheme}' is not http or https";
                    return false;
            }
        }

        var slash = rest.IndexOf('/');
        var hostPort = slash < 0 ? rest : rest[..slash];
        var path = slash < 0 ? "" : rest[slash..].TrimEnd('/');

        if (!SplitHostPort(hostPort, out var host, out var portText, out error))
        {
            return false;
        }

        if (portText is not null)
        {
            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
            {
                error = $"the port '{portText}' is not a number from 1 to 65535";
                return false;
            }
        }

        host = host switch
        {
            "" or "0.0.0.0" => "127.0.0.1",
            "::" => "::1",
            _ => host,
        };

        try
        {
            endpoint = new UriBuilder(scheme, host, port, path).Uri;
            return true;
        }
        catch (UriFormatException e)
        {
            error = $"it is not a valid address ({e.Message})";
            return false;
        }
    }

    /// <summary>The URL of <paramref name="probePath"/> under the endpoint; a base already ending in /v1 is not doubled for /v1/... paths.</summary>
    public static Uri Combine(Uri endpoint, string? probePath)
    {
        var basePath = endpoint.AbsolutePath.TrimEnd('/');
        var path = string.IsNullOrEmpty(probePath) ? "" : probePath.StartsWith('/') ? probePath : "/" + probePath;
        if (path.StartsWith("/v1/", StringComparison.Ordinal) && basePath.EndsWith("/v1", StringComparison.Ordinal))
        {
            basePath = basePath[..^3];
        }

        return new UriBuilder(endpoint) { Path = basePath + path, Query = "" }.Uri;
    }

    static bool SplitHostPort(string hostPort, out string host, out string? port, out string? error)
    {
        host = hostPort;
        port = null;
        error = null;
        if (hostPort.StartsWith('['))
        {
            var close = hostPort.IndexOf(']');
            if (close < 0)
            {
                error = $"'{hostPort}' has an unclosed '['";
                return false;
            }

            host = hostPort[1..close];
            var after = hostPort[(close + 1)..];
            if (after.Length > 0 && !after.StartsWith(':'))
            {
                error = $"'{hostPort}' has text after the address";
                return false;
            }

            port = after.Length > 1 ? after[1..] : null;
            return true;
        }

        var colons = hostPort.Count(c => c == ':');
        if (colons == 1)
        {
            var colon = hostPort.IndexOf(':');
            host = hostPort[..colon];
            port = colon + 1 < hostPort.Length ? hostPort[(colon + 1)..] : null;
        }
        else if (colons > 1 && !IPAddress.TryParse(hostPort, out _))
        {
            // More than one colon is only an IPv6 address without brackets (Ollama accepts that too).
            error = $"'{hostPort}' is neither host:port nor an IPv6 address";
            return false;
        }

        return true;
    }
}
