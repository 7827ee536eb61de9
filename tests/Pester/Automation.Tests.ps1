# Automation where it runs: the DSC v3 resource run as dsc runs it, CI log commands from a real pwsh, unattended runs
# that never wait for a prompt, and the package PSResourceGet installs.
#
# How dsc runs a command resource, from PowerShell/DSC lib/dsc-lib/src/dscresources/command_resource.rs: the
# manifest's executable (found on PATH) with its args verbatim, in the resource's directory (invoke_command's cwd), the
# instance as compact JSON on stdin when input is 'stdin' (stdin closed after it; export without input gets none), a
# non-zero exit code is a failure whose stderr lines (JSON {"error": ...} traces) are logged; stdout is parsed as JSON
# and validated against the manifest's embedded schema; test's output may carry _inDesiredState.
# Real file served: tests/fixtures/gguf/stories260K.gguf (llama.cpp's llama2c converter), as in Downloads.Tests.ps1.

BeforeAll {
    Import-Module $env:MODELLIBRARY_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:ModuleDir = Split-Path $env:MODELLIBRARY_TEST_MODULE
    $script:ManifestPath = Join-Path $ModuleDir 'ModelLibrary.dsc.resource.json'
    $script:DscManifest = Get-Content $ManifestPath -Raw | ConvertFrom-Json -AsHashtable
    $script:InstanceSchema = $DscManifest.schema.embedded | ConvertTo-Json -Depth 20

    $script:ServedRoot = Join-Path ([IO.Path]::GetTempPath()) ("ml-served-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
    New-Item -ItemType Directory $ServedRoot | Out-Null
    Copy-Item (Join-Path (Get-FixturesDirectory) 'gguf/stories260K.gguf') $ServedRoot
    $script:Server = Start-TestServer -Root $ServedRoot
    $script:StoriesSha = 'sha256:270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d'
    $script:StoriesSize = 1185376

    function script:Stories([string] $Id = 'stories', [string] $Query = '') {
        @{ id = $Id; name = "Stories $Id"; provider = 'llama-cpp'; format = 'gguf'; size = $StoriesSize
           download_url = "$($Server.Url)/files/stories260K.gguf$(if ($Query) { "?$Query" })"; checksum = $StoriesSha
           filename = 'stories260K.gguf'; capabilities = @('text-generation') }
    }

    function script:Use-TestCatalog([object[]] $Models) {
        $lib = New-TestLibrary
        $path = Join-Path $lib 'catalog.json'
        @{ models = $Models } | ConvertTo-Json -Depth 6 | Set-Content $path
        Register-ModelSource -Name test -Uri $path | Out-Null
        Invoke-RestMethod -Method Post "$($Server.Url)/_stats/reset" | Out-Null
        $lib
    }

    function script:Get-ServedStats { Invoke-RestMethod "$($Server.Url)/_stats" }

    function script:Start-BoundedProcess {
        <# Starts $Psi with every stream redirected; -Stdin is written, and stdin closed unless -KeepStdinOpen. #>
        param($Psi, [string] $Stdin, [switch] $KeepStdinOpen, [int] $TimeoutSeconds = 120)
        $Psi.RedirectStandardInput = $true
        $Psi.RedirectStandardOutput = $true
        $Psi.RedirectStandardError = $true
        $p = [Diagnostics.Process]::Start($Psi)
        $stdout = $p.StandardOutput.ReadToEndAsync()
        $stderr = $p.StandardError.ReadToEndAsync()
        if ($Stdin) { $p.StandardInput.Write($Stdin); $p.StandardInput.Flush() }
        if (-not $KeepStdinOpen) { $p.StandardInput.Close() }
        $exited = $p.WaitForExit($TimeoutSeconds * 1000)
        if (-not $exited) { $p.Kill($true); $p.WaitForExit(10000) | Out-Null }
        else { $p.WaitForExit() }
        [pscustomobject]@{
            Exited   = $exited
            ExitCode = if ($exited) { $p.ExitCode } else { $null }
            Output   = $stdout.Result
            Error    = $stderr.Result
            Lines    = @($stdout.Result -split '\r?\n' | Where-Object { $_ })
        }
    }

    function script:Invoke-DscOperation {
        <# Runs one operation of the manifest exactly as dsc does, against the library $Library. #>
        param([string] $Operation, $Instance, [Parameter(Mandatory)] [string] $Library, [hashtable] $Environment = @{})
        $method = $DscManifest[$Operation]
        $method.executable | Should -Be 'pwsh'
        # dsc finds 'pwsh' on PATH; here that is the pwsh running these tests (a dotnet tool), started the same way.
        $psi = New-PwshStartInfo -Arguments $method.args
        $psi.WorkingDirectory = $ModuleDir
        foreach ($name in 'TF_BUILD', 'GITHUB_ACTIONS') { $psi.Environment.Remove($name) | Out-Null }
        $psi.Environment['MODELS_DIR'] = $Library
        foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
        $stdin = if ($null -ne $Instance -and $method.input -eq 'stdin') { $Instance | ConvertTo-Json -Compress } else { $null }
        $r = Start-BoundedProcess -Psi $psi -Stdin $stdin
        $r.Exited | Should -BeTrue -Because "dsc $Operation must end"
        $r | Add-Member -PassThru Json @($r.Lines | ForEach-Object { $_ | ConvertFrom-Json -AsHashtable })
    }

    function script:Assert-ValidInstance([string] $Line) {
        # dsc validates every result against the embedded schema (verify_json_from_manifest).
        Test-Json -Json $Line -Schema $InstanceSchema -ErrorAction SilentlyContinue | Should -BeTrue -Because $Line
    }
}

AfterAll {
    $Server | Stop-TestServer
    Remove-Item $ServedRoot -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'DSC v3 resource manifest' -Tag Automation {
    It 'declares the ModelLibrary/LibraryModel command resource with get, set, test and export on stdin' {
        $DscManifest['$schema'] | Should -Be 'https://aka.ms/dsc/schemas/v3/bundled/resource/manifest.json'
        $DscManifest.type | Should -Be 'ModelLibrary/LibraryModel'
        $DscManifest.version | Should -Be (Import-PowerShellDataFile $env:MODELLIBRARY_TEST_MODULE).ModuleVersion
        foreach ($op in 'get', 'set', 'test', 'export') {
            $DscManifest[$op].executable | Should -Be 'pwsh'
            $DscManifest[$op].args | Should -Contain '-NonInteractive'
            $DscManifest[$op].args | Should -Contain '-NoProfile'
            $DscManifest[$op].args[-1] | Should -Be $op
        }
        foreach ($op in 'get', 'set', 'test') { $DscManifest[$op].input | Should -Be 'stdin' }
        $DscManifest.set.return | Should -Be 'state'
        $DscManifest.set.handlesExist | Should -BeTrue
        $DscManifest.test.return | Should -Be 'state'
        # The script the args name lies beside the manifest (dsc runs commands in the resource's directory).
        Join-Path $ModuleDir ($DscManifest.get.args | Where-Object { $_ -like '*.ps1' }) | Should -Exist
    }

    It 'embeds the instance schema: id is the key, _exist defaults to true, path, status and size are read-only' {
        $schema = $DscManifest.schema.embedded
        $schema.required | Should -Be @('id')
        $schema.additionalProperties | Should -BeFalse
        $schema.properties.Keys | Sort-Object | Should -Be (@('id', '_exist', 'provider', 'checksum', 'path', 'status', 'size', '_inDesiredState') | Sort-Object)
        $schema.properties._exist.default | Should -BeTrue
        foreach ($p in 'path', 'status', 'size', '_inDesiredState') { $schema.properties[$p].readOnly | Should -BeTrue }
        foreach ($p in 'id', '_exist', 'provider', 'checksum') { $schema.properties[$p].readOnly | Should -Not -BeTrue }
        Test-Json -Json '{"id":"x","bogus":1}' -Schema $InstanceSchema -ErrorAction SilentlyContinue | Should -BeFalse
    }
}

Describe 'DSC v3 resource run as dsc runs it' -Tag Automation {
    It 'gets, tests, sets idempotently and exports a model' {
        $lib = Use-TestCatalog @(Stories)

        $get = Invoke-DscOperation get @{ id = 'stories' } -Library $lib
        $get.ExitCode | Should -Be 0
        $get.Lines.Count | Should -Be 1
        Assert-ValidInstance $get.Lines[0]
        $get.Json[0].id | Should -Be 'stories'
        $get.Json[0]._exist | Should -BeFalse
        $get.Json[0].status | Should -Be 'Available'
        $get.Json[0].provider | Should -Be 'llama-cpp'
        $get.Json[0].checksum | Should -Be $StoriesSha
        $get.Json[0].size | Should -Be $StoriesSize
        $get.Json[0].Contains('path') | Should -BeFalse

        $test = Invoke-DscOperation test @{ id = 'stories' } -Library $lib
        $test.ExitCode | Should -Be 0
        Assert-ValidInstance $test.Lines[0]
        $test.Json[0]._inDesiredState | Should -BeFalse
        $test.Json[0]._exist | Should -BeFalse

        $set = Invoke-DscOperation set @{ id = 'stories'; checksum = $StoriesSha; provider = 'llama-cpp' } -Library $lib
        $set.ExitCode | Should -Be 0 -Because $set.Error
        $set.Lines.Count | Should -Be 1 -Because 'set returns the state, and nothing else goes to stdout'
        Assert-ValidInstance $set.Lines[0]
        $set.Json[0]._exist | Should -BeTrue
        $set.Json[0].status | Should -Be 'Local'
        $set.Json[0].path | Should -Be (Join-Path $lib 'llama-cpp/stories/stories260K.gguf')
        $set.Json[0].size | Should -Be $StoriesSize
        (Get-FileHash $set.Json[0].path -Algorithm SHA256).Hash | Should -Be $StoriesSha.Substring(7)
        (Get-LibraryModel stories).Status | Should -Be 'Local'
        $served = Get-ServedStats
        $served.perPath.'/files/stories260K.gguf'.bytesServed | Should -Be $StoriesSize

        # Idempotent: the second set finds the model as desired, changes nothing and asks the server for nothing.
        $before = (Get-Item $set.Json[0].path).LastWriteTimeUtc
        $again = Invoke-DscOperation set @{ id = 'stories'; checksum = $StoriesSha } -Library $lib
        $again.ExitCode | Should -Be 0
        $again.Json[0]._exist | Should -BeTrue
        $again.Json[0].path | Should -Be $set.Json[0].path
        (Get-ServedStats).requests | Should -Be $served.requests
        (Get-ServedStats).bytesServed | Should -Be $served.bytesServed
        (Get-Item $set.Json[0].path).LastWriteTimeUtc | Should -Be $before
        @(Get-ModelDownload -ModelId stories).Count | Should -Be 1

        $test = Invoke-DscOperation test @{ id = 'stories'; checksum = $StoriesSha.ToUpper().Replace('SHA256', 'sha256') } -Library $lib
        $test.Json[0]._inDesiredState | Should -BeTrue

        # Export: one JSON line per Local model, each a valid instance.
        $imported = Join-Path $lib 'mine.gguf'
        Copy-Item (Join-Path $ServedRoot 'stories260K.gguf') $imported
        Import-LibraryModel -Path $imported -Id mine | Out-Null
        $export = Invoke-DscOperation export $null -Library $lib
        $export.ExitCode | Should -Be 0
        $export.Lines.Count | Should -Be 2
        foreach ($line in $export.Lines) { Assert-ValidInstance $line }
        $export.Json.id | Sort-Object | Should -Be (@(Get-LibraryModel -Status Local).Id | Sort-Object)
        $export.Json | ForEach-Object { $_._exist | Should -BeTrue }
    }

    It 'removes the model for _exist false, and leaves an absent or unknown model alone' {
        $lib = Use-TestCatalog @(Stories)
        Start-ModelDownload stories | Out-Null
        $path = (Get-LibraryModel stories).LocalPath

        $set = Invoke-DscOperation set @{ id = 'stories'; _exist = $false } -Library $lib
        $set.ExitCode | Should -Be 0 -Because $set.Error
        Assert-ValidInstance $set.Lines[0]
        $set.Json[0]._exist | Should -BeFalse
        $set.Json[0].status | Should -Be 'Available'
        Test-Path $path | Should -BeFalse
        Test-Path (Join-Path $lib 'llama-cpp/stories') | Should -BeFalse
        (Get-LibraryModel stories).Status | Should -Be 'Available'
        (Invoke-DscOperation test @{ id = 'stories'; _exist = $false } -Library $lib).Json[0]._inDesiredState | Should -BeTrue

        # Nobody knows the id: absent already; set changes nothing and succeeds.
        $unknown = Invoke-DscOperation set @{ id = 'no-such-model'; _exist = $false } -Library $lib
        $unknown.ExitCode | Should -Be 0 -Because $unknown.Error
        $unknown.Json[0].id | Should -Be 'no-such-model'
        $unknown.Json[0]._exist | Should -BeFalse
    }

    It 'fails a set it cannot meet: non-zero exit, the error on stderr as a dsc trace, nothing on stdout, nothing kept' {
        $lib = Use-TestCatalog @((Stories), (Stories -Id broken -Query 'status=404'))

        $unknown = Invoke-DscOperation set @{ id = 'no-such-model' } -Library $lib
        $unknown.ExitCode | Should -Be 1
        $unknown.Output | Should -BeNullOrEmpty
        $trace = $unknown.Error -split '\r?\n' | Where-Object { $_ } | ForEach-Object { $_ | ConvertFrom-Json -AsHashtable }
        $trace.error | Should -Match "^ModelNotFound: No model has the id 'no-such-model'\."

        $wrongSum = 'sha256:' + ('0' * 64)
        $mismatch = Invoke-DscOperation set @{ id = 'stories'; checksum = $wrongSum } -Library $lib
        $mismatch.ExitCode | Should -Be 1
        $mismatch.Output | Should -BeNullOrEmpty
        ($mismatch.Error | ConvertFrom-Json).error | Should -Match '^DesiredStateUnreachable: .*sha256:270cba'
        (Get-ServedStats).requests | Should -Be 0 -Because 'a checksum the source does not offer is refused before downloading'

        $failing = Invoke-DscOperation set @{ id = 'broken' } -Library $lib
        $failing.ExitCode | Should -Be 1
        $failing.Output | Should -BeNullOrEmpty
        $failing.Error | Should -Match '"error":"NetworkFailure: '
        (Get-LibraryModel broken).Status | Should -Not -Be 'Local'
        Get-ChildItem (Join-Path $lib 'llama-cpp') -Recurse -File -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

        $invalid = Invoke-DscOperation set @{ name = 'no id' } -Library $lib
        $invalid.ExitCode | Should -Be 2
        $invalid.Error | Should -Match 'InvalidDscInstance'
    }

    It 'keeps stdout to the JSON result when run inside a CI step' {
        $lib = Use-TestCatalog @(Stories)
        $set = Invoke-DscOperation set @{ id = 'stories' } -Library $lib -Environment @{ TF_BUILD = 'True' }
        $set.ExitCode | Should -Be 0 -Because $set.Error
        $set.Lines.Count | Should -Be 1
        Assert-ValidInstance $set.Lines[0]
        $set = Invoke-DscOperation set @{ id = 'stories'; _exist = $false } -Library $lib -Environment @{ GITHUB_ACTIONS = 'true' }
        $set.ExitCode | Should -Be 0 -Because $set.Error
        $set.Lines.Count | Should -Be 1
        $set.Json[0]._exist | Should -BeFalse
    }
}

Describe 'PSDSC class resource LibraryModel shares the implementation' -Tag Automation {
    It 'shows the same state as the DSC v3 get, with Provider, Checksum, Path and Size' {
        $lib = Use-TestCatalog @(Stories)
        $resource = & (Get-Module ModelLibrary) { [LibraryModel]::new() }
        $resource.Id = 'stories'
        $resource.Checksum = $StoriesSha
        $resource.Provider = 'llama-cpp'
        $resource.Test() | Should -BeFalse
        $resource.Set()
        $resource.Test() | Should -BeTrue
        $current = $resource.Get()
        $v3 = (Invoke-DscOperation get @{ id = 'stories' } -Library $lib).Json[0]
        $current.Ensure | Should -Be 'Present'
        $current.Path | Should -Be $v3.path
        $current.LocalPath | Should -Be $v3.path
        $current.Size | Should -Be $v3.size
        $current.Checksum | Should -Be $v3.checksum
        $current.Provider | Should -Be $v3.provider
        $current.Status | Should -Be 'Local'

        $resource.Provider = 'transformers'
        $resource.Test() | Should -BeFalse
        { $resource.Set() } | Should -Throw -ErrorId 'DesiredStateUnreachable'
    }

    It 'is absent for an unknown id: Test is true for Absent, and Get and Set for Present fail with ModelNotFound' {
        $null = New-TestLibrary
        $resource = & (Get-Module ModelLibrary) { [LibraryModel]::new() }
        $resource.Id = 'no-such-model'
        { $resource.Get() } | Should -Throw -ErrorId 'ModelNotFound*'
        $resource.Test() | Should -BeFalse
        { $resource.Set() } | Should -Throw -ErrorId 'ModelNotFound*'
        $resource.Ensure = 'Absent'
        $resource.Get().Ensure | Should -Be 'Absent'
        $resource.Test() | Should -BeTrue
        { $resource.Set() } | Should -Not -Throw
    }
}

Describe 'CI log commands' -Tag Automation {
    BeforeAll {
        function script:Invoke-InCi([hashtable] $Ci, [string] $Library, [string] $Script) {
            $variables = @{ MODELS_DIR = $Library; TF_BUILD = ''; GITHUB_ACTIONS = '' }
            foreach ($k in $Ci.Keys) { $variables[$k] = $Ci[$k] }
            $r = Invoke-ChildPwsh -Environment $variables -Script $Script
            $r | Add-Member -PassThru Lines @($r.Output -split '\r?\n' | Where-Object { $_ })
        }
    }

    It 'writes Azure Pipelines errors and warnings as task.logissue, escaped' {
        $lib = Use-TestCatalog @(Stories)
        Start-ModelDownload stories | Out-Null
        $path = (Get-LibraryModel stories).LocalPath
        $r = Invoke-InCi @{ TF_BUILD = 'True' } $lib @'
Remove-LibraryModel -Id 'a;b]c%d' -Confirm:$false
Remove-LibraryModel -Id "two`nlines" -Confirm:$false
Remove-LibraryModel -Id 'silenced' -Confirm:$false -ErrorAction SilentlyContinue
Start-ModelDownload stories | Out-Null
'@
        $r.Lines | Should -Contain "##vso[task.logissue type=error;]No model has the id 'a%3Bb%5Dc%AZP25d'."
        $r.Lines | Should -Contain "##vso[task.logissue type=error;]No model has the id 'two%0Alines'."
        $r.Lines | Should -Contain "##vso[task.logissue type=warning;]'stories' is already local at '$path'%3B use -Force to download it again."
        @($r.Lines | Where-Object { $_ -like '##vso*' }).Count | Should -Be 3 -Because 'a silenced error is no annotation'
        @($r.Lines | Where-Object { $_ -like '::*' }) | Should -BeNullOrEmpty
    }

    It 'reports Azure Pipelines progress of a download with task.setprogress, twice a second at most' {
        $lib = Use-TestCatalog @(Stories -Query 'rate=400000')
        $r = Invoke-InCi @{ TF_BUILD = 'True' } $lib @'
$sw = [Diagnostics.Stopwatch]::StartNew()
$task = Start-ModelDownload stories
"status=$($task.Status) elapsed=$($sw.Elapsed.TotalSeconds.ToString([cultureinfo]::InvariantCulture))"
'@
        $summary = $r.Lines | Where-Object { $_ -like 'status=*' }
        $summary | Should -Match '^status=Completed' -Because $r.Error
        $elapsed = [double]($summary -replace '^.*elapsed=', '')
        $progress = @($r.Lines | Where-Object { $_.StartsWith('##vso[task.setprogress ') })
        foreach ($line in $progress) { $line | Should -Match '^##vso\[task\.setprogress value=(100|[1-9]?[0-9]);\]Downloading stories$' }
        $progress[-1] | Should -Be '##vso[task.setprogress value=100;]Downloading stories'
        $progress.Count | Should -BeGreaterThan 1
        $progress.Count | Should -BeLessOrEqual ([math]::Ceiling($elapsed * 2) + 2)
        $values = $progress | ForEach-Object { [int]($_ -replace '^.*value=(\d+);.*$', '$1') }
        ($values | Sort-Object) -join ',' | Should -Be ($values -join ',') -Because 'progress only moves forward'
    }

    It 'writes GitHub Actions annotations with the ErrorId as title, and each download in its own group' {
        $lib = Use-TestCatalog @((Stories -Query 'rate=800000'), (Stories -Id stories2 -Query 'rate=800000'))
        $r = Invoke-InCi @{ GITHUB_ACTIONS = 'true' } $lib @'
Remove-LibraryModel -Id 'a%b' -Confirm:$false
$tasks = Start-ModelDownload stories, stories2
"done=$(@($tasks | Where-Object Status -eq 'Completed').Count)"
Start-ModelDownload stories | Out-Null
'@
        $r.Lines | Should -Contain 'done=2' -Because $r.Error
        $r.Lines | Should -Contain "::error title=ModelNotFound::No model has the id 'a%25b'."
        $r.Lines | Should -Contain "::warning::'stories' is already local at '$(Join-Path $lib 'llama-cpp/stories/stories260K.gguf')'; use -Force to download it again."
        @($r.Lines | Where-Object { $_ -like '##vso*' }) | Should -BeNullOrEmpty

        # Groups never nest or interleave: group, its lines, endgroup; one per download.
        $markers = @($r.Lines | Where-Object { $_ -like '::group::*' -or $_ -eq '::endgroup::' })
        $markers.Count | Should -Be 4
        for ($i = 0; $i -lt $markers.Count; $i += 2) {
            $markers[$i] | Should -BeLike '::group::Downloading stories*'
            $markers[$i + 1] | Should -Be '::endgroup::'
        }
        ($markers | Where-Object { $_ -like '::group::*' } | Sort-Object) | Should -Be @('::group::Downloading stories', '::group::Downloading stories2')
        $open = [array]::IndexOf($r.Lines, '::group::Downloading stories')
        $r.Lines[$open + 1] | Should -Not -BeLike '::*' -Because 'a group tells how its download went'
        ($r.Lines[$open..([array]::IndexOf($r.Lines, '::endgroup::', $open))] -join "`n") | Should -Match 'Completed'
    }

    It 'writes none of this outside Azure Pipelines and GitHub Actions' {
        $lib = Use-TestCatalog @(Stories)
        $r = Invoke-InCi @{} $lib @'
Remove-LibraryModel -Id 'nope' -Confirm:$false
Start-ModelDownload stories | Out-Null
Start-ModelDownload stories | Out-Null
'@
        $r.Error | Should -Match 'nope'
        @($r.Lines + ($r.Error -split '\r?\n') | Where-Object { $_ -match '^(##vso\[|::(error|warning|group|endgroup))' }) | Should -BeNullOrEmpty
    }
}

Describe 'Unattended runs never wait for a prompt' -Tag Automation {
    BeforeAll {
        function script:Invoke-WithoutConsole([hashtable] $Environment, [string] $Command) {
            # Not -NonInteractive, as GitHub Actions starts pwsh; stdin is a pipe that stays open and never answers.
            $psi = New-PwshStartInfo -Arguments @('-NoProfile', '-Command', "`$PSStyle.OutputRendering = 'PlainText'; Import-Module '$($env:MODELLIBRARY_TEST_MODULE)'; $Command")
            $psi.Environment['TERM'] = 'dumb'
            foreach ($name in 'TF_BUILD', 'GITHUB_ACTIONS') { $psi.Environment.Remove($name) | Out-Null }
            foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
            Start-BoundedProcess -Psi $psi -KeepStdinOpen -TimeoutSeconds 60
        }
    }

    It 'refuses Remove-LibraryModel''s confirmation with ConfirmationRequired at once, and -Confirm:$false removes' {
        $lib = Use-TestCatalog @(Stories)
        Start-ModelDownload stories | Out-Null
        $path = (Get-LibraryModel stories).LocalPath

        $r = Invoke-WithoutConsole @{ MODELS_DIR = $lib } "try { Remove-LibraryModel stories -ErrorAction Stop; 'removed' } catch { 'refused:' + `$_.FullyQualifiedErrorId }"
        $r.Exited | Should -BeTrue -Because 'a run without a console never waits'
        $r.Lines | Should -Contain 'refused:ConfirmationRequired,ModelLibrary.PowerShell.Models.RemoveLibraryModelCommand'
        Test-Path $path | Should -BeTrue

        $r = Invoke-WithoutConsole @{ MODELS_DIR = $lib; GITHUB_ACTIONS = 'true' } 'Remove-LibraryModel stories'
        $r.Exited | Should -BeTrue
        $r.Lines | Where-Object { $_ -like '::error title=ConfirmationRequired::*' } | Should -Not -BeNullOrEmpty
        Test-Path $path | Should -BeTrue

        $r = Invoke-WithoutConsole @{ MODELS_DIR = $lib; TF_BUILD = 'True' } "Remove-LibraryModel stories -Confirm:`$false; 'exit=' + `$?"
        $r.Exited | Should -BeTrue
        $r.Lines | Should -Contain 'exit=True'
        Test-Path $path | Should -BeFalse
    }
}

Describe 'Package' -Tag Package {
    BeforeAll {
        $script:Package = $env:MODELLIBRARY_TEST_PACKAGE
        if (-not $Package -or -not (Test-Path $Package)) { throw 'MODELLIBRARY_TEST_PACKAGE does not name the package; run through ./build.ps1 Test.' }
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [IO.Compression.ZipFile]::OpenRead($Package)
        try { $script:Entries = @($zip.Entries.FullName) } finally { $zip.Dispose() }
        $script:Version = (Import-PowerShellDataFile $env:MODELLIBRARY_TEST_MODULE).ModuleVersion
    }

    It 'is out/ModelLibrary.<version>.nupkg with a complete nuspec' {
        Split-Path $Package -Leaf | Should -Be "ModelLibrary.$Version.nupkg"
        $zip = [IO.Compression.ZipFile]::OpenRead($Package)
        try {
            $reader = [IO.StreamReader]::new(($zip.Entries | Where-Object FullName -eq 'ModelLibrary.nuspec').Open())
            [xml] $nuspec = $reader.ReadToEnd()
            $reader.Dispose()
        }
        finally { $zip.Dispose() }
        $meta = $nuspec.package.metadata
        $meta.id | Should -Be 'ModelLibrary'
        $meta.version | Should -Be $Version
        foreach ($field in 'authors', 'description', 'copyright', 'releaseNotes', 'projectUrl', 'licenseUrl') { $meta.$field | Should -Not -BeNullOrEmpty -Because $field }
        $tags = $meta.tags -split ' '
        foreach ($tag in 'PSEdition_Core', 'Windows', 'Linux', 'MacOS', 'AI', 'LLM', 'GGUF', 'HuggingFace', 'Ollama') { $tags | Should -Contain $tag }
    }

    It 'holds native SQLite for the six platforms and nothing only the tests use' {
        foreach ($rid in 'linux-x64', 'linux-arm64', 'osx-x64', 'osx-arm64', 'win-x64', 'win-arm64') {
            $Entries | Where-Object { $_ -like "runtimes/$rid/native/*e_sqlite3*" } | Should -Not -BeNullOrEmpty -Because $rid
        }
        $rids = $Entries | Where-Object { $_ -like 'runtimes/*' } | ForEach-Object { $_.Split('/')[1] } | Sort-Object -Unique
        $rids | Should -Be (@('linux-arm64', 'linux-musl-arm64', 'linux-musl-x64', 'linux-x64', 'osx-arm64', 'osx-x64', 'win-arm64', 'win-x64') | Sort-Object)
        foreach ($file in 'ModelLibrary.psd1', 'ModelLibrary.PowerShell.dll', 'ModelLibrary.Core.dll', 'ModelLibrary.format.ps1xml',
            'ModelLibraryDsc.psm1', 'ModelLibrary.dsc.resource.json', 'ModelLibrary.dsc.ps1', 'en-US/about_ModelLibrary.help.txt',
            'en-US/ModelLibrary.PowerShell.dll-Help.xml', 'Microsoft.Data.Sqlite.dll', 'Polly.Core.dll') {
            $Entries | Should -Contain $file
        }
        $Entries | Where-Object { $_ -match '\.pdb$|Test|xunit|Pester|System\.Management\.Automation' } | Should -BeNullOrEmpty
    }

    It 'has a manifest Test-ModuleManifest finds clean, exporting the cmdlets and nothing else' {
        $m = Test-ModuleManifest $env:MODELLIBRARY_TEST_MODULE -WarningVariable warnings -ErrorAction Stop
        $warnings | Should -BeNullOrEmpty
        $m.ExportedFunctions.Count | Should -Be 0
        $m.ExportedVariables.Count | Should -Be 0
        $m.ExportedAliases.Count | Should -Be 0
        $data = Import-PowerShellDataFile $env:MODELLIBRARY_TEST_MODULE
        $data.PrivateData.PSData.LicenseUri | Should -Match '/LICENSE$'
        Join-Path $PSScriptRoot '../../LICENSE' | Should -Exist
        # The version is written once; the build stamps it into the assemblies.
        foreach ($dll in 'ModelLibrary.PowerShell.dll', 'ModelLibrary.Core.dll') {
            [Reflection.AssemblyName]::GetAssemblyName((Join-Path $ModuleDir $dll)).Version.ToString(3) | Should -Be $Version
        }
        $exported = @((Get-Module ModelLibrary).ExportedCommands.Keys)
        $exported | Sort-Object | Should -Be ($data.CmdletsToExport | Sort-Object)
    }

    It 'installs with its inference companion from a local PSResourceGet repository, imports by name and measures a model in a fresh pwsh' {
        $sandbox = Join-Path ([IO.Path]::GetTempPath()) ("ml-psrg-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
        $repo = Join-Path $sandbox 'repo'
        New-Item -ItemType Directory $repo | Out-Null
        Copy-Item $Package, $env:MODELLIBRARY_TEST_INFERENCE_PACKAGE $repo
        # The user's repository list and module folders stay untouched: the child's home is the sandbox, where
        # PSResourceGet keeps its repositories and installs CurrentUser modules, and pwsh looks for them.
        # (.NET gives no LocalApplicationData for a folder that does not exist yet, and PSResourceGet then writes its
        # repository list relative to the working directory.)
        $data = Join-Path $sandbox '.local/share'
        New-Item -ItemType Directory $data -Force | Out-Null
        $isolated = @{ HOME = $sandbox; USERPROFILE = $sandbox; XDG_DATA_HOME = $data; LOCALAPPDATA = $data; MODELS_DIR = (Join-Path $sandbox 'models') }
        $install = Invoke-ChildPwsh -NoImport -Environment $isolated -Script @"
Register-PSResourceRepository -Name ModelLibraryTest -Uri '$repo' -Trusted
Install-PSResource -Name ModelLibrary, ModelLibrary.Inference -Repository ModelLibraryTest -Scope CurrentUser -TrustRepository -ErrorAction Stop
(Get-InstalledPSResource ModelLibrary).Version.ToString()
(Get-InstalledPSResource ModelLibrary.Inference).Version.ToString()
"@
        $install.ExitCode | Should -Be 0 -Because $install.Error
        ($install.Output.Trim() -split '\r?\n') | Should -Be @($Version, $Version)

        $stories = Join-Path (Get-FixturesDirectory) 'gguf/stories260K.gguf'
        $use = Invoke-ChildPwsh -NoImport -Environment $isolated -Script (@'
Import-Module ModelLibrary -ErrorAction Stop
"base=$((Get-Module ModelLibrary).ModuleBase)"
"models=$(@(Get-LibraryModel).Count)"
"dsc=$(Test-Path (Join-Path (Get-Module ModelLibrary).ModuleBase 'ModelLibrary.dsc.resource.json'))"
"tokens=$((Measure-LibraryModel -Path 'STORIES' -MaxTokens 4 -ContextLength 64 -ErrorAction Stop).TokensGenerated)"
'@ -replace 'STORIES', $stories)
        $use.ExitCode | Should -Be 0 -Because $use.Error
        # Measure-LibraryModel found the companion where Install-PSResource put it, not beside the built module.
        $use.Output | Should -Match 'tokens=4'
        $use.Output | Should -Match ([regex]::Escape("base=$(Join-Path $data 'powershell/Modules/ModelLibrary')"))
        [int]([regex]::Match($use.Output, 'models=(\d+)').Groups[1].Value) | Should -BeGreaterThan 0
        $use.Output | Should -Match 'dsc=True'
        Remove-Item $sandbox -Recurse -Force -ErrorAction SilentlyContinue
    }
}

Describe 'Automation docs' -Tag Automation {
    BeforeAll { $script:Docs = Join-Path $PSScriptRoot '../../docs' }

    It 'has a sample DSC configuration document whose resources the manifest''s schema accepts' {
        $lines = Get-Content (Join-Path $Docs 'dsc/models.dsc.config.yaml')
        $lines | Should -Contain '$schema: https://aka.ms/dsc/schemas/v3/bundled/config/document.json'
        $types = $lines | Where-Object { $_ -match '^\s+type:\s*(\S+)' } | ForEach-Object { ($_ -split ':\s*', 2)[1].Trim() }
        $types.Count | Should -BeGreaterThan 2
        $types | Sort-Object -Unique | Should -Be 'ModelLibrary/LibraryModel'
        # Each resource's properties, read from the indentation, as the instance dsc would send.
        $instances = @(); $current = $null
        foreach ($line in $lines) {
            if ($line -match '^\s{4}properties:\s*$') { $current = [ordered]@{}; $instances += $current; continue }
            if ($line -match '^\s{6}(\w+):\s*(.+)$' -and $null -ne $current) {
                $value = $Matches[2].Trim()
                $current[$Matches[1]] = if ($value -in 'true', 'false') { $value -eq 'true' } else { $value }
            }
            elseif ($line -notmatch '^\s{6}') { $current = $null }
        }
        $instances.Count | Should -Be $types.Count
        foreach ($instance in $instances) { Assert-ValidInstance ($instance | ConvertTo-Json -Compress) }
        $instances | Where-Object { $_._exist -eq $false } | Should -Not -BeNullOrEmpty
        $instances.id | Where-Object { $_ -like 'hf.co/*' } | Should -Not -BeNullOrEmpty
    }

    It 'has an Azure Pipelines YAML and a GitHub Actions workflow that install the module, provision models and cache the library' {
        $azure = Get-Content (Join-Path $Docs 'pipelines/azure-pipelines.yml') -Raw
        $azure | Should -Match 'task: Cache@2'
        $azure | Should -Match 'path: \$\(MODELS_DIR\)'
        $github = Get-Content (Join-Path $Docs 'pipelines/github-actions.yml') -Raw
        $github | Should -Match 'uses: actions/cache@v4'
        $github | Should -Match 'path: \$\{\{ env\.MODELS_DIR \}\}'
        $github | Should -Match 'shell: pwsh'
        foreach ($yaml in $azure, $github) {
            $yaml | Should -Match 'Install-PSResource -Name ModelLibrary'
            $yaml | Should -Match 'Start-ModelDownload'
            $yaml | Should -Match 'Remove-LibraryModel -Confirm:\$false'
            $yaml | Should -Not -Match "`t" -Because 'YAML takes no tabs'
        }
    }
}
