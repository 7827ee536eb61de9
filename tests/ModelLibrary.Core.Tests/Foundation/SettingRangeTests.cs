using System.Collections;
using System.Globalization;
using ModelLibrary.Configuration;

namespace ModelLibrary.Tests.Foundation;

/// <summary>Each whole-number setting's range is defined once and the environment parser and the session setter agree on it.</summary>
public class SettingRangeTests
{
    public static TheoryData<string> Settings()
    {
        var data = new TheoryData<string>();
        foreach (var setting in SettingRanges.All)
        {
            data.Add(setting.Name);
        }

        return data;
    }

    static IntSetting Setting(string name) => SettingRanges.All.Single(s => s.Name == name);

    static LibraryConfiguration FromEnvironment(IntSetting setting, long value) =>
        LibraryConfiguration.FromEnvironment(new Hashtable { ["HOME"] = "/home/u", [setting.Variable] = value.ToString(CultureInfo.InvariantCulture) });

    static LibraryConfiguration Set(IntSetting setting, int value)
    {
        var start = LibraryConfiguration.FromEnvironment(new Hashtable { ["HOME"] = "/home/u" });
        return setting.Name switch
        {
            nameof(LibraryConfiguration.MaxConcurrentDownloads) => start.With(maxConcurrentDownloads: value),
            nameof(LibraryConfiguration.DownloadTimeout) => start.With(downloadTimeout: value),
            nameof(LibraryConfiguration.DownloadConnections) => start.With(downloadConnections: value),
            nameof(LibraryConfiguration.DownloadStallTimeout) => start.With(downloadStallTimeout: value),
            nameof(LibraryConfiguration.DownloadMaxBytesPerSecond) => start.With(downloadMaxBytesPerSecond: value),
            _ => throw new NotSupportedException($"Teach this test how to set {setting.Name}."),
        };
    }

    static int Read(LibraryConfiguration configuration, IntSetting setting) =>
        (int)typeof(LibraryConfiguration).GetProperty(setting.Name)!.GetValue(configuration)!;

    [Theory]
    [MemberData(nameof(Settings))]
    public void Parser_and_setter_take_the_bounds_and_refuse_one_beyond(string name)
    {
        var setting = Setting(name);
        foreach (var bound in new[] { setting.Minimum, setting.Maximum })
        {
            Assert.Equal(bound, Read(FromEnvironment(setting, bound), setting));
            Assert.Equal(bound, Read(Set(setting, bound), setting));
        }

        var below = setting.Minimum - 1;
        var fromEnvironment = Assert.Throws<ModelLibraryException>(() => FromEnvironment(setting, below));
        var fromSetter = Assert.Throws<ModelLibraryException>(() => Set(setting, below));
        Assert.Equal(ErrorIds.InvalidConfiguration, fromEnvironment.ErrorId);
        Assert.Equal(fromEnvironment.Message, fromSetter.Message);
        Assert.Contains(setting.Variable, fromEnvironment.Message);

        if (setting.Maximum < int.MaxValue)
        {
            Assert.Throws<ModelLibraryException>(() => FromEnvironment(setting, (long)setting.Maximum + 1));
            Assert.Throws<ModelLibraryException>(() => Set(setting, setting.Maximum + 1));
        }
        else
        {
            // Beyond int: the environment's text is not a whole number the setting can hold.
            Assert.Throws<ModelLibraryException>(() => FromEnvironment(setting, (long)int.MaxValue + 1));
        }
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void The_default_is_in_range_and_is_what_an_unset_variable_gives(string name)
    {
        var setting = Setting(name);
        Assert.InRange(setting.Default, setting.Minimum, setting.Maximum);
        Assert.Equal(setting.Default, Read(LibraryConfiguration.FromEnvironment(new Hashtable { ["HOME"] = "/home/u" }), setting));
        Assert.Equal(setting.Default, Read(new LibraryConfiguration(), setting));
        Assert.Contains(LibraryConfiguration.FromEnvironment(new Hashtable()).Describe(), d => d.Name == setting.Name && d.Variable == setting.Variable);
    }
}
