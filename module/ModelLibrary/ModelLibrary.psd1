@{
    RootModule           = 'ModelLibrary.PowerShell.dll'
    # The one place the version is written: build.ps1 stamps it into the assemblies and the DSC v3 resource manifest.
    ModuleVersion        = '0.1.0'
    GUID                 = '5f0c7a52-8d0e-4b8f-9a55-2f1c3b7e9d41'
    Author               = 'ModelLibrary contributors'
    CompanyName          = 'ModelLibrary contributors'
    Copyright            = '(c) ModelLibrary contributors. MIT License.'
    Description          = 'Discover, download (resumable, verified, parallel), inspect, validate and remove AI model files (GGUF, safetensors), and tell which model fits which inference provider and machine.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('ModelLibrary.format.ps1xml')
    # The DSC resource LibraryModel (class-based, in a script module beside the cmdlets).
    NestedModules        = @('ModelLibraryDsc.psm1')
    DscResourcesToExport = @('LibraryModel')
    FunctionsToExport    = @()
    CmdletsToExport      = @(
        'Get-LibraryModel'
        'Find-LibraryModel'
        'Remove-LibraryModel'
        'Export-LibraryModel'
        'Optimize-ModelLibrary'
        'Get-ModelSource'
        'Register-ModelSource'
        'Unregister-ModelSource'
        'Get-ModelLibraryConfiguration'
        'Set-ModelLibraryConfiguration'
        'Start-ModelDownload'
        'Publish-LibraryModel'
        'Get-ModelDownload'
        'Stop-ModelDownload'
        'Suspend-ModelDownload'
        'Resume-ModelDownload'
        'Wait-ModelDownload'
        'Get-ModelProvider'
        'Register-ModelProvider'
        'Unregister-ModelProvider'
        'Test-ProviderCompatibility'
        'Get-ProviderModelSuggestion'
        'Get-ProviderIntegrationStatus'
        'Test-ModelLibraryIntegration'
        'Get-ModelMetadata'
        'Test-LibraryModel'
        'Import-LibraryModel'
        'Measure-LibraryModel'
    )
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('PSEdition_Core', 'Windows', 'Linux', 'MacOS', 'AI', 'LLM', 'GGUF', 'HuggingFace', 'Ollama', 'safetensors', 'DSC')
            ProjectUri   = 'https://github.com/ModelLibrary/ModelLibrary'
            LicenseUri   = 'https://github.com/ModelLibrary/ModelLibrary/blob/main/LICENSE'
            ReleaseNotes = 'Version 2: models from anywhere (Hugging Face Hub, OCI registries), other tools'' stores, a DSC v3 resource (ModelLibrary/LibraryModel), Azure Pipelines and GitHub Actions log commands, and a PSResourceGet package. See https://github.com/ModelLibrary/ModelLibrary/blob/main/README.md.'
        }
    }
}
