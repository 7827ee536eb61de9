namespace ModelLibrary.Net;

/// <summary>
/// The errors of the HTTP policy (<see cref="PlainHttpRule"/>, redirects, credentials in URLs). Every URL in them
/// is masked; each says what happened and what helps, built by <see cref="Errors"/> (InsecureSource, NetworkFailure).
/// </summary>
internal static class NetErrors
{
    static readonly string[] PlainHttpSteps =
    {
        "Use an https URL.",
        "If you trust the network path, register the source with Register-ModelSource -AllowInsecureHttp.",
    };

    public static ModelSecurityException PlainHttp(HttpPolicy policy, Uri url, Uri? redirectedFrom) => Errors.InsecureSource(
        redirectedFrom is null
            ? $"Refusing to {policy.Purpose} over plain http from '{url.Host}': the bytes could be altered in transit."
            : $"Refusing to {policy.Purpose}: {SafeUrl.Masked(redirectedFrom)} redirected to plain http at '{url.Host}' ({SafeUrl.Masked(url)}), which is not this machine; the bytes could be altered in transit.",
        policy.Target,
        Details(policy, url, redirectedFrom),
        redirectedFrom is null
            ? PlainHttpSteps
            : new[] { "Ask the source's owner to redirect to https.", "If you trust the network path, register the source with Register-ModelSource -AllowInsecureHttp." });

    public static ModelSecurityException Downgrade(HttpPolicy policy, Uri url, Uri redirectedFrom) => Errors.InsecureSource(
        $"Refusing to {policy.Purpose}: the https URL {SafeUrl.Masked(redirectedFrom)} redirected to plain http ({SafeUrl.Masked(url)}); following it would drop the encryption. Nothing was fetched from it.",
        policy.Target,
        Details(policy, url, redirectedFrom),
        new[] { "The server's redirect is wrong: report it to the source's owner.", "If the file is also served over https at that host, use that URL." });

    public static ModelSecurityException UnsupportedScheme(HttpPolicy policy, Uri url, Uri? redirectedFrom) => Errors.InsecureSource(
        redirectedFrom is null
            ? $"Refusing to {policy.Purpose}: '{url.Scheme}:' URLs are not supported, only https (or http to this machine)."
            : $"Refusing to {policy.Purpose}: {SafeUrl.Masked(redirectedFrom)} redirected to a '{url.Scheme}:' URL; only https (or http to this machine) is followed.",
        policy.Target,
        Details(policy, url, redirectedFrom),
        new[] { "Use an https URL." });

    public static ModelSecurityException CredentialsOverPlainHttp(HttpPolicy policy, Uri url) => Errors.InsecureSource(
        $"Refusing to {policy.Purpose}: the URL {SafeUrl.Masked(url)} carries a user name and password, which are sent only over https or to this machine, never over plain http to '{url.Host}'.",
        policy.Target,
        Details(policy, url, null),
        new[] { "Use an https URL for it.", "Or take the credentials out of the URL." });

    public static NetworkException RedirectLoop(HttpPolicy policy, IReadOnlyList<Uri> hops, Uri next) => Errors.NetworkFailure(
        $"Cannot {policy.Purpose}: the server redirects in a loop ({string.Join(" -> ", hops.Append(next).Select(SafeUrl.Masked))}). Nothing was fetched.",
        target: policy.Target,
        details: Chain(policy, hops, next),
        resolutionSteps: new[] { "The URL is broken on the server's side; trying again will not help until it is fixed.", "Check the URL in a browser, or report it to the source's owner." });

    public static NetworkException TooManyRedirects(HttpPolicy policy, IReadOnlyList<Uri> hops, Uri next) => Errors.NetworkFailure(
        $"Cannot {policy.Purpose}: more than {policy.MaxRedirects} redirects (from {SafeUrl.Masked(hops[0])}, last to {SafeUrl.Masked(next)}). Nothing was fetched.",
        target: policy.Target,
        details: Chain(policy, hops, next),
        resolutionSteps: new[] { "The server's redirects do not end; check the URL in a browser or report it to the source's owner." });

    static Dictionary<string, object?> Details(HttpPolicy policy, Uri url, Uri? redirectedFrom)
    {
        var details = new Dictionary<string, object?> { ["url"] = SafeUrl.Masked(url) };
        if (redirectedFrom is not null)
        {
            details["redirected_from"] = SafeUrl.Masked(redirectedFrom);
        }

        AddTarget(details, policy);
        return details;
    }

    static Dictionary<string, object?> Chain(HttpPolicy policy, IReadOnlyList<Uri> hops, Uri next)
    {
        var details = new Dictionary<string, object?>
        {
            ["url"] = SafeUrl.Masked(hops[0]),
            ["redirects"] = hops.Skip(1).Append(next).Select(SafeUrl.Masked).ToArray(),
        };
        AddTarget(details, policy);
        return details;
    }

    static void AddTarget(Dictionary<string, object?> details, HttpPolicy policy)
    {
        if (policy.Target is string target)
        {
            details[policy.TargetDetail] = target;
        }
    }
}
