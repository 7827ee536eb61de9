using System.Collections;
using ModelLibrary.Configuration;

namespace ModelLibrary.Tests.Foundation;

public class ConfigurationTests
{
    static LibraryConfiguration From(params (string Key, string Value)[] vars)
    {
        var env = new Hashtable { ["HOME"] = "/home/u" };
        foreach (var (k, v) in vars)
        {
            env[k] = v;
        }

        return LibraryConfiguration.FromEnvironment(env);
    }

    [Fact]
    public void Defaults_follow_the_contract()
    {
        var c = From();
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal("/home/u/.local/share/ModelLibrary", c.ModelsDirectory);
        }

        Assert.Equal(Path.Combine(c.ModelsDirectory, "llama-cpp"), c.LlamaCppModelsDirectory);
        Assert.Equal(Path.Combine(c.ModelsDirectory, "transformers"), c.TransformersModelsDirectory);
        Assert.Equal(3, c.MaxConcurrentDownloads);
        Assert.Equal(3600, c.DownloadTimeout);
        Assert.True(c.EnableModelValidation);
        Assert.True(c.EnableSecurityScanning);
        Assert.All(c.Describe(), s => Assert.Equal(SettingSource.Default, s.Source));
    }

    [Fact]
    public void Connections_per_host_default_to_16_and_the_bandwidth_limit_to_none_and_both_are_shown_and_settable()
    {
        var c = From();
        Assert.Equal(16, c.DownloadConnections);
        Assert.Equal(0, c.DownloadMaxBytesPerSecond);
        Assert.Contains(c.Describe(), s => s.Variable == "DOWNLOAD_MAX_BYTES_PER_SECOND" && s.Name == "DownloadMaxBytesPerSecond" && (int)s.Value! == 0);

        var env = From(("DOWNLOAD_MAX_BYTES_PER_SECOND", "1048576"));
        Assert.Equal(1048576, env.DownloadMaxBytesPerSecond);
        Assert.Equal(SettingSource.Environment, env.Source("DOWNLOAD_MAX_BYTES_PER_SECOND"));

        var session = c.With(downloadMaxBytesPerSecond: 500);
        Assert.Equal(500, session.DownloadMaxBytesPerSecond);
        Assert.Equal(SettingSource.Session, session.Source("DOWNLOAD_MAX_BYTES_PER_SECOND"));
        var bad = Assert.ThrowsAny<ModelLibraryException>(() => From(("DOWNLOAD_MAX_BYTES_PER_SECOND", "-5")));
        Assert.Contains("DOWNLOAD_MAX_BYTES_PER_SECOND", bad.Message);
    }

    [Fact]
    public void Xdg_data_home_moves_the_default_root()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        Assert.Equal("/data/ModelLibrary", From(("XDG_DATA_HOME", "/data")).ModelsDirectory);
    }

    [Fact]
    public void Environment_values_are_read_and_marked()
    {
        var root = Path.Combine(Path.GetTempPath(), "ml-conf-env");
        var c = From(("MODELS_DIR", root), ("MAX_CONCURRENT_DOWNLOADS", "7"), ("ENABLE_SECURITY_SCANNING", "false"), ("DOWNLOAD_TIMEOUT", "60"));
        Assert.Equal(root, c.ModelsDirectory);
        Assert.Equal(7, c.MaxConcurrentDownloads);
        Assert.False(c.EnableSecurityScanning);
        Assert.Equal(60, c.DownloadTimeout);
        Assert.Equal(SettingSource.Environment, c.Source("MODELS_DIR"));
        Assert.Equal(SettingSource.Default, c.Source("LLAMA_CPP_MODELS_DIR"));
    }

    [Theory]
    [InlineData("MAX_CONCURRENT_DOWNLOADS", "abc")]
    [InlineData("MAX_CONCURRENT_DOWNLOADS", "0")]
    [InlineData("DOWNLOAD_TIMEOUT", "-5")]
    [InlineData("ENABLE_MODEL_VALIDATION", "maybe")]
    public void Bad_values_name_the_variable(string variable, string value)
    {
        var e = Assert.Throws<ModelLibraryException>(() => From((variable, value)));
        Assert.Equal(ErrorIds.InvalidConfiguration, e.ErrorId);
        Assert.Contains(variable, e.Message);
        Assert.Contains(value, e.Message);
        Assert.Equal(variable, e.Target);
    }

    [Fact]
    public void A_models_directory_that_is_a_file_is_refused()
    {
        var file = Path.GetTempFileName();
        try
        {
            var e = Assert.Throws<ModelLibraryException>(() => From(("MODELS_DIR", file)));
            Assert.Contains("MODELS_DIR", e.Message);
            Assert.Contains("file", e.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Session_changes_move_default_provider_folders_but_not_explicit_ones()
    {
        var explicitLlama = Path.Combine(Path.GetTempPath(), "ml-llama");
        var c = From(("LLAMA_CPP_MODELS_DIR", explicitLlama)).With(modelsDirectory: Path.Combine(Path.GetTempPath(), "ml-new"), maxConcurrentDownloads: 1);
        Assert.Equal(explicitLlama, c.LlamaCppModelsDirectory);
        Assert.Equal(Path.Combine(Path.GetTempPath(), "ml-new", "transformers"), c.TransformersModelsDirectory);
        Assert.Equal(SettingSource.Session, c.Source("MODELS_DIR"));
        Assert.Equal(SettingSource.Session, c.Source("MAX_CONCURRENT_DOWNLOADS"));
        Assert.Throws<ModelLibraryException>(() => c.With(maxConcurrentDownloads: 0));
    }
}
