# End-to-end tests of the foundation against the built module: import, configuration, registry, catalog
# sources, Get-LibraryModel, Remove-LibraryModel, views and completion.
# Real files used: tests/fixtures/gguf/stories260K.gguf (written by llama.cpp's llama2c converter) and
# tests/fixtures/safetensors/model.safetensors (written by safetensors.torch). Catalog JSON files are built here.

BeforeAll {
    Import-Module $env:MODELLIBRARY_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:Fixtures = Get-FixturesDirectory

    function script:Write-Catalog([string] $Path, [object[]] $Models) {
        @{ models = $Models } | ConvertTo-Json -Depth 8 | Set-Content -Path $Path
        $Path
    }
}

Describe 'Module import' -Tag Foundation {
    It 'imports in a fresh pwsh and loads native SQLite from its own folder' {
        $lib = Join-Path ([IO.Path]::GetTempPath()) ("ml-imp-" + [guid]::NewGuid().ToString('n'))
        $r = Invoke-ChildPwsh -Environment @{ MODELS_DIR = $lib } -Script @'
$before = Test-Path (Join-Path $env:MODELS_DIR 'registry.db')
$count = (Get-LibraryModel).Count
$after = Test-Path (Join-Path $env:MODELS_DIR 'registry.db')
$sqlite = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'SQLitePCLRaw.provider.e_sqlite3' }
$native = (Get-Process -Id $PID).Modules | Where-Object { $_.ModuleName -like '*e_sqlite3*' } | Select-Object -First 1
"before=$before after=$after count=$count"
"native=$($native.FileName)"
'@
        $r.Error | Should -BeNullOrEmpty
        $r.ExitCode | Should -Be 0
        # Importing touches nothing; the first query creates the registry.
        $r.Output | Should -Match 'before=False after=True count=73'
        $moduleDir = Split-Path $env:MODELLIBRARY_TEST_MODULE
        $r.Output | Should -Match ([regex]::Escape((Join-Path $moduleDir 'runtimes')))
        Remove-Item $lib -Recurse -Force -ErrorAction SilentlyContinue
    }

    It 'ships native SQLite for linux-x64, osx-x64, osx-arm64 and win-x64 in its own folder' {
        $moduleDir = Split-Path $env:MODELLIBRARY_TEST_MODULE
        Join-Path $moduleDir 'runtimes/linux-x64/native/libe_sqlite3.so' | Should -Exist
        Join-Path $moduleDir 'runtimes/osx-x64/native/libe_sqlite3.dylib' | Should -Exist
        Join-Path $moduleDir 'runtimes/osx-arm64/native/libe_sqlite3.dylib' | Should -Exist
        Join-Path $moduleDir 'runtimes/win-x64/native/e_sqlite3.dll' | Should -Exist
        Join-Path $moduleDir 'ModelLibrary.format.ps1xml' | Should -Exist
        Join-Path $moduleDir 'en-US/ModelLibrary.PowerShell.dll-Help.xml' | Should -Exist
    }

    It 'imports quickly: no catalog parsing, database or network at import' {
        $r = Invoke-ChildPwsh -NoImport -Script @"
`$sw = [Diagnostics.Stopwatch]::StartNew()
Import-Module '$($env:MODELLIBRARY_TEST_MODULE)'
`$sw.Stop()
`$loaded = [AppDomain]::CurrentDomain.GetAssemblies().GetName().Name
"ms=`$(`$sw.ElapsedMilliseconds) sqlite=`$(`$loaded -contains 'Microsoft.Data.Sqlite')"
"@
        $r.ExitCode | Should -Be 0
        $r.Output | Should -Match 'sqlite=False'
        [int]([regex]::Match($r.Output, 'ms=(\d+)').Groups[1].Value) | Should -BeLessThan 3000
    }

    It 'exports every foundation cmdlet with help-friendly metadata' {
        $names = (Get-Command -Module ModelLibrary).Name
        foreach ($n in 'Get-LibraryModel', 'Remove-LibraryModel', 'Get-ModelSource', 'Register-ModelSource', 'Unregister-ModelSource', 'Get-ModelLibraryConfiguration', 'Set-ModelLibraryConfiguration') {
            $names | Should -Contain $n
        }
        (Get-Command Remove-LibraryModel).Parameters.Keys | Should -Contain 'WhatIf'
    }
}

Describe 'Configuration' -Tag Foundation {
    It 'shows defaults and where each value came from' {
        $r = Invoke-ChildPwsh -Environment @{ MODELS_DIR = '/tmp/ml-conf-a'; MAX_CONCURRENT_DOWNLOADS = '5' } -Script @'
Get-ModelLibraryConfiguration | ForEach-Object { "$($_.Variable)=$($_.Value)|$($_.Source)" }
'@
        $r.ExitCode | Should -Be 0
        $r.Output | Should -Match 'MODELS_DIR=/tmp/ml-conf-a\|Environment'
        $r.Output | Should -Match 'LLAMA_CPP_MODELS_DIR=/tmp/ml-conf-a/llama-cpp\|Default'
        $r.Output | Should -Match 'TRANSFORMERS_MODELS_DIR=/tmp/ml-conf-a/transformers\|Default'
        $r.Output | Should -Match 'MAX_CONCURRENT_DOWNLOADS=5\|Environment'
        $r.Output | Should -Match 'DOWNLOAD_TIMEOUT=3600\|Default'
        $r.Output | Should -Match 'ENABLE_MODEL_VALIDATION=True\|Default'
        $r.Output | Should -Match 'ENABLE_SECURITY_SCANNING=True\|Default'
    }

    It 'defaults the root to $XDG_DATA_HOME/ModelLibrary' {
        $r = Invoke-ChildPwsh -Environment @{ MODELS_DIR = ''; XDG_DATA_HOME = '/tmp/ml-xdg' } -Script '(Get-ModelLibraryConfiguration ModelsDirectory).Value'
        $r.Output.Trim() | Should -Be '/tmp/ml-xdg/ModelLibrary'
    }

    It 'rejects MAX_CONCURRENT_DOWNLOADS=abc with an error naming the variable' {
        $r = Invoke-ChildPwsh -Environment @{ MAX_CONCURRENT_DOWNLOADS = 'abc' } -Script @'
try { Get-LibraryModel -ErrorAction Stop | Out-Null; 'no error' }
catch { "id=$($_.FullyQualifiedErrorId)"; "msg=$($_.Exception.Message)" }
'@
        $r.Output | Should -Match 'id=InvalidConfiguration,'
        $r.Output | Should -Match 'MAX_CONCURRENT_DOWNLOADS'
        $r.Output | Should -Match "'abc'"
    }

    It 'rejects a models directory that is a file, naming MODELS_DIR' {
        $file = New-TemporaryFile
        $r = Invoke-ChildPwsh -Environment @{ MODELS_DIR = $file.FullName } -Script @'
try { Get-ModelLibraryConfiguration -ErrorAction Stop | Out-Null; 'no error' }
catch { "id=$($_.FullyQualifiedErrorId)"; "msg=$($_.Exception.Message)" }
'@
        $r.Output | Should -Match 'id=InvalidConfiguration,'
        $r.Output | Should -Match 'MODELS_DIR'
        $r.Output | Should -Match 'names a file'
        Remove-Item $file
    }

    It 'Set-ModelLibraryConfiguration changes the session, -WhatIf does not, -Reset restores' {
        $before = (Get-ModelLibraryConfiguration ModelsDirectory).Value
        $target = Join-Path ([IO.Path]::GetTempPath()) 'ml-conf-session'
        Set-ModelLibraryConfiguration -ModelsDirectory $target -WhatIf
        (Get-ModelLibraryConfiguration ModelsDirectory).Value | Should -Be $before
        Set-ModelLibraryConfiguration -ModelsDirectory $target -MaxConcurrentDownloads 2
        $s = Get-ModelLibraryConfiguration ModelsDirectory
        $s.Value | Should -Be $target
        $s.Source | Should -Be 'Session'
        (Get-ModelLibraryConfiguration LlamaCppModelsDirectory).Value | Should -Be (Join-Path $target 'llama-cpp')
        (Get-ModelLibraryConfiguration MaxConcurrentDownloads).Value | Should -Be 2
        { Set-ModelLibraryConfiguration -MaxConcurrentDownloads 0 } | Should -Throw
        Set-ModelLibraryConfiguration -Reset
        (Get-ModelLibraryConfiguration MaxConcurrentDownloads).Source | Should -Not -Be 'Session'
    }
}

Describe 'Registry' -Tag Foundation {
    BeforeEach { $script:lib = New-TestLibrary }

    It 'creates registry.db in WAL mode with the schema version' {
        Get-LibraryModel | Out-Null
        $db = Join-Path $lib 'registry.db'
        Test-Path $db | Should -BeTrue
        $c = [Microsoft.Data.Sqlite.SqliteConnection]::new("Data Source=$db")
        $c.Open()
        try {
            $cmd = $c.CreateCommand()
            $cmd.CommandText = 'PRAGMA journal_mode'; $cmd.ExecuteScalar() | Should -Be 'wal'
            $cmd.CommandText = 'PRAGMA user_version'; $cmd.ExecuteScalar() | Should -BeGreaterThan 0
            $cmd.CommandText = "SELECT group_concat(name) FROM sqlite_master WHERE type = 'table'"
            $tables = $cmd.ExecuteScalar() -split ','
            $tables | Should -Contain 'model_registry'
            $tables | Should -Contain 'download_tasks'
            $tables | Should -Contain 'model_sources'
        }
        finally { $c.Dispose() }
    }

    It 'lets two pwsh processes write the same library at once without corruption or lock errors' {
        $catalog = Write-Catalog (Join-Path $lib 'c.json') @(@{ id = 'm1'; provider = 'llama-cpp'; download_url = 'https://example.org/m1.gguf' })
        $script = @'
$errors = 0
foreach ($i in 1..25) {
    try {
        Register-ModelSource -Name "s$($env:WORKER)-$i" -Uri $env:CATALOG -ErrorAction Stop -WarningAction SilentlyContinue | Out-Null
        Get-LibraryModel -ErrorAction Stop | Out-Null
        Unregister-ModelSource -Name "s$($env:WORKER)-$i" -Confirm:$false -ErrorAction Stop
    } catch { $errors++; Write-Output "ERR $_" }
}
"errors=$errors"
'@
        $jobs = 1..2 | ForEach-Object {
            $w = $_
            Start-ThreadJob -ScriptBlock { param($s, $e) Invoke-ChildPwsh -Script $s -Environment $e } -ArgumentList $script, @{ MODELS_DIR = $lib; CATALOG = $catalog; WORKER = $w } -InitializationScript ([scriptblock]::Create("Import-Module '$((Join-Path $PSScriptRoot 'TestHelpers.psm1'))'"))
        }
        $results = $jobs | Wait-Job -Timeout 240 | Receive-Job
        $results.Count | Should -Be 2
        foreach ($r in $results) {
            $r.Output | Should -Match 'errors=0'
            $r.ExitCode | Should -Be 0
        }
        $c = [Microsoft.Data.Sqlite.SqliteConnection]::new("Data Source=$(Join-Path $lib 'registry.db')")
        $c.Open()
        try {
            $cmd = $c.CreateCommand(); $cmd.CommandText = 'PRAGMA integrity_check'
            $cmd.ExecuteScalar() | Should -Be 'ok'
        }
        finally { $c.Dispose() }
        (Get-ModelSource).Name | Should -Be @('builtin')
    }
}

Describe 'Catalog sources' -Tag Foundation {
    BeforeEach { $script:lib = New-TestLibrary }

    It 'lists the built-in catalog from the real seed data, null where a fact is unknown' {
        $all = Get-LibraryModel
        $all.Count | Should -Be 73
        $q4 = Get-LibraryModel tinyllama-1.1b-chat-q4
        $q4.Size | Should -Be 668788096
        $q4.Checksum | Should -Be 'sha256:9fecc3b3cd76bba89d504f29b616eedf7da85b96540e490ca5824d3f7d2776a0'
        $q4.DownloadUrl | Should -Be 'https://huggingface.co/TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF/resolve/main/tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf'
        $q4.Metadata.Quantization | Should -Be 'Q4_K_M'
        $q4.Status | Should -Be 'Available'
        $q4.Source | Should -Be 'builtin'
        $q2 = Get-LibraryModel tinyllama-1.1b-chat-q2
        $q2.Checksum | Should -BeNullOrEmpty
        $q2.Size | Should -BeNullOrEmpty
        ($all | Where-Object { $_.Checksum }).Count | Should -Be 52
    }

    It 'registers a file catalog, keeps unknown fields, skips entries without id/provider/download_url with a warning' {
        $path = Write-Catalog (Join-Path $lib 'team.json') @(
            @{ id = 'team-model'; name = 'Team Model'; provider = 'llama-cpp'; size = 1234; download_url = 'https://example.org/team.gguf'; checksum = 'sha256:' + ('ab' * 32); capabilities = @('chat'); metadata = @{ parameters = '7B'; quantization = 'Q4_0' }; owner = 'ml-team' }
            @{ id = 'no-url'; provider = 'llama-cpp' }
        )
        $source = Register-ModelSource -Name team -Uri $path -WarningVariable w -WarningAction SilentlyContinue
        $source.Type | Should -Be 'File'
        ($w -join "`n") | Should -Match "Source 'team'.*no-url.*download_url"
        $m = Get-LibraryModel team-model -WarningAction SilentlyContinue
        $m.Source | Should -Be 'team'
        $m.Format | Should -Be 'gguf'
        $m.FileName | Should -Be 'team.gguf'
        $m.Metadata.Parameters | Should -Be '7B'
        $m.AdditionalProperties['owner'] | Should -Be 'ml-team'
        (Get-ModelSource).Name | Should -Contain 'team'
        (Get-LibraryModel -Source team -WarningAction SilentlyContinue).Id | Should -Be @('team-model')
    }

    It 'persists sources in the registry for a new session' {
        $path = Write-Catalog (Join-Path $lib 'p.json') @(@{ id = 'persisted'; provider = 'llama-cpp'; download_url = 'https://example.org/p.gguf' })
        Register-ModelSource -Name persisted -Uri $path | Out-Null
        $r = Invoke-ChildPwsh -Environment @{ MODELS_DIR = $lib } -Script '(Get-ModelSource).Name -join ","; (Get-LibraryModel persisted).Source'
        $r.Output | Should -Match 'builtin,persisted'
        $r.Output | Should -Match '(?m)^persisted$'
    }

    It 'warns naming a malformed source and keeps every other source' {
        $bad = Join-Path $lib 'bad.json'
        Set-Content $bad '{"models": [ {"id": "x", '
        $good = Write-Catalog (Join-Path $lib 'good.json') @(@{ id = 'good-one'; provider = 'llama-cpp'; download_url = 'https://example.org/g.gguf' })
        Register-ModelSource -Name good -Uri $good | Out-Null
        Register-ModelSource -Name broken -Uri $bad -WarningAction SilentlyContinue | Out-Null
        $models = Get-LibraryModel -WarningVariable w -WarningAction SilentlyContinue
        ($w -join "`n") | Should -Match "model source 'broken'"
        $models.Count | Should -Be 74
        $models.Id | Should -Contain 'good-one'
    }

    It 'warns naming an unreachable HTTP source and keeps the others' {
        Register-ModelSource -Name down -Uri 'http://127.0.0.1:9/catalog.json' -WarningAction SilentlyContinue | Out-Null
        $models = Get-LibraryModel -WarningVariable w -WarningAction SilentlyContinue
        ($w -join "`n") | Should -Match "Model source 'down' is unavailable"
        $models.Count | Should -Be 73
    }

    It 'refuses plain http to a non-loopback host unless -AllowInsecureHttp' {
        { Register-ModelSource -Name insecure -Uri 'http://models.example.org/c.json' -ErrorAction Stop } |
            Should -Throw -ErrorId 'InsecureSource,ModelLibrary.PowerShell.Sources.RegisterModelSourceCommand'
        (Get-ModelSource).Name | Should -Not -Contain 'insecure'
        Register-ModelSource -Name insecure -Uri 'http://models.example.org/c.json' -AllowInsecureHttp -WarningAction SilentlyContinue |
            Select-Object -ExpandProperty AllowInsecureHttp | Should -BeTrue
    }

    It 'refuses duplicate names, the reserved builtin name, and missing files' {
        $path = Write-Catalog (Join-Path $lib 'd.json') @()
        Register-ModelSource -Name dup -Uri $path | Out-Null
        { Register-ModelSource -Name dup -Uri $path -ErrorAction Stop } | Should -Throw -ErrorId 'ModelSourceExists,*'
        Register-ModelSource -Name dup -Uri $path -Force | Out-Null
        { Register-ModelSource -Name builtin -Uri $path -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidModelSource,*'
        { Register-ModelSource -Name nofile -Uri (Join-Path $lib 'missing.json') -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidModelSource,*'
        { Unregister-ModelSource -Name nosuch -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'ModelSourceNotFound,*'
        { Unregister-ModelSource -Name builtin -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidModelSource,*'
    }

    It 'Unregister-ModelSource takes sources from the pipeline and honours -WhatIf' {
        $path = Write-Catalog (Join-Path $lib 'u.json') @()
        Register-ModelSource -Name u1 -Uri $path | Out-Null
        Register-ModelSource -Name u2 -Uri $path | Out-Null
        Get-ModelSource u* | Unregister-ModelSource -WhatIf
        (Get-ModelSource).Count | Should -Be 3
        Get-ModelSource u* | Unregister-ModelSource -Confirm:$false
        (Get-ModelSource).Name | Should -Be @('builtin')
    }
}

Describe 'Get-LibraryModel' -Tag Foundation {
    BeforeEach { $script:lib = New-TestLibrary }

    It 'filters by wildcard id and name, provider, capability, status and source' {
        (Get-LibraryModel 'tinyllama-1.1b-chat-q*').Count | Should -Be 5
        (Get-LibraryModel -Name '*TinyLlama*Q8_0*').Id | Should -Be @('tinyllama-1.1b-chat-q8')
        (Get-LibraryModel -Provider transformers).Count | Should -Be 5
        Get-LibraryModel -Capability embeddings | ForEach-Object { $_.Capabilities | Should -Contain 'embeddings' }
        (Get-LibraryModel -Capability embeddings, chat | Where-Object { $_.Capabilities -notcontains 'chat' }) | Should -BeNullOrEmpty
        (Get-LibraryModel -Status Local) | Should -BeNullOrEmpty
        (Get-LibraryModel -Status Available).Count | Should -Be 73
        (Get-LibraryModel -Source builtin).Count | Should -Be 73
        (Get-LibraryModel -Source nothing*) | Should -BeNullOrEmpty
    }

    It 'writes ModelNotFound for an exact id that does not exist, and nothing for a wildcard' {
        { Get-LibraryModel no-such-model -ErrorAction Stop } | Should -Throw -ErrorId 'ModelNotFound,ModelLibrary.PowerShell.Models.GetLibraryModelCommand'
        Get-LibraryModel no-such-model -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].TargetObject | Should -Be 'no-such-model'
        $e[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $e[0].ErrorDetails.RecommendedAction | Should -Match 'Get-LibraryModel'
        $e[0].Exception.ErrorInfo.Type | Should -Be 'ModelLibraryError'
        Get-LibraryModel 'no-such-*' -ErrorAction Stop | Should -BeNullOrEmpty
    }

    It 'takes ids from the pipeline, by value and by property name' {
        ('tinyllama-1.1b-chat-q4', 'tinyllama-1.1b-chat-q8' | Get-LibraryModel).Count | Should -Be 2
        ([pscustomobject]@{ ModelId = 'tinyllama-1.1b-chat-q4' } | Get-LibraryModel).Id | Should -Be 'tinyllama-1.1b-chat-q4'
    }

    It 'lists model files found on disk but unknown to any catalog as Local' {
        $dir = Join-Path $lib 'llama-cpp'
        New-Item -ItemType Directory $dir | Out-Null
        Copy-Item (Join-Path $Fixtures 'gguf/stories260K.gguf') $dir
        $st = Join-Path $lib 'transformers/my-mlp'
        New-Item -ItemType Directory $st -Force | Out-Null
        Copy-Item (Join-Path $Fixtures 'safetensors/model.safetensors') $st
        $local = Get-LibraryModel -Status Local
        $local.Count | Should -Be 2
        $s = $local | Where-Object Id -eq 'stories260k'
        $s.Provider | Should -Be 'llama-cpp'
        $s.Format | Should -Be 'gguf'
        $s.Source | Should -Be 'local'
        $s.DiskUsage | Should -Be 1185376
        ($local | Where-Object Id -eq 'my-mlp').Provider | Should -Be 'transformers'
    }

    It 'shows sizes in human units in the default view' {
        $text = Get-LibraryModel tinyllama-1.1b-chat-q4 | Out-String -Width 200
        $text | Should -Match '637\.8 MB'
        $text | Should -Match 'tinyllama-1\.1b-chat-q4'
    }
}

Describe 'Remove-LibraryModel' -Tag Foundation {
    BeforeEach {
        $script:lib = New-TestLibrary
        # A catalog model placed where a download puts it: <llama-cpp>/<id>/<file>.
        $script:q4dir = Join-Path $lib 'llama-cpp/tinyllama-1.1b-chat-q4'
        New-Item -ItemType Directory $q4dir -Force | Out-Null
        $script:q4file = Join-Path $q4dir 'tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf'
        Copy-Item (Join-Path $Fixtures 'gguf/stories260K.gguf') $q4file
        New-Item -ItemType Directory (Join-Path $lib 'downloads') -Force | Out-Null
        $script:partial = Join-Path $lib 'downloads/tinyllama-1.1b-chat-q4.partial'
        Set-Content $partial 'partial bytes'
    }

    It 'with -WhatIf changes nothing' {
        (Get-LibraryModel tinyllama-1.1b-chat-q4).Status | Should -Be 'Local'
        Remove-LibraryModel tinyllama-1.1b-chat-q4 -WhatIf
        Test-Path $q4file | Should -BeTrue
        Test-Path $partial | Should -BeTrue
        (Get-LibraryModel tinyllama-1.1b-chat-q4).Status | Should -Be 'Local'
    }

    It 'deletes the files and partials and sets a catalog model back to Available' {
        Get-LibraryModel tinyllama-1.1b-chat-q4 | Remove-LibraryModel -Confirm:$false
        Test-Path $q4dir | Should -BeFalse
        Test-Path $partial | Should -BeFalse
        $m = Get-LibraryModel tinyllama-1.1b-chat-q4
        $m.Status | Should -Be 'Available'
        $m.LocalPath | Should -BeNullOrEmpty
    }

    It 'removes a model no catalog knows from the listing' {
        Copy-Item (Join-Path $Fixtures 'gguf/stories260K.gguf') (Join-Path $lib 'llama-cpp')
        Remove-LibraryModel stories260k -Force
        Get-LibraryModel stories260k -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Test-Path (Join-Path $lib 'llama-cpp/stories260K.gguf') | Should -BeFalse
    }

    It 'writes ModelNotFound for an unknown id' {
        { Remove-LibraryModel nope -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'ModelNotFound,ModelLibrary.PowerShell.Models.RemoveLibraryModelCommand'
    }

    It 'refuses a model whose path resolves outside the library root (UnsafeModelContent) and deletes nothing' {
        $outside = Join-Path ([IO.Path]::GetTempPath()) ("ml-outside-" + [guid]::NewGuid().ToString('n'))
        New-Item -ItemType Directory $outside | Out-Null
        $victim = Join-Path $outside 'precious.gguf'
        Copy-Item (Join-Path $Fixtures 'gguf/stories260K.gguf') $victim
        # A model folder that is a link to a folder outside the root.
        New-Item -ItemType SymbolicLink -Path (Join-Path $lib 'llama-cpp/evil') -Target $outside | Out-Null
        { Remove-LibraryModel evil -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'UnsafeModelContent,ModelLibrary.PowerShell.Models.RemoveLibraryModelCommand'
        Test-Path $victim | Should -BeTrue
        Remove-Item $outside -Recurse -Force
    }

    It 'prompts by default (ConfirmImpact High) and fails in a non-interactive run without -Confirm:$false' {
        $r = Invoke-ChildPwsh -Environment @{ MODELS_DIR = $lib } -Script @'
try { Remove-LibraryModel tinyllama-1.1b-chat-q4 -ErrorAction Stop; 'removed' } catch { 'refused' }
'@
        $r.Output | Should -Match 'refused'
        Test-Path $q4file | Should -BeTrue
    }
}

Describe 'Completion' -Tag Foundation {
    BeforeAll { $null = New-TestLibrary }

    It 'completes model ids' {
        $c = TabExpansion2 -inputScript 'Get-LibraryModel tinyllama-1.1b-chat-q' -cursorColumn 'Get-LibraryModel tinyllama-1.1b-chat-q'.Length
        $c.CompletionMatches.CompletionText | Should -Contain 'tinyllama-1.1b-chat-q4'
        $c.CompletionMatches.CompletionText | Should -Not -Contain 'phi-3-mini-4k-instruct-q4'
    }

    It 'completes providers' {
        $c = TabExpansion2 -inputScript 'Get-LibraryModel -Provider ll' -cursorColumn 'Get-LibraryModel -Provider ll'.Length
        $c.CompletionMatches.CompletionText | Should -Contain 'llama-cpp'
    }
}
