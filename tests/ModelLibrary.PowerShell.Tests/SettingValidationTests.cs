using System.Management.Automation;
using System.Reflection;
using ModelLibrary.Configuration;
using ModelLibrary.PowerShell.Configuration;
using Xunit;

namespace ModelLibrary.PowerShell.Tests;

public class SettingValidationTests
{
    /// <summary>Set-ModelLibraryConfiguration validates each setting with the range Core's parser and setter use.</summary>
    [Fact]
    public void The_cmdlets_parameter_ranges_are_Cores_setting_ranges()
    {
        Assert.All(SettingRanges.All, setting =>
        {
            var parameter = typeof(SetModelLibraryConfigurationCommand).GetProperty(setting.Name);
            Assert.NotNull(parameter);
            var range = parameter!.GetCustomAttribute<ValidateRangeAttribute>();
            Assert.NotNull(range);
            Assert.Equal(setting.Minimum, Convert.ToInt32(range!.MinRange));
            Assert.Equal(setting.Maximum, Convert.ToInt32(range.MaxRange));
        });
    }
}
