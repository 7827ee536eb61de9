namespace ModelLibrary.Compatibility.Tests;

public class EndpointAddressTests
{
    [Theory]
    [InlineData("127.0.0.1:11434", "http://127.0.0.1:11434/")]
    [InlineData("0.0.0.0", "http://127.0.0.1:11434/")]
    [InlineData("0.0.0.0:9999", "http://127.0.0.1:9999/")]
    [InlineData(":1234", "http://127.0.0.1:1234/")]
    [InlineData("example.com", "http://example.com:11434/")]
    [InlineData("  example.com:1  ", "http://example.com:1/")]
    [InlineData("http://example.com", "http://example.com/")]
    [InlineData("https://example.com", "https://example.com/")]
    [InlineData("https://example.com:8443/ollama/", "https://example.com:8443/ollama")]
    [InlineData("HTTP://Example.com:80", "http://example.com/")]
    [InlineData("[::1]:11434", "http://[::1]:11434/")]
    [InlineData("::1", "http://[::1]:11434/")]
    [InlineData("::", "http://[::1]:11434/")]
    [InlineData("[::]:8080", "http://[::1]:8080/")]
    public void Parses_like_ollama(string value, string expected)
    {
        Assert.True(EndpointAddress.TryParse(value, 11434, out var uri, out var error), error);
        Assert.Equal(expected, uri!.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("ftp://host")]
    [InlineData("host:abc")]
    [InlineData("host:70000")]
    [InlineData("host:0")]
    [InlineData("[::1")]
    [InlineData("a:b:c")]
    public void Refuses_what_is_not_an_endpoint(string value)
    {
        Assert.False(EndpointAddress.TryParse(value, 11434, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Theory]
    [InlineData("http://h:8000/v1", "/v1/models", "http://h:8000/v1/models")]
    [InlineData("http://h:8000", "/v1/models", "http://h:8000/v1/models")]
    [InlineData("http://h:8000/proxy", "/api/tags", "http://h:8000/proxy/api/tags")]
    [InlineData("http://h:8000/", "health", "http://h:8000/health")]
    public void Combines_paths_without_doubling_v1(string endpoint, string path, string expected) =>
        Assert.Equal(expected, EndpointAddress.Combine(new Uri(endpoint), path).ToString());
}
