# End-to-end tests of the model-file cmdlets against the built module: Get-ModelMetadata, Test-LibraryModel,
# Import-LibraryModel, and Remove-LibraryModel of quarantined and in-place models.
# Real files (written by other tools, from tests/fixtures): gguf/stories260K.gguf and gguf/ggml-vocab-phi-3.gguf
# (llama.cpp), safetensors/model.safetensors (safetensors.torch), pickle/malicious1.zip, pickle/malicious0.pkl
# (picklescan's malicious test pickles), pickle/pytorch_model.bin (picklescan's legacy torch.save checkpoint) and
# pickle/candle/test.pt (torch.save).
# Built by the tests: truncated and zero-byte copies, text files, catalogs (JSON), and symbolic links.

BeforeAll {
    Import-Module $env:MODELLIBRARY_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:Fixtures = Get-FixturesDirectory
    $script:StoriesSha = 'sha256:270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d'
    $script:StoriesSize = 1185376

    function script:New-OutsideFolder {
        # A folder outside the library root, for files the user has elsewhere.
        $dir = Join-Path ([IO.Path]::GetTempPath()) ('ml-outside-' + [guid]::NewGuid().ToString('n').Substring(0, 10))
        New-Item -ItemType Directory $dir | Out-Null
        $dir
    }

    function script:Add-TestCatalog([string] $Folder, [object[]] $Models) {
        $path = Join-Path $Folder ('catalog-' + [guid]::NewGuid().ToString('n').Substring(0, 6) + '.json')
        @{ models = $Models } | ConvertTo-Json -Depth 8 | Set-Content -Path $path
        Register-ModelSource -Name ('t' + [guid]::NewGuid().ToString('n').Substring(0, 6)) -Uri $path | Out-Null
    }

    function script:Copy-Fixture([string] $Fixture, [string] $Destination) {
        New-Item -ItemType Directory (Split-Path $Destination) -Force | Out-Null
        Copy-Item (Join-Path $Fixtures $Fixture) $Destination
        $Destination
    }
}

