using System.Buffers.Binary;
using ModelLibrary.Sources.Stores;

namespace ModelLibrary.Tests.Sources;

/// <summary>
/// File identity, which Optimize-ModelLibrary and Export-LibraryModel use to tell one file from its copies. On Linux it is
/// read from the real file system; the macOS and Windows structures cannot be read on this machine, so their decoding is
/// checked on buffers laid out as the system headers declare them (Apple's sys/stat.h struct stat with
/// __DARWIN_64_BIT_INO_T; Windows fileapi.h BY_HANDLE_FILE_INFORMATION).
/// </summary>
public class FileIdentityTests
{
    [Fact]
    public void Hard_links_share_an_identity_and_copies_do_not()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var dir = Directory.CreateTempSubdirectory("ml-identity-").FullName;
        try
        {
            var a = Path.Combine(dir, "a.bin");
            File.WriteAllBytes(a, new byte[] { 1, 2, 3 });
            var copy = Path.Combine(dir, "copy.bin");
            File.Copy(a, copy);
            var link = Path.Combine(dir, "link.bin");
            Assert.True(FileLinks.TryLinkAtomically(a, link));

            var ia = FileLinks.IdentityOf(a)!.Value;
            var il = FileLinks.IdentityOf(link)!.Value;
            var ic = FileLinks.IdentityOf(copy)!.Value;
            Assert.Equal((ia.Device, ia.Inode), (il.Device, il.Inode));
            Assert.NotEqual(ia.Inode, ic.Inode);
            Assert.Equal(ia.Device, ic.Device);
            Assert.Equal(2u, il.Links);
            Assert.Equal(1u, ic.Links);
            Assert.Null(FileLinks.IdentityOf(Path.Combine(dir, "missing")));
            Assert.True(FileLinks.CanTellIdentity);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_macOS_stat_is_read_at_the_64_bit_inode_offsets()
    {
        // struct stat (64-bit inode): dev_t st_dev (int32) at 0, mode_t st_mode (uint16) at 4, nlink_t st_nlink (uint16)
        // at 6, ino_t st_ino (uint64) at 8, then uid, gid, rdev, timespecs, size...: 144 bytes in all.
        var stat = new byte[144];
        BinaryPrimitives.WriteInt32LittleEndian(stat, 0x1000013);
        BinaryPrimitives.WriteUInt16LittleEndian(stat.AsSpan(4), 0x81a4);
        BinaryPrimitives.WriteUInt16LittleEndian(stat.AsSpan(6), 3);
        BinaryPrimitives.WriteUInt64LittleEndian(stat.AsSpan(8), 0x1_2345_6789);
        BinaryPrimitives.WriteUInt32LittleEndian(stat.AsSpan(16), 501);
        Assert.Equal(new FileLinks.Identity(0x1000013, 0x1_2345_6789, 3), FileLinks.DecodeDarwinStat(stat));
    }

    [Fact]
    public void A_Windows_file_information_is_read_as_volume_serial_and_file_index()
    {
        // BY_HANDLE_FILE_INFORMATION: dwFileAttributes (4), three FILETIMEs (8 each), dwVolumeSerialNumber at 28,
        // nFileSizeHigh at 32, nFileSizeLow at 36, nNumberOfLinks at 40, nFileIndexHigh at 44, nFileIndexLow at 48: 52 bytes.
        var info = new byte[52];
        BinaryPrimitives.WriteUInt32LittleEndian(info, 0x20);
        BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(28), 0xC0FFEE);
        BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(36), 4096);
        BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(40), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(44), 0x7);
        BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(48), 0x89AB);
        Assert.Equal(new FileLinks.Identity(0xC0FFEE, 0x7_0000_89AB, 2), FileLinks.DecodeWindowsFileInformation(info));
    }
}
