@{
    # The embedded llama.cpp (LLamaSharp 0.30.0, CPU backend) that ModelLibrary's Measure-LibraryModel loads on first
    # use. A companion module of its own so that ModelLibrary imports fast and its package stays small: the native
    # llama.cpp builds for every platform are about 100 MB. It exports nothing; install it beside ModelLibrary.
    ModuleVersion        = '0.1.0'
    GUID                 = '0b7a4f1e-3c55-4d1a-9a6e-6c2f4e8b1d27'
    Author               = 'ModelLibrary contributors'
    CompanyName          = 'ModelLibrary'
    Copyright            = '(c) ModelLibrary contributors. MIT License.'
    Description          = 'The embedded llama.cpp inference engine for ModelLibrary''s Measure-LibraryModel (loaded by ModelLibrary on first use).'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FunctionsToExport    = @()
    CmdletsToExport      = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{ PSData = @{ Tags = @('AI', 'LLM', 'GGUF', 'llama.cpp', 'inference') } }
}
