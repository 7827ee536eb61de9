using System.Management.Automation;
using ModelLibrary.Library;
using ModelLibrary.PowerShell.Infrastructure;

namespace ModelLibrary.PowerShell.ModelFiles;

/// <summary>
/// What a model file's header says (-Path), or a library model's metadata (-Id): its catalog's values with its
/// file's values over them, and a warning naming every value the two disagree on. Headers are cached under
/// metadata/ and read again when the file changes. A model without a file gives its catalog's metadata.
/// </summary>
[Cmdlet(VerbsCommon.Get, "ModelMetadata", DefaultParameterSetName = IdSet)]
[OutputType(typeof(ModelFileMetadata))]
public sealed class GetModelMetadataCommand : ModelOrFileCmdlet
{
    protected override void ProcessRecord()
    {
        var reader = new ModelMetadataReader(Service);
        void Note(string message) => Post(() => WriteVerbose(message));

        if (ParameterSetName == IdSet)
        {
            foreach (var id in Id)
            {
                if (ExistingPathInsteadOf(id) is { } file)
                {
                    Guard(() => WriteObject(Run(ct => Task.FromResult(reader.ReadFile(file, ct, Note)))), file);
                    continue;
                }

                Guard(() =>
                {
                    var metadata = Run(ct => reader.ReadModelAsync(id, ct, Note));
                    if (metadata.Differences.Length > 0)
                    {
                        WriteWarning($"The file of '{metadata.ModelId}' disagrees with its catalog; the file's values are shown: " +
                            string.Join("; ", metadata.Differences.Select(d => $"{d.Field} is '{d.FileValue}' in the file, '{d.CatalogValue}' in the catalog")) + ".");
                    }

                    if (metadata.MetadataSource == MetadataSource.Catalog)
                    {
                        WriteVerbose($"'{metadata.ModelId}' has no file in this library; showing its catalog's metadata.");
                    }

                    WriteObject(metadata);
                }, id);
            }

            return;
        }

        foreach (var path in Path.SelectMany(p => FileSystemPaths.Resolve(this, p)))
        {
            Guard(() => WriteObject(Run(ct => Task.FromResult(reader.ReadFile(path, ct, Note)))), path);
        }
    }
}
