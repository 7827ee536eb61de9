using System.Runtime.CompilerServices;

// The download tests simulate a killed process (DownloadManager.SimulateCrashAsync) and read resume state.
[assembly: InternalsVisibleTo("ModelLibrary.Downloads.Tests")]
[assembly: InternalsVisibleTo("ModelLibrary.Oci.Tests")]
