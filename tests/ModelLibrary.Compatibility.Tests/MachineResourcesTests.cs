namespace ModelLibrary.Compatibility.Tests;

public class MachineResourcesTests
{
    [Fact]
    public void Reads_this_machine()
    {
        var machine = SystemMachineResources.Instance;
        Assert.True(machine.TotalMemory > 0);
        Assert.InRange(machine.AvailableMemory, 1, machine.TotalMemory);
        Assert.Equal(Environment.ProcessorCount, machine.ProcessorCount);
    }

    [Fact]
    public void Free_disk_of_a_folder_that_does_not_exist_yet_is_its_parents()
    {
        var missing = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "llama-cpp");
        Assert.True(SystemMachineResources.Instance.GetAvailableDiskSpace(missing) > 0);
    }

    [Fact]
    public void MaxMemory_stands_in_for_total_and_available()
    {
        var snapshot = MachineSnapshot.Take(new FixedMachineResources(16, 8, 4, null), maxMemory: 32);
        Assert.Equal((32L, 32L, true), (snapshot.TotalMemory, snapshot.AvailableMemory, snapshot.MemoryOverridden));
    }
}
