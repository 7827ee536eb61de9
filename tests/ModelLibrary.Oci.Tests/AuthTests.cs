using ModelLibrary.Sources.Oci;

namespace ModelLibrary.Oci.Tests;

/// <summary>
/// Login: the bearer-token challenge through <see cref="TokenServer"/> (realm on 127.0.0.2, another host than the
/// registry: ollama#9215 refuses such realms), htpasswd basic auth, Docker's config.json, and the errors when a
/// login is missing or wrong. Protocol: distribution/distribution docs/spec/auth/token.md.
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class AuthTests
{
    readonly RegistryFixture registries;

    public AuthTests(RegistryFixture registries) => this.registries = registries;

    [Fact]
    public async Task Token_auth_with_a_realm_on_another_host_publishes_and_pulls_with_pull_and_push_scopes_and_reuses_tokens()
    {
        var registry = registries.Token.Registry;
        Assert.Equal("127.0.0.2", registries.TokenServer.Realm.Host);
        await using var publisher = TestLibrary.Create();
        var local = await publisher.ImportAsync("gguf/ggml-vocab-bert-bge.gguf", "bge-vocab");
        publisher.RegisterSource("tokens", registries.Token.BaseUri, RegistryFixture.User, RegistryFixture.Password);
        registries.TokenServer.Requests.Clear();

        var result = await publisher.PublishAsync("bge-vocab", $"{registry}/team/bge:v1");

        var pushRequests = registries.TokenServer.Requests.ToArray();
        Assert.All(pushRequests, r => Assert.True(r.Authenticated));
        Assert.Contains(pushRequests, r => r.Scopes.Contains("repository:team/bge:pull,push"));
        // One token for the repository's push scope serves every HEAD, upload and the manifest: cached, not re-asked.
        Assert.InRange(pushRequests.Length, 1, 2);

        await using var fleet = TestLibrary.Create();
        fleet.RegisterSource("tokens", registries.Token.BaseUri, RegistryFixture.User, RegistryFixture.Password);
        registries.TokenServer.Requests.Clear();
        var pulled = await fleet.PullAsync(result.Reference);

        Assert.Equal(local.Checksum, TestLibrary.Sha256(pulled.LocalPath!));
        var pullRequests = registries.TokenServer.Requests.ToArray();
        Assert.Contains(pullRequests, r => r.Scopes.Contains("repository:team/bge:pull"));
        Assert.DoesNotContain(pullRequests, r => r.Scopes.Any(s => s.Contains("push")));
        Assert.InRange(pullRequests.Length, 1, 2);
    }

    [Fact]
    public async Task A_wrong_password_at_the_token_service_is_AuthenticationRequired_naming_the_registry()
    {
        await using var library = TestLibrary.Create();
        library.RegisterSource("tokens", registries.Token.BaseUri, RegistryFixture.User, "wrong");

        var e = await Assert.ThrowsAnyAsync<ModelLibraryException>(() => library.PullAsync($"{registries.Token.Registry}/team/bge:v1"));

        Assert.Equal(ErrorIds.AuthenticationRequired, e.ErrorId);
        Assert.Contains(registries.Token.Registry, e.Message);
        Assert.Contains("the model source 'tokens'", e.Message);
    }

    [Fact]
    public async Task Anonymous_pulls_from_registries_that_need_a_login_are_AuthenticationRequired_with_what_to_do()
    {
        await using var library = TestLibrary.Create();

        foreach (var registry in new[] { registries.Token.Registry, registries.Basic.Registry })
        {
            var e = await Assert.ThrowsAnyAsync<ModelLibraryException>(() => library.PullAsync($"{registry}/team/none:v1"));
            Assert.Equal(ErrorIds.AuthenticationRequired, e.ErrorId);
            Assert.Contains(registry, e.Message);
            Assert.Contains("without a credential", e.Message);
            Assert.Contains(e.ErrorInfo.ResolutionSteps, s => s.Contains("-Credential"));
        }

        Assert.Empty(Directory.EnumerateFiles(library.Root, "*.gguf", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_credential_helper_in_Dockers_config_is_named_in_the_error()
    {
        await using var library = TestLibrary.Create();
        PublishAndPullTests.WriteDockerConfig(registries.DockerConfig, registries.Basic.Registry, "", "", helper: "secretservice");
        try
        {
            var e = await Assert.ThrowsAnyAsync<ModelLibraryException>(() => library.PullAsync($"{registries.Basic.Registry}/team/none:v1"));

            Assert.Equal(ErrorIds.AuthenticationRequired, e.ErrorId);
            Assert.Contains("docker-credential-secretservice", e.Message);
        }
        finally
        {
            File.Delete(Path.Combine(registries.DockerConfig, "config.json"));
        }
    }

    [Fact]
    public async Task A_wrong_basic_password_is_AuthenticationRequired_and_publishes_nothing()
    {
        await using var library = TestLibrary.Create();
        await library.ImportAsync("safetensors/model.safetensors", "tiny-st");

        var e = await Assert.ThrowsAnyAsync<ModelLibraryException>(() =>
            library.PublishAsync("tiny-st", $"{registries.Basic.Registry}/team/tiny:v1", credential: new RegistryCredential(RegistryFixture.User, "nope", "-Credential")));

        Assert.Equal(ErrorIds.AuthenticationRequired, e.ErrorId);
        Assert.Contains("-Credential", e.Message);
        using var http = RawPush.Client(RegistryFixture.User, RegistryFixture.Password);
        using var tags = await http.GetAsync(new Uri(registries.Basic.BaseUri, "v2/team/tiny/tags/list"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, tags.StatusCode);
    }

    [Fact]
    public async Task An_expired_token_is_fetched_again_and_a_live_one_is_reused()
    {
        var registry = registries.Token.Registry;
        await using var publisher = TestLibrary.Create();
        await publisher.ImportAsync("safetensors/model.safetensors", "expiry");
        publisher.RegisterSource("tokens", registries.Token.BaseUri, RegistryFixture.User, RegistryFixture.Password);
        await publisher.PublishAsync("expiry", $"{registry}/team/expiry:v1");
        var client = publisher.Service.Registries.ClientFor(registry);
        registries.TokenServer.ExpiresIn = 2;
        try
        {
            registries.TokenServer.Requests.Clear();
            await client.ListTagsAsync("team/expiry", 10, CancellationToken.None);
            await client.ListTagsAsync("team/expiry", 10, CancellationToken.None);
            var live = registries.TokenServer.Requests.Count;
            await Task.Delay(TimeSpan.FromSeconds(3));
            var tags = await client.ListTagsAsync("team/expiry", 10, CancellationToken.None);

            Assert.Equal(1, live);
            Assert.Equal(2, registries.TokenServer.Requests.Count);
            Assert.Contains("v1", tags);
        }
        finally
        {
            registries.TokenServer.ExpiresIn = 300;
        }
    }

    [Fact]
    public async Task A_registry_that_refuses_listing_lists_nothing_with_a_warning_naming_it()
    {
        await using var library = TestLibrary.Create();
        library.RegisterSource("locked", registries.Token.BaseUri);
        var source = library.Service.Catalog.ListSources().Single(s => s.Name == "locked");

        var listed = await library.Service.Catalog.Open(source).ReadAsync(CancellationToken.None);

        Assert.Empty(listed.Models);
        Assert.Contains(listed.Warnings, w => w.Contains(registries.Token.Registry) && w.Contains("does not allow listing"));
    }
}
