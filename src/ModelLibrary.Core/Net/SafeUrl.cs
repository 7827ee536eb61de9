using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace ModelLibrary.Net;

/// <summary>
/// URLs as they may be shown or stored: the userinfo (<c>user:password@</c>) replaced by <c>***@</c>. Every
/// message, ErrorInfo detail, task row and listed DownloadUrl goes through here; only the request itself sees
/// the credentials (as basic auth, see <see cref="SplitCredentials"/>).
/// </summary>
public static partial class SafeUrl
{
    /// <summary>What stands in for the userinfo of a masked URL.</summary>
    public const string Mask = "***";

    /// <summary>The URL without its userinfo's secrets; other text is returned as it is.</summary>
    public static string Masked(Uri url)
    {
        var text = url.IsAbsoluteUri ? url.AbsoluteUri : url.OriginalString;
        return MaskText(text)!;
    }

    /// <summary>
    /// Masks userinfo in any text that may hold URLs (an exception's message, a stored URL). Null stays null.
    /// </summary>
    public static string? MaskText(string? text) => text is null || !text.Contains('@') ? text : UserInfo().Replace(text, "://" + Mask + "@");

    /// <summary>True when the URL carries userinfo (credentials, or a mask left where they were).</summary>
    public static bool HasUserInfo(Uri url) => url.IsAbsoluteUri && url.UserInfo.Length > 0;

    /// <summary>True when the userinfo is the mask: the credentials were not kept.</summary>
    public static bool IsMasked(Uri url) => url.IsAbsoluteUri && url.UserInfo == Mask;

    /// <summary>
    /// The URL without userinfo, and the credentials it carried (percent-decoded, as curl and browsers read them).
    /// </summary>
    public static (Uri Url, NetworkCredential? Credentials) SplitCredentials(Uri url)
    {
        if (!HasUserInfo(url))
        {
            return (url, null);
        }

        var info = url.UserInfo;
        var colon = info.IndexOf(':');
        var user = Uri.UnescapeDataString(colon < 0 ? info : info[..colon]);
        var password = colon < 0 ? "" : Uri.UnescapeDataString(info[(colon + 1)..]);
        var bare = new UriBuilder(url) { UserName = "", Password = "" }.Uri;
        return (bare, new NetworkCredential(user, password));
    }

    /// <summary>The value of an <c>Authorization: Basic</c> header for these credentials (RFC 7617, UTF-8).</summary>
    public static string BasicParameter(NetworkCredential credentials) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials.UserName + ":" + credentials.Password));

    // scheme://userinfo@ — userinfo is everything up to the first '@' that comes before any '/', '?', '#' or space.
    [GeneratedRegex(@"://[^/?#\s@]+@")]
    private static partial Regex UserInfo();
}