Describe 'Get-ModelMetadata' -Tag ModelFiles {
    BeforeEach { $script:lib = New-TestLibrary; $script:outside = New-OutsideFolder }
    AfterEach { Remove-Item $outside -Recurse -Force -ErrorAction SilentlyContinue }

    It 'reads a real GGUF header into a typed object and caches it under metadata/' {
        $m = Get-ModelMetadata -Path (Join-Path $Fixtures 'gguf/stories260K.gguf')
        $m.PSObject.TypeNames[0] | Should -Be 'ModelLibrary.ModelFileMetadata'
        $m.Format | Should -Be 'gguf'
        $m.FormatVersion | Should -Be 'GGUF v3'
        $m.Architecture | Should -Be 'llama'
        $m.ParameterCount | Should -Be 292800
        $m.Parameters | Should -Be '292.8K'
        $m.ContextLength | Should -Be 2048
        $m.TensorCount | Should -Be 48
        $m.Metadata.PSObject.TypeNames[0] | Should -Be 'ModelLibrary.ModelMetadata'
        $m.Metadata.Architecture | Should -Be 'llama'
        $m.MetadataSource | Should -Be 'File'
        $m.FromCache | Should -BeFalse
        (Get-ChildItem (Join-Path $lib 'metadata') -Filter *.json).Count | Should -Be 1
        (Get-ModelMetadata -Path (Join-Path $Fixtures 'gguf/stories260K.gguf')).FromCache | Should -BeTrue
    }

    It 'reads the parameter count and dtype of PyTorch checkpoints, legacy and zip, and estimates memory from them' {
        # pytorch_model.bin (legacy format): 38 F32 tensors whose storages take (244862 - 8102 - 38 * 8) / 4 = 59114 floats.
        $legacy = Get-ModelMetadata -Path (Join-Path $Fixtures 'pickle/pytorch_model.bin')
        $legacy.Format | Should -Be 'pytorch'
        $legacy.ParameterCount | Should -Be 59114
        $legacy.Parameters | Should -Be '59.1K'
        $legacy.Quantization | Should -Be 'F32'
        $legacy.TensorCount | Should -Be 38
        $zip = Get-ModelMetadata -Path (Join-Path $Fixtures 'pickle/candle/test.pt')
        $zip.ParameterCount | Should -Be 8
        $zip.Quantization | Should -Be 'I64'

        $model = Import-LibraryModel (Copy-Fixture 'pickle/pytorch_model.bin' (Join-Path $outside 'distil/pytorch_model.bin'))
        $model.Metadata.ParameterCount | Should -Be 59114
        $estimate = (Test-ProviderCompatibility $model.Id -Provider transformers).Requirements.MemoryEstimate
        $estimate.Method | Should -Be 'Parameters'
        $estimate.ParameterCount | Should -Be 59114
        $estimate.BitsPerWeight | Should -Be 32
    }

    It 'takes FileInfo objects from Get-ChildItem and wildcards' {
        $all = Get-ChildItem (Join-Path $Fixtures 'gguf') -Filter *.gguf | Get-ModelMetadata
        $all.Count | Should -Be 6
        ($all | Where-Object Architecture -eq 'phi3').ContextLength | Should -Be 4096
        (Get-ModelMetadata -Path (Join-Path $Fixtures 'safetensors/*.safetensors')).Count | Should -Be 4
    }

    It 'reads a piped string that names a file, not a model, as a path; an id still means the model' {
        Push-Location (Join-Path $Fixtures 'gguf')
        try {
            $m = 'stories260K.gguf' | Get-ModelMetadata -Verbose 4>&1
            ($m | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Match "No model has the id 'stories260K.gguf'"
            ($m | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }).ParameterCount | Should -Be 292800
        }
        finally { Pop-Location }
        # A folder named like a catalog model does not hide the model.
        New-Item -ItemType Directory (Join-Path $outside 'tinyllama-1.1b-chat-q4') | Out-Null
        Push-Location $outside
        try { (Get-ModelMetadata tinyllama-1.1b-chat-q4).MetadataSource | Should -Be 'Catalog' }
        finally { Pop-Location }
        { 'no-such-file.gguf' | Get-ModelMetadata -ErrorAction Stop } | Should -Throw -ErrorId 'ModelNotFound,*'
    }

    It 'reads the header again when the file changes' {
        $path = Copy-Fixture 'gguf/stories260K.gguf' (Join-Path $outside 'model.bin')
        (Get-ModelMetadata -Path $path).Format | Should -Be 'gguf'
        (Get-ModelMetadata -Path $path).FromCache | Should -BeTrue
        Copy-Item (Join-Path $Fixtures 'safetensors/model.safetensors') $path -Force
        $again = Get-ModelMetadata -Path $path
        $again.FromCache | Should -BeFalse
        $again.Format | Should -Be 'safetensors'
    }

    It 'still answers when the cache cannot be written' {
        Set-Content (Join-Path $lib 'metadata') 'a file where the cache folder belongs'
        $m = Get-ModelMetadata -Path (Join-Path $Fixtures 'gguf/stories260K.gguf') -ErrorVariable e -Verbose 4>&1
        $e | Should -BeNullOrEmpty
        ($m | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Match 'could not be written'
        ($m | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }).Architecture | Should -Be 'llama'
    }

    It 'refuses a zero-byte file, a text file and a missing path with clear errors' {
        $empty = Join-Path $outside 'empty.gguf'; New-Item -ItemType File $empty | Out-Null
        { Get-ModelMetadata -Path $empty -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidModelFile,ModelLibrary.PowerShell.ModelFiles.GetModelMetadataCommand'
        $text = Join-Path $outside 'readme.txt'; Set-Content $text 'hello'
        Get-ModelMetadata -Path $text -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -Be 'InvalidModelFile,ModelLibrary.PowerShell.ModelFiles.GetModelMetadataCommand'
        $e[0].Exception.Message | Should -Match 'not a GGUF, safetensors or PyTorch file'
        $e[0].CategoryInfo.Category | Should -Be 'InvalidData'
        { Get-ModelMetadata -Path (Join-Path $outside 'nope.gguf') -ErrorAction Stop } | Should -Throw -ErrorId 'PathNotFound,*'
    }

    It 'gives a model without a file its catalog metadata, and ModelNotFound for an unknown id' {
        $m = Get-ModelMetadata tinyllama-1.1b-chat-q4
        $m.MetadataSource | Should -Be 'Catalog'
        $m.Path | Should -BeNullOrEmpty
        $m.Quantization | Should -Be 'Q4_K_M'
        $m.ModelId | Should -Be 'tinyllama-1.1b-chat-q4'
        { Get-ModelMetadata no-such-model -ErrorAction Stop } | Should -Throw -ErrorId 'ModelNotFound,ModelLibrary.PowerShell.ModelFiles.GetModelMetadataCommand'
    }

    It 'merges catalog and file for a local model, the file winning, and warns about each difference' {
        Add-TestCatalog $outside @(@{ id = 'stories-cat'; provider = 'llama-cpp'; download_url = 'https://example.org/stories260K.gguf'
                metadata = @{ quantization = 'Q4_K_M'; context_length = 4096; architecture = 'llama'; license = 'MIT' } })
        Copy-Fixture 'gguf/stories260K.gguf' (Join-Path $lib 'llama-cpp/stories-cat/stories260K.gguf') | Out-Null
        $m = Get-LibraryModel stories-cat | Get-ModelMetadata -WarningVariable w -WarningAction SilentlyContinue
        $m.MetadataSource | Should -Be 'Merged'
        $m.Differences.Field | Should -Be @('Quantization', 'ContextLength')
        $m.Metadata.Quantization | Should -Be 'F32'
        $m.Metadata.ContextLength | Should -Be 2048
        $m.Metadata.License | Should -Be 'MIT'
        ($w -join "`n") | Should -Match "Quantization is 'F32' in the file, 'Q4_K_M' in the catalog"
        $text = $m | Out-String -Width 200
        $text | Should -Match 'stories-cat'
        $text | Should -Match 'Quantization, ContextLength'
    }

    It 'reports ModelNotLocal when a registered file is gone' {
        $path = Copy-Fixture 'gguf/stories260K.gguf' (Join-Path $outside 'stories260K.gguf')
        Import-LibraryModel $path -InPlace -Id vanishing | Out-Null
        Remove-Item $path -Force
        { Get-ModelMetadata vanishing -ErrorAction Stop } | Should -Throw -ErrorId 'ModelNotLocal,ModelLibrary.PowerShell.ModelFiles.GetModelMetadataCommand'
    }
}

Describe 'Test-LibraryModel' -Tag ModelFiles {
    BeforeEach { $script:lib = New-TestLibrary; $script:outside = New-OutsideFolder }
    AfterEach { Remove-Item $outside -Recurse -Force -ErrorAction SilentlyContinue }

    It 'passes a good model with one row per check and a readable view' {
        Copy-Fixture 'gguf/stories260K.gguf' (Join-Path $outside 'stories260K.gguf') | Import-LibraryModel | Out-Null
        $r = Test-LibraryModel stories260k
        $r.PSObject.TypeNames[0] | Should -Be 'ModelLibrary.ModelValidationResult'
        $r.Passed | Should -BeTrue
        $r.ModelId | Should -Be 'stories260k'
        $r.Checks.Name | Should -Be @('PathContainment', 'Format', 'Size', 'Checksum', 'SecurityScan')
        $r.Checks[0].PSObject.TypeNames[0] | Should -Be 'ModelLibrary.ValidationCheck'
        ($r.Checks | Where-Object Name -eq 'Checksum').Outcome | Should -Be 'Passed'
        ($r.Checks | Where-Object Name -eq 'SecurityScan').Outcome | Should -Be 'Skipped'
        ($r | Out-String -Width 200) | Should -Match 'stories260k\s+True\s+PathContainment:Passed'
        ($r.Checks | Out-String -Width 200) | Should -Match 'Checksum\s+Passed\s+SHA-256'
    }

    It 'says why the checksum is skipped when none is known' {
        Copy-Fixture 'gguf/stories260K.gguf' (Join-Path $lib 'llama-cpp/stories260K.gguf') | Out-Null
        $r = Test-LibraryModel stories260k
        $r.Passed | Should -BeTrue
        ($r.Checks | Where-Object Name -eq 'Checksum').Message | Should -Match 'No checksum is known'
    }

    It 'quarantines a checksum mismatch, marks it Error, writes ChecksumMismatch, and Remove-LibraryModel deletes it' {
        Add-TestCatalog $outside @(@{ id = 'stories-bad'; provider = 'llama-cpp'; download_url = 'https://example.org/stories260K.gguf'
                size = $StoriesSize; checksum = 'sha256:' + ('0' * 64) })
        $file = Copy-Fixture 'gguf/stories260K.gguf' (Join-Path $lib 'llama-cpp/stories-bad/stories260K.gguf')
        $r = Test-LibraryModel stories-bad -ErrorVariable e -ErrorAction SilentlyContinue
        $r.Passed | Should -BeFalse
        ($r.Checks | Where-Object Name -eq 'Checksum').Outcome | Should -Be 'Failed'
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -Be 'ChecksumMismatch,ModelLibrary.PowerShell.ModelFiles.TestLibraryModelCommand'
        $e[0].TargetObject | Should -Be 'stories-bad'
        $e[0].Exception.ErrorInfo.Type | Should -Be 'ValidationError'
        $e[0].Exception.Message | Should -Match ([regex]::Escape($StoriesSha.Substring(7)))
        $e[0].ErrorDetails.RecommendedAction | Should -Match 'Start-ModelDownload -Force'
        $quarantined = Join-Path $lib 'quarantine/stories-bad/stories260K.gguf'
        $r.QuarantinePath | Should -Be $quarantined
        Test-Path $file | Should -BeFalse
        Test-Path $quarantined | Should -BeTrue
        $m = Get-LibraryModel stories-bad
        $m.Status | Should -Be 'Error'
        $m.LocalPath | Should -Be $quarantined
        $m.StatusMessage | Should -Match 'Checksum'

        Remove-LibraryModel stories-bad -Confirm:$false
        Test-Path (Join-Path $lib 'quarantine/stories-bad') | Should -BeFalse
        (Get-LibraryModel stories-bad).Status | Should -Be 'Available'
    }

    It 'with -WhatIf or -NoQuarantine reports the failure but moves and changes nothing' {
        Add-TestCatalog $outside @(@{ id = 'stories-bad'; provider = 'llama-cpp'; download_url = 'https://example.org/stories260K.gguf'
                checksum = 'sha256:' + ('0' * 64) })
        $file = Copy-Fixture 'gguf/stories260K.gguf' (Join-Path $lib 'llama-cpp/stories-bad/stories260K.gguf')
        $r = Test-LibraryModel stories-bad -WhatIf -ErrorAction SilentlyContinue
        $r.Passed | Should -BeFalse
        $r.QuarantinePath | Should -BeNullOrEmpty
        Test-Path $file | Should -BeTrue
        (Get-LibraryModel stories-bad).Status | Should -Be 'Local'
        $r = Test-LibraryModel stories-bad -NoQuarantine -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'ChecksumMismatch,*'
        Test-Path $file | Should -BeTrue
        (Get-LibraryModel stories-bad).Status | Should -Be 'Local'
        Test-Path (Join-Path $lib 'quarantine') | Should -BeFalse
    }

    It 'finds a malicious pickle (UnsafeModelContent) and quarantines it' {
        Copy-Fixture 'pickle/malicious1.zip' (Join-Path $lib 'transformers/evil/pytorch_model.bin') | Out-Null
        $r = Test-LibraryModel evil -ErrorVariable e -ErrorAction SilentlyContinue
        $scan = $r.Checks | Where-Object Name -eq 'SecurityScan'
        $scan.Outcome | Should -Be 'Failed'
        $scan.Message | Should -Match 'builtins\.eval'
        $e[0].FullyQualifiedErrorId | Should -Be 'UnsafeModelContent,ModelLibrary.PowerShell.ModelFiles.TestLibraryModelCommand'
        $e[0].CategoryInfo.Category | Should -Be 'SecurityError'
        $e[0].Exception.ErrorInfo.Type | Should -Be 'SecurityError'
        Test-Path (Join-Path $lib 'quarantine/evil/pytorch_model.bin') | Should -BeTrue
        Test-Path (Join-Path $lib 'transformers/evil/pytorch_model.bin') | Should -BeFalse
        (Get-LibraryModel evil).Status | Should -Be 'Error'
        Remove-LibraryModel evil -Force
        Get-LibraryModel evil -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Test-Path (Join-Path $lib 'quarantine/evil') | Should -BeFalse
    }

    It 'finds TorchScript code (UnsafeModelContent), says so, and quarantines it' {
        # A zip in torch.jit.save's layout, built here: compiled source under code/ beside pickles that import nothing.
        $path = Join-Path $lib 'transformers/scripted/model.pt'
        New-Item -ItemType Directory (Split-Path $path) -Force | Out-Null
        Add-Type -AssemblyName System.IO.Compression
        $zip = [IO.Compression.ZipArchive]::new([IO.File]::Create($path), [IO.Compression.ZipArchiveMode]::Create)
        try {
            $entries = [ordered]@{
                'model/data.pkl'          = [byte[]](0x80, 2, 0x29, 0x2e)
                'model/constants.pkl'     = [byte[]](0x80, 2, 0x29, 0x2e)
                'model/code/__torch__.py' = [Text.Encoding]::UTF8.GetBytes("class M(Module):`n  pass`n")
            }
            foreach ($entry in $entries.GetEnumerator()) {
                $stream = $zip.CreateEntry($entry.Key).Open()
                $stream.Write($entry.Value, 0, $entry.Value.Length)
                $stream.Dispose()
            }
        }
        finally { $zip.Dispose() }

        $m = Get-ModelMetadata -Path $path
        $m.ContainsTorchScript | Should -BeTrue
        $m.IsSafe | Should -BeFalse
        $m.UnsafeGlobals | Should -BeNullOrEmpty
        $m.FormatVersion | Should -Be 'TorchScript zip, pickle protocol 2'
        ($m | Format-List | Out-String) | Should -Match 'ContainsTorchScript\s*:\s*True'

        $r = Test-LibraryModel scripted -ErrorVariable e -ErrorAction SilentlyContinue
        ($r.Checks | Where-Object Name -eq 'SecurityScan').Message | Should -Match 'TorchScript code'
        $e[0].FullyQualifiedErrorId | Should -Be 'UnsafeModelContent,ModelLibrary.PowerShell.ModelFiles.TestLibraryModelCommand'
        Test-Path (Join-Path $lib 'quarantine/scripted/model.pt') | Should -BeTrue
        (Get-LibraryModel scripted).Status | Should -Be 'Error'
    }

    It 'finds a truncated GGUF (InvalidModelFile)' {
        $bytes = [IO.File]::ReadAllBytes((Join-Path $Fixtures 'gguf/stories260K.gguf'))
        New-Item -ItemType Directory (Join-Path $lib 'llama-cpp/cut') -Force | Out-Null
        [IO.File]::WriteAllBytes((Join-Path $lib 'llama-cpp/cut/stories260K.gguf'), $bytes[0..99999])
        $r = Test-LibraryModel cut -ErrorVariable e -ErrorAction SilentlyContinue
        ($r.Checks | Where-Object Name -eq 'Format').Message | Should -Match 'truncated'
        $e[0].FullyQualifiedErrorId | Should -Be 'InvalidModelFile,ModelLibrary.PowerShell.ModelFiles.TestLibraryModelCommand'
        Test-Path (Join-Path $lib 'quarantine/cut/stories260K.gguf') | Should -BeTrue
    }

    It 'refuses a symbolic link out of the root (UnsafeModelContent) without opening or moving anything' {
        $victim = Copy-Fixture 'gguf/stories260K.gguf' (Join-Path $outside 'precious.gguf')
        New-Item -ItemType Directory (Join-Path $lib 'llama-cpp') -Force | Out-Null
        New-Item -ItemType SymbolicLink -Path (Join-Path $lib 'llama-cpp/linked') -Target $outside | Out-Null
        $r = Test-LibraryModel linked -ErrorVariable e -ErrorAction SilentlyContinue
        ($r.Checks | Where-Object Name -eq 'PathContainment').Outcome | Should -Be 'Failed'
        ($r.Checks | Where-Object Name -eq 'Format').Outcome | Should -Be 'Skipped'
        $e[0].FullyQualifiedErrorId | Should -Be 'UnsafeModelContent,ModelLibrary.PowerShell.ModelFiles.TestLibraryModelCommand'
        Test-Path $victim | Should -BeTrue
        $r.QuarantinePath | Should -BeNullOrEmpty
        (Get-LibraryModel linked).Status | Should -Be 'Error'
    }

    It 'writes the result before the error, so -ErrorAction Stop stops a pipeline at the first bad model' {
        Copy-Fixture 'pickle/malicious0.pkl' (Join-Path $lib 'transformers/bad1/model.bin') | Out-Null
        Copy-Fixture 'pickle/malicious0.pkl' (Join-Path $lib 'transformers/bad2/model.bin') | Out-Null
        $seen = [Collections.Generic.List[object]]::new()
        { Get-LibraryModel -Status Local | Test-LibraryModel -NoQuarantine -ErrorAction Stop | ForEach-Object { $seen.Add($_) } } |
            Should -Throw -ErrorId 'UnsafeModelContent,ModelLibrary.PowerShell.ModelFiles.TestLibraryModelCommand'
        $seen.Count | Should -Be 1
        $seen[0].Passed | Should -BeFalse
    }

    It 'writes ModelNotLocal for a model without a file and ModelNotFound for an unknown id' {
        { Test-LibraryModel tinyllama-1.1b-chat-q4 -ErrorAction Stop } | Should -Throw -ErrorId 'ModelNotLocal,ModelLibrary.PowerShell.ModelFiles.TestLibraryModelCommand'
        { Test-LibraryModel no-such-model -ErrorAction Stop } | Should -Throw -ErrorId 'ModelNotFound,ModelLibrary.PowerShell.ModelFiles.TestLibraryModelCommand'
    }

    It 'checks a piped string that names a file, not a model, as -Path would' {
        $r = (Join-Path $Fixtures 'gguf/stories260K.gguf') | Test-LibraryModel
        $r.Passed | Should -BeTrue
        $r.ModelId | Should -BeNullOrEmpty
        Test-Path (Join-Path $lib 'quarantine') | Should -BeFalse
    }

    It 'checks any file with -Path, optionally against -Checksum, without touching the library' {
        $r = Get-ChildItem (Join-Path $Fixtures 'gguf/stories260K.gguf') | Test-LibraryModel -Checksum $StoriesSha
        $r.Passed | Should -BeTrue
        $r.ModelId | Should -BeNullOrEmpty
        ($r.Checks | Where-Object Name -eq 'Checksum').Outcome | Should -Be 'Passed'
        ($r.Checks | Where-Object Name -eq 'PathContainment').Outcome | Should -Be 'Warning'
        { Test-LibraryModel -Path (Join-Path $Fixtures 'gguf/stories260K.gguf') -Checksum ('sha256:' + 'f' * 64) -ErrorAction Stop } |
            Should -Throw -ErrorId 'ChecksumMismatch,*'
        $benign = Test-LibraryModel -Path (Join-Path $Fixtures 'pickle/candle/test.pt')
        ($benign.Checks | Where-Object Name -eq 'SecurityScan').Outcome | Should -Be 'Passed'
        Test-Path (Join-Path $lib 'quarantine') | Should -BeFalse
        Test-Path (Join-Path $Fixtures 'pickle/malicious1.zip') | Should -BeTrue
        Test-LibraryModel -Path (Join-Path $Fixtures 'pickle/malicious1.zip') -ErrorAction SilentlyContinue | Out-Null
        Test-Path (Join-Path $Fixtures 'pickle/malicious1.zip') | Should -BeTrue
    }

    It 'honours ENABLE_SECURITY_SCANNING=false and ENABLE_MODEL_VALIDATION=false' {
        Copy-Fixture 'pickle/malicious0.pkl' (Join-Path $lib 'transformers/evil/model.bin') | Out-Null
        $r = Invoke-ChildPwsh -Environment @{ MODELS_DIR = $lib; ENABLE_SECURITY_SCANNING = 'false'; ENABLE_MODEL_VALIDATION = 'false' } -Script @'
$r = Test-LibraryModel evil -ErrorAction Stop
"passed=$($r.Passed)"
$r.Checks | ForEach-Object { "$($_.Name)=$($_.Outcome)" }
'@
        $r.Output | Should -Match 'passed=True'
        $r.Output | Should -Match 'SecurityScan=Skipped'
        $r.Output | Should -Match 'Format=Skipped'
    }
}

Describe 'Import-LibraryModel' -Tag ModelFiles {
    BeforeEach { $script:lib = New-TestLibrary; $script:outside = New-OutsideFolder }
    AfterEach { Remove-Item $outside -Recurse -Force -ErrorAction SilentlyContinue }

    It 'imports GGUF files piped from Get-ChildItem, reading their headers' {
        Copy-Fixture 'gguf/stories260K.gguf' (Join-Path $outside 'stories260K.gguf') | Out-Null
        Copy-Fixture 'gguf/ggml-vocab-phi-3.gguf' (Join-Path $outside 'Phi-3 Vocab.gguf') | Out-Null
        $models = Get-ChildItem (Join-Path $outside '*.gguf') | Import-LibraryModel
        $models.Count | Should -Be 2
        $models[0].PSObject.TypeNames[0] | Should -Be 'ModelLibrary.ModelInfo'
        $s = $models | Where-Object Id -eq 'stories260k'
        $s.Status | Should -Be 'Local'
        $s.Provider | Should -Be 'llama-cpp'
        $s.Source | Should -Be 'imported'
        $s.Format | Should -Be 'gguf'
        $s.Checksum | Should -Be $StoriesSha
        $s.DiskUsage | Should -Be $StoriesSize
        $s.DownloadDate | Should -Not -BeNullOrEmpty
        $s.LocalPath | Should -Be (Join-Path $lib 'llama-cpp/stories260k/stories260K.gguf')
        $s.Metadata.Architecture | Should -Be 'llama'
        ($models | Where-Object Id -eq 'phi-3-vocab').Metadata.Architecture | Should -Be 'phi3'
        Test-Path (Join-Path $outside 'stories260K.gguf') | Should -BeTrue
        (Get-ChildItem (Join-Path $lib 'llama-cpp') -Recurse -File -Force).Name | Should -Not -Match '\.tmp$'
        (Get-LibraryModel -Status Local).Count | Should -Be 2
    }

    It 'infers transformers for safetensors and honours -Provider and -Id' {
        $st = Copy-Fixture 'safetensors/model.safetensors' (Join-Path $outside 'tiny-mlp/model.safetensors')
        $m = Import-LibraryModel $st
        $m.Id | Should -Be 'tiny-mlp'
        $m.Provider | Should -Be 'transformers'
        $m.LocalPath | Should -Be (Join-Path $lib 'transformers/tiny-mlp/model.safetensors')
        $o = Import-LibraryModel (Join-Path $Fixtures 'gguf/stories260K.gguf') -Provider ollama -Id my-stories
        $o.Id | Should -Be 'my-stories'
        $o.Provider | Should -Be 'ollama'
        { Import-LibraryModel (Join-Path $Fixtures 'gguf/stories260K.gguf') -Id '../bad' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidModelId,ModelLibrary.PowerShell.ModelFiles.ImportLibraryModelCommand'
    }

    It 'with -WhatIf copies and registers nothing' {
        Import-LibraryModel (Join-Path $Fixtures 'gguf/stories260K.gguf') -WhatIf
        Get-LibraryModel stories260k -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Test-Path (Join-Path $lib 'llama-cpp/stories260k') | Should -BeFalse
    }

    It 'refuses an id that is already Local without -Force (ModelExists)' {
        Import-LibraryModel (Join-Path $Fixtures 'gguf/stories260K.gguf') | Out-Null
        { Import-LibraryModel (Join-Path $Fixtures 'gguf/stories260K.gguf') -ErrorAction Stop } | Should -Throw -ErrorId 'ModelExists,ModelLibrary.PowerShell.ModelFiles.ImportLibraryModelCommand'
        (Import-LibraryModel (Join-Path $Fixtures 'gguf/stories260K.gguf') -Force).Status | Should -Be 'Local'
    }

    It 'refuses bad files and registers or copies nothing' {
        $empty = Join-Path $outside 'empty.gguf'; New-Item -ItemType File $empty | Out-Null
        { Import-LibraryModel $empty -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidModelFile,ModelLibrary.PowerShell.ModelFiles.ImportLibraryModelCommand'
        $bytes = [IO.File]::ReadAllBytes((Join-Path $Fixtures 'gguf/stories260K.gguf'))
        [IO.File]::WriteAllBytes((Join-Path $outside 'cut.gguf'), $bytes[0..49999])
        Import-LibraryModel (Join-Path $outside 'cut.gguf') -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -Be 'InvalidModelFile,ModelLibrary.PowerShell.ModelFiles.ImportLibraryModelCommand'
        $e[0].Exception.Message | Should -Match 'truncated'
        $evil = Copy-Fixture 'pickle/malicious0.pkl' (Join-Path $outside 'evil.pkl')
        { Import-LibraryModel $evil -ErrorAction Stop } | Should -Throw -ErrorId 'UnsafeModelContent,ModelLibrary.PowerShell.ModelFiles.ImportLibraryModelCommand'
        { Import-LibraryModel (Join-Path $Fixtures 'pickle/malicious1.zip') -Id evil-zip -ErrorAction Stop } | Should -Throw -ErrorId 'UnsafeModelContent,*'
        Get-LibraryModel -Status Local | Should -BeNullOrEmpty
        Get-ChildItem $lib -Recurse -File | Where-Object { $_.FullName -match 'llama-cpp|transformers' } | Should -BeNullOrEmpty
    }

    It 'refuses a file that claims a catalog id but is not that file (ChecksumMismatch)' {
        Add-TestCatalog $outside @(@{ id = 'catalog-stories'; provider = 'llama-cpp'; download_url = 'https://example.org/s.gguf'
                size = $StoriesSize; checksum = 'sha256:' + ('3' * 64) })
        { Import-LibraryModel (Join-Path $Fixtures 'gguf/stories260K.gguf') -Id catalog-stories -ErrorAction Stop } |
            Should -Throw -ErrorId 'ChecksumMismatch,ModelLibrary.PowerShell.ModelFiles.ImportLibraryModelCommand'
        (Get-LibraryModel catalog-stories).Status | Should -Be 'Available'
    }

    It 'moves with -Move' {
        $src = Copy-Fixture 'gguf/stories260K.gguf' (Join-Path $outside 'stories260K.gguf')
        $m = Import-LibraryModel $src -Move
        Test-Path $src | Should -BeFalse
        Test-Path $m.LocalPath | Should -BeTrue
    }

    It 'registers in place with -InPlace; Remove-LibraryModel then unregisters it with a warning and keeps the file' {
        $src = Copy-Fixture 'gguf/stories260K.gguf' (Join-Path $outside 'stories260K.gguf')
        $m = Import-LibraryModel $src -InPlace
        $m.LocalPath | Should -Be $src
        (Test-LibraryModel stories260k -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message |
            Should -Match 'outside the library'
        Remove-LibraryModel stories260k -Confirm:$false -WarningVariable w -WarningAction SilentlyContinue
        ($w -join "`n") | Should -Match 'left where it is'
        Test-Path $src | Should -BeTrue
        Get-LibraryModel stories260k -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

# Files built to make a reader see other bytes than a loader would (issue 17). Python's tarfile writes the tar (never
# loads anything); the other files are laid out byte by byte here.
Describe 'Files crafted against the readers' -Tag ModelFiles {
    BeforeEach { $script:lib = New-TestLibrary; $script:outside = New-OutsideFolder }
    AfterEach { Remove-Item $outside -Recurse -Force -ErrorAction SilentlyContinue }

    BeforeAll {
        # A protocol-0 pickle calling os.system('id').
        $script:EvilPickle = [Text.Encoding]::Latin1.GetBytes("cos`nsystem`n(S'id'`ntR.")

        function script:Write-Bytes([string] $Path, [byte[]] $Bytes) {
            New-Item -ItemType Directory (Split-Path $Path) -Force | Out-Null
            [IO.File]::WriteAllBytes($Path, $Bytes)
            $Path
        }

        function script:New-Gguf([uint32] $Type) {
            # One tensor 'x' of 8 elements with the given ggml type, no key/values, 32 bytes of data.
            $ms = [IO.MemoryStream]::new(); $w = [IO.BinaryWriter]::new($ms)
            $w.Write([Text.Encoding]::ASCII.GetBytes('GGUF')); $w.Write([uint32]3); $w.Write([uint64]1); $w.Write([uint64]0)
            $w.Write([uint64]1); $w.Write([byte][char]'x'); $w.Write([uint32]1); $w.Write([uint64]8); $w.Write($Type); $w.Write([uint64]0)
            while ($ms.Length % 32) { $w.Write([byte]0) }
            $w.Write([byte[]]::new(32)); $w.Flush()
            $ms.ToArray()
        }

        function script:New-Safetensors([string] $Json, [int] $DataLength, [uint64] $DeclaredLength = [uint64]::MaxValue) {
            $header = [Text.Encoding]::UTF8.GetBytes($Json)
            $length = if ($DeclaredLength -eq [uint64]::MaxValue) { [uint64]$header.Length } else { $DeclaredLength }
            [BitConverter]::GetBytes($length) + $header + [byte[]]::new($DataLength)
        }
    }

    It 'refuses a folder whose checkpoint beside the model imports os.system, and copies nothing' {
        $folder = Join-Path $outside 'trained'
        Copy-Fixture 'safetensors/model.safetensors' (Join-Path $folder 'model.safetensors') | Out-Null
        Write-Bytes (Join-Path $folder 'checkpoint-500/optimizer.pt') $EvilPickle | Out-Null
        Import-LibraryModel $folder -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -Be 'UnsafeModelContent,ModelLibrary.PowerShell.ModelFiles.ImportLibraryModelCommand'
        $e[0].Exception.Message | Should -Match 'optimizer\.pt'
        Get-LibraryModel -Status Local | Should -BeNullOrEmpty
        Get-ChildItem $lib -Recurse -File | Where-Object { $_.FullName -match 'transformers' } | Should -BeNullOrEmpty
    }

    It 'refuses a legacy tar whose first checksum is written as tarfile also reads it (0o prefix)' {
        $tar = Join-Path $outside 'model.pt'
        python3 -I -c @'
import sys, tarfile
evil = b"cos\nsystem\n(S'id'\ntR."
members = [("N.", b"\x80\x02}q\x00."), ("sys_info", b"\x80\x02}q\x00."), ("pickle", evil),
           ("storages", b"\x80\x02K\x00.\x80\x02]."), ("tensors", b"\x80\x02K\x00.")]
out = bytearray()
for i, (name, data) in enumerate(members):
    info = tarfile.TarInfo(name); info.size = len(data)
    header = bytearray(info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "surrogateescape"))
    if i == 0:
        header[148:156] = b" " * 8
        header[148:156] = (b"0o%o" % sum(header)).ljust(8, b"\0")
    out += header + data + b"\0" * (-len(data) % 512)
out += b"\0" * 1024
open(sys.argv[1], "wb").write(out)
print(tarfile.open(sys.argv[1], "r:").extractfile("pickle").read() == evil)
'@ $tar | Should -Be 'True'
        { Import-LibraryModel $tar -ErrorAction Stop } | Should -Throw -ErrorId 'UnsafeModelContent,*'
        (Get-ModelMetadata -Path $tar).IsSafe | Should -BeFalse
    }

    It 'refuses a safetensors file named pytorch_model.bin whose bytes are also a pickle' {
        # The header length 0x634E reads as NONE, GLOBAL; the JSON's newlines end the GLOBAL's lines; 0.5 is POP, STOP.
        $json = ('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"a":' + "`n" + '1,"b":' + "`n" + '0.5}}').PadRight(0x634E)
        $bin = Write-Bytes (Join-Path $outside 'poly/pytorch_model.bin') (New-Safetensors $json 4)
        Import-LibraryModel $bin -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -Be 'UnsafeModelContent,ModelLibrary.PowerShell.ModelFiles.ImportLibraryModelCommand'
        $e[0].Exception.Message | Should -Match 'both a safetensors file and a pickle'
    }

    It 'refuses GGUF and safetensors files whose layout the loaders refuse (InvalidModelFile)' {
        $unknown = Write-Bytes (Join-Path $outside 'unknown-type.gguf') (New-Gguf 99)
        Get-ModelMetadata -Path $unknown -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -Be 'InvalidModelFile,ModelLibrary.PowerShell.ModelFiles.GetModelMetadataCommand'
        $e[0].Exception.Message | Should -Match 'ggml type 99'
        (Get-ModelMetadata -Path (Write-Bytes (Join-Path $outside 'f32.gguf') (New-Gguf 0))).Format | Should -Be 'gguf'

        $hole = Write-Bytes (Join-Path $outside 'hole.safetensors') (New-Safetensors '{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}' 8)
        Get-ModelMetadata -Path $hole -ErrorVariable e2 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e2[0].FullyQualifiedErrorId | Should -Be 'InvalidModelFile,ModelLibrary.PowerShell.ModelFiles.GetModelMetadataCommand'
        $e2[0].Exception.Message | Should -Match 'not 0'

        $zero = Write-Bytes (Join-Path $outside 'zero.safetensors') (New-Safetensors '' 16 0)
        { Get-ModelMetadata -Path $zero -ErrorAction Stop } | Should -Throw -ExpectedMessage '*header length is 0*'
    }
}
