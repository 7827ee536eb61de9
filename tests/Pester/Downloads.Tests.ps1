# End-to-end download tests against the built module and the loopback test server (tests/ModelLibrary.TestServer),
# which serves real files and injects faults through query parameters (rate, dropAfter, ignoreRange, status, ...).
# Real file used: tests/fixtures/gguf/stories260K.gguf (written by llama.cpp's llama2c converter), served as is.
# Built here: catalogs pointing at the server, and generated content (/gen/<size>/<seed>, deterministic bytes).

BeforeAll {
    Import-Module $env:MODELLIBRARY_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:Fixtures = Get-FixturesDirectory
    $script:ServedRoot = Join-Path ([IO.Path]::GetTempPath()) ("ml-served-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
    New-Item -ItemType Directory $ServedRoot | Out-Null
    Copy-Item (Join-Path $Fixtures 'gguf/stories260K.gguf') $ServedRoot
    $script:Server = Start-TestServer -Root $ServedRoot
    $script:StoriesSha = 'sha256:270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d'
    $script:StoriesSize = 1185376

    function script:Use-TestCatalog {
        <# A fresh library whose only extra source is a catalog of the given entries. #>
        param([object[]] $Models)
        $lib = New-TestLibrary
        $path = Join-Path $lib 'catalog.json'
        @{ models = $Models } | ConvertTo-Json -Depth 6 | Set-Content $path
        Register-ModelSource -Name test -Uri $path | Out-Null
        Invoke-RestMethod -Method Post "$($Server.Url)/_stats/reset" | Out-Null
        $lib
    }

    function script:Stories([string] $Id = 'stories', [string] $Query = '', [string] $Checksum = $StoriesSha) {
        @{ id = $Id; name = "Stories $Id"; provider = 'llama-cpp'; format = 'gguf'; size = $StoriesSize
           download_url = "$($Server.Url)/files/stories260K.gguf$(if ($Query) { "?$Query" })"; checksum = $Checksum
           filename = 'stories260K.gguf'; capabilities = @('text-generation') }
    }

    function script:Generated([string] $Id, [string] $Size, [int] $Seed, [string] $Query = '') {
        $sha = (Invoke-RestMethod "$($Server.Url)/gen/$Size/$Seed.sha256").ToString().Trim()
        @{ id = $Id; name = $Id; provider = 'llama-cpp'; download_url = "$($Server.Url)/gen/$Size/$Seed$(if ($Query) { "?$Query" })"
           checksum = "sha256:$sha"; filename = 'blob.dat' }
    }

    function script:Get-PathStats([string] $Path) {
        $stats = Get-TestServerStats $Server
        $stats.perPath.$Path
    }
}

AfterAll {
    $Server | Stop-TestServer
    Remove-Item $ServedRoot -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Start-ModelDownload in the foreground' -Tag Downloads {
    It 'downloads, verifies and registers the model as Local' {
        $lib = Use-TestCatalog @(Stories)
        $task = Start-ModelDownload stories
        $task | Should -BeOfType ModelLibrary.DownloadTask
        $task.Status | Should -Be 'Completed'
        $task.DownloadedSize | Should -Be $StoriesSize
        $task.Progress | Should -Be 1
        $m = Get-LibraryModel stories
        $m.Status | Should -Be 'Local'
        $m.LocalPath | Should -Be (Join-Path $lib 'llama-cpp/stories/stories260K.gguf')
        (Get-FileHash $m.LocalPath -Algorithm SHA256).Hash.ToLower() | Should -Be $StoriesSha.Substring(7)
        $m.DiskUsage | Should -Be $StoriesSize
        $m.DownloadDate | Should -Not -BeNullOrEmpty
        Get-ChildItem (Join-Path $lib 'downloads') -Filter *.partial* | Should -BeNullOrEmpty
        (Get-ModelDownload -ModelId stories).Status | Should -Be 'Completed'
    }

    It 'records the computed checksum when the catalog has none' {
        $lib = Use-TestCatalog @(Stories -Checksum $null)
        (Get-LibraryModel stories).Checksum | Should -BeNullOrEmpty
        Start-ModelDownload stories | Out-Null
        (Get-LibraryModel stories).Checksum | Should -Be $StoriesSha
    }

    It 'does not download a Local model again without -Force, and does with it' {
        $lib = Use-TestCatalog @(Stories)
        Start-ModelDownload stories | Out-Null
        $again = Start-ModelDownload stories -WarningVariable w -WarningAction SilentlyContinue
        $again | Should -BeNullOrEmpty
        ($w -join '') | Should -Match 'already local'
        (Get-PathStats '/files/stories260K.gguf').bytesServed | Should -Be $StoriesSize
        (Start-ModelDownload stories -Force).Status | Should -Be 'Completed'
        (Get-PathStats '/files/stories260K.gguf').bytesServed | Should -Be (2 * $StoriesSize)
    }

    It 'takes models from the pipeline and honours -WhatIf' {
        $lib = Use-TestCatalog @((Stories 'a'), (Stories 'b'))
        Get-LibraryModel -Source test | Start-ModelDownload -WhatIf
        (Get-TestServerStats $Server).requests | Should -Be 0
        $tasks = Get-LibraryModel -Source test | Start-ModelDownload
        $tasks.Count | Should -Be 2
        (Get-LibraryModel -Source test -Status Local).Count | Should -Be 2
    }

    It 'fails with ChecksumMismatch on wrong bytes and keeps nothing' {
        $lib = Use-TestCatalog @(Stories -Query 'corrupt=1')
        { Start-ModelDownload stories -ErrorAction Stop } | Should -Throw -ErrorId 'ChecksumMismatch,ModelLibrary.PowerShell.Downloads.StartModelDownloadCommand'
        Test-Path (Join-Path $lib 'llama-cpp/stories') | Should -BeFalse
        Get-ChildItem (Join-Path $lib 'downloads') -Filter *.partial* | Should -BeNullOrEmpty
        (Get-LibraryModel stories).Status | Should -Be 'Error'
        (Get-ModelDownload -ModelId stories).Status | Should -Be 'Failed'
    }

    It 'fails at once with NetworkFailure naming the HTTP status on 404' {
        $lib = Use-TestCatalog @(Stories -Query 'status=404')
        $err = $null
        try { Start-ModelDownload stories -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'NetworkFailure,ModelLibrary.PowerShell.Downloads.StartModelDownloadCommand'
        $err.Exception.Message | Should -Match '404'
        $err.Exception.ErrorInfo.Type | Should -Be 'NetworkError'
        # One HEAD or GET, no retries.
        (Get-PathStats '/files/stories260K.gguf').requests | Should -BeLessOrEqual 2
    }

    It 'retries 503 with Retry-After and succeeds' {
        $lib = Use-TestCatalog @(Stories -Query 'failFirst=2&status=503&retryAfter=1')
        (Start-ModelDownload stories).Status | Should -Be 'Completed'
        (Get-PathStats '/files/stories260K.gguf').requests | Should -BeGreaterOrEqual 3
    }

    It 'survives a dropped connection and a server that answers Range with 200' {
        $lib = Use-TestCatalog @(Stories -Query 'dropAfter=300000&times=1&ignoreRange=1')
        $task = Start-ModelDownload stories
        $task.Status | Should -Be 'Completed'
        (Get-FileHash (Get-LibraryModel stories).LocalPath -Algorithm SHA256).Hash.ToLower() | Should -Be $StoriesSha.Substring(7)
    }

    It 'refuses a declared size larger than the disk before any request' {
        $big = Stories
        $big.size = 1000000000000000
        $lib = Use-TestCatalog @($big)
        $err = $null
        try { Start-ModelDownload stories -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'InsufficientDiskSpace,ModelLibrary.PowerShell.Downloads.StartModelDownloadCommand'
        $err.Exception.ErrorInfo.Details['required_space'] | Should -BeGreaterThan 1000000000000000
        $err.Exception.ErrorInfo.Details['available_space'] | Should -BeGreaterThan 0
        (Get-TestServerStats $Server).requests | Should -Be 0
        Get-ModelDownload -ModelId stories | Should -BeNullOrEmpty
    }

    It 'refuses plain http to a host that is not loopback (InsecureSource)' {
        $remote = Stories
        $remote.download_url = 'http://models.example.org/stories260K.gguf'
        $lib = Use-TestCatalog @($remote)
        { Start-ModelDownload stories -ErrorAction Stop } | Should -Throw -ErrorId 'InsecureSource,ModelLibrary.PowerShell.Downloads.StartModelDownloadCommand'
        Get-ModelDownload -ModelId stories | Should -BeNullOrEmpty
    }

    It 'refuses a catalog file name that leaves the model folder (UnsafeModelContent)' {
        $evil = Stories
        $evil.filename = '../../../escape.gguf'
        $lib = Use-TestCatalog @($evil)
        { Start-ModelDownload stories -ErrorAction Stop } | Should -Throw -ErrorId 'UnsafeModelContent,*'
        Test-Path (Join-Path $lib 'escape.gguf') | Should -BeFalse
        Test-Path (Join-Path (Split-Path $lib) 'escape.gguf') | Should -BeFalse
    }

    It 'scans pickle content before a model lands, even with format validation off (UnsafeModelContent)' {
        Copy-Item (Join-Path $Fixtures 'pickle/malicious1_v3.pkl') (Join-Path $ServedRoot 'evil.bin') -Force
        $lib = Use-TestCatalog @(@{ id = 'evil'; provider = 'transformers'; download_url = "$($Server.Url)/files/evil.bin"; filename = 'pytorch_model.bin' })
        Set-ModelLibraryConfiguration -EnableModelValidation $false
        try {
            { Start-ModelDownload evil -ErrorAction Stop } | Should -Throw -ErrorId 'UnsafeModelContent,*'
        }
        finally { Set-ModelLibraryConfiguration -EnableModelValidation $true }
        Test-Path (Join-Path $lib 'transformers/evil') | Should -BeFalse
        (Get-LibraryModel evil).Status | Should -Be 'Error'
    }

    It 'writes ModelNotFound for an unknown id and goes on with the next' {
        $lib = Use-TestCatalog @(Stories)
        $out = Start-ModelDownload nope, stories -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -Be 'ModelNotFound,ModelLibrary.PowerShell.Downloads.StartModelDownloadCommand'
        $out.Status | Should -Be 'Completed'
    }
}

Describe 'HTTP model sources' -Tag Downloads {
    It 'lists the models of an HTTP catalog, with their checksums' {
        $lib = New-TestLibrary
        $source = Register-ModelSource -Name web -Uri "$($Server.Url)/catalog.json"
        $source.Type | Should -Be 'Http'
        $m = Get-LibraryModel -Source web
        $m.Id | Should -Contain 'stories260k'
        ($m | Where-Object Id -eq 'stories260k').Checksum | Should -Be $StoriesSha
        (Start-ModelDownload stories260k).Status | Should -Be 'Completed'
    }

    It 'warns naming a malformed HTTP catalog and keeps the others' {
        $lib = New-TestLibrary
        Register-ModelSource -Name broken -Uri "$($Server.Url)/_control/malformed" -WarningAction SilentlyContinue | Out-Null
        $models = Get-LibraryModel -WarningVariable w -WarningAction SilentlyContinue
        ($w -join "`n") | Should -Match "model source 'broken' is malformed"
        $models.Count | Should -Be 73
    }
}

Describe 'Start-ModelDownload -AsJob' -Tag Downloads {
    It 'returns a ModelDownloadJob that Get-Job, Wait-Job, Receive-Job and Remove-Job handle' {
        $lib = Use-TestCatalog @(Stories -Query 'rate=2000000')
        $job = Start-ModelDownload stories -AsJob
        $job.PSJobTypeName | Should -Be 'ModelDownloadJob'
        (Get-Job -Id $job.Id).InstanceId | Should -Be $job.InstanceId
        $task = $job | Wait-Job -Timeout 60 | Receive-Job
        $job.State | Should -Be 'Completed'
        $task | Should -BeOfType ModelLibrary.DownloadTask
        $task.Status | Should -Be 'Completed'
        (Get-LibraryModel stories).Status | Should -Be 'Local'
        $job | Remove-Job
        Get-Job -Id $job.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'Stop-Job cancels: status Cancelled, partial deleted, model Available' {
        $lib = Use-TestCatalog @(Stories -Query 'rate=100000')
        $job = Start-ModelDownload stories -AsJob
        Start-Sleep -Milliseconds 1500
        (Get-LibraryModel stories).Status | Should -Be 'Downloading'
        $job | Stop-Job
        $job.State | Should -Be 'Stopped'
        $task = Get-ModelDownload -ModelId stories
        $task.Status | Should -Be 'Cancelled'
        Get-ChildItem (Join-Path $lib 'downloads') -Filter *.partial* | Should -BeNullOrEmpty
        (Get-LibraryModel stories).Status | Should -Be 'Available'
        $job | Remove-Job -Force
    }

    It 'MAX_CONCURRENT_DOWNLOADS bounds transfers; the others wait as Pending' {
        $lib = Use-TestCatalog @((Stories 'c1' 'rate=400000'), (Stories 'c2' 'rate=400000'), (Stories 'c3' 'rate=400000'))
        Set-ModelLibraryConfiguration -MaxConcurrentDownloads 1
        try {
            $jobs = 'c1', 'c2', 'c3' | Start-ModelDownload -AsJob
            Start-Sleep -Milliseconds 800
            $states = (Get-ModelDownload -ModelId c1, c2, c3).Status
            ($states | Where-Object { $_ -eq 'Pending' }).Count | Should -Be 2
            $jobs | Wait-Job -Timeout 120 | Out-Null
            ($jobs | Receive-Job).Status | Should -Be @('Completed', 'Completed', 'Completed')
            (Get-TestServerStats $Server).maxConcurrent | Should -Be 1
        }
        finally {
            Set-ModelLibraryConfiguration -MaxConcurrentDownloads 3
            $jobs | Remove-Job -Force -ErrorAction SilentlyContinue
        }
    }

    It 'the job''s SuspendJob() and ResumeJob() pause and resume the download in place' {
        $lib = Use-TestCatalog @(Stories -Query 'rate=200000')
        $job = Start-ModelDownload stories -AsJob
        Start-Sleep -Milliseconds 1500
        $job.SuspendJob()
        $job.State | Should -Be 'Suspended'
        (Get-ModelDownload -ModelId stories).Status | Should -Be 'Paused'
        $job.ResumeJob()
        ($job | Wait-Job -Timeout 60 | Receive-Job).Status | Should -Be 'Completed'
        (Get-PathStats '/files/stories260K.gguf').bytesServed | Should -BeLessThan ($StoriesSize * 1.2)
        $job | Remove-Job
    }

    It 'two requests for the same model share one download' {
        $lib = Use-TestCatalog @(Stories -Query 'rate=1000000')
        $a = Start-ModelDownload stories -AsJob
        $b = Start-ModelDownload stories -AsJob
        $a.TaskId | Should -Be $b.TaskId
        ($a, $b | Wait-Job -Timeout 60 | Receive-Job).Status | Should -Be @('Completed', 'Completed')
        (Get-PathStats '/files/stories260K.gguf').bytesServed | Should -Be $StoriesSize
        $a, $b | Remove-Job
    }
}

Describe 'Pause, resume and other sessions' -Tag Downloads {
    It 'Suspend-ModelDownload pauses, another session sees it, Resume-ModelDownload finishes from the bytes on disk' {
        $lib = Use-TestCatalog @(Stories -Query 'rate=150000')
        $job = Start-ModelDownload stories -AsJob
        Start-Sleep -Milliseconds 2500
        $paused = Get-ModelDownload -ModelId stories | Suspend-ModelDownload -PassThru
        $paused.Status | Should -Be 'Paused'
        $paused.DownloadedSize | Should -BeGreaterThan 0
        $r = Invoke-ChildPwsh -Environment @{ MODELS_DIR = $lib } -Script '$t = Get-ModelDownload -ModelId stories; "$($t.Status) $($t.DownloadedSize)"'
        $r.Output | Should -Match "Paused $($paused.DownloadedSize)"
        $before = (Get-PathStats '/files/stories260K.gguf').bytesServed
        $done = Resume-ModelDownload -TaskId $paused.TaskId
        $done.Status | Should -Be 'Completed'
        $done.TaskId | Should -Be $paused.TaskId
        $served = (Get-PathStats '/files/stories260K.gguf').bytesServed
        $served | Should -BeLessThan ($StoriesSize * 1.2)
        (Get-LibraryModel stories).Status | Should -Be 'Local'
        $job | Remove-Job -Force
    }

    It 'another session sees a running download and its progress' {
        $lib = Use-TestCatalog @(Stories -Query 'rate=150000')
        $job = Start-ModelDownload stories -AsJob
        Start-Sleep -Milliseconds 3000
        $r = Invoke-ChildPwsh -Environment @{ MODELS_DIR = $lib } -Script @'
$t = Get-ModelDownload -ModelId stories
$m = Get-LibraryModel stories
"task=$($t.Status) bytes=$($t.DownloadedSize) model=$($m.Status) progress=$($m.DownloadProgress)"
'@
        $r.Output | Should -Match 'task=Downloading bytes=[1-9]\d* model=Downloading progress=0\.\d+'
        $job | Stop-Job
        $job | Remove-Job -Force
    }

    It 'a killed pwsh leaves a download that a new pwsh resumes, the server sending < 1.2x the file' {
        $size = 24MB
        $lib = Use-TestCatalog @(Generated 'killed' '24m' 11 'rate=4000000')
        $psi = New-PwshStartInfo -Arguments @('-NoProfile', '-NonInteractive', '-Command', "Import-Module '$($env:MODELLIBRARY_TEST_MODULE)'; Start-ModelDownload killed")
        $psi.Environment['MODELS_DIR'] = $lib
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        # Two connections (4 MB/s each): slow enough to be killed half way; the default 16 would finish first.
        $psi.Environment['DOWNLOAD_CONNECTIONS'] = '2'
        $victim = [Diagnostics.Process]::Start($psi)
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        do {
            Start-Sleep -Milliseconds 250
            $t = Get-ModelDownload -ModelId killed -ErrorAction SilentlyContinue
        } until (($t -and $t.DownloadedSize -gt 6MB) -or [DateTime]::UtcNow -gt $deadline)
        $victim.Kill($true)
        $victim.WaitForExit()
        $t.DownloadedSize | Should -BeGreaterThan 6MB

        $r = Invoke-ChildPwsh -Environment @{ MODELS_DIR = $lib } -Script @'
$task = Get-ModelDownload -ModelId killed | Where-Object { -not $_.IsFinished } | Resume-ModelDownload
"status=$($task.Status)"
"local=$((Get-LibraryModel killed).Status)"
'@
        $r.Output | Should -Match 'status=Completed'
        $r.Output | Should -Match 'local=Local'
        $served = (Get-PathStats '/gen/24m/11').bytesServed
        $served | Should -BeLessThan ($size * 1.2)
        $served | Should -BeGreaterOrEqual $size
    }

    It 'two pwsh processes of one library hold at most DownloadConnections connections to a host together' {
        # Each download alone grows to 4 connections on this capped server (256 KB/s per connection); the slot files
        # under downloads/hosts/ make the two processes share the host's 4. Both start at one signal, so they overlap.
        $lib = Use-TestCatalog @((Generated 'host-a' '4m' 21 'rate=262144'), (Generated 'host-b' '4m' 22 'rate=262144'))
        $go = Join-Path $lib 'go'
        $children = foreach ($id in 'host-a', 'host-b') {
            $script = Join-Path $lib "$id.ps1"
            Set-Content $script @"
Import-Module '$($env:MODELLIBRARY_TEST_MODULE)' -ErrorAction Stop
New-Item -ItemType File '$lib/$id.ready' | Out-Null
`$deadline = [DateTime]::UtcNow.AddSeconds(90)
while (-not (Test-Path '$go') -and [DateTime]::UtcNow -lt `$deadline) { Start-Sleep -Milliseconds 20 }
`$t = Start-ModelDownload $id
"status=`$(`$t.Status)"
"@
            $psi = New-PwshStartInfo -Arguments @('-NoProfile', '-NonInteractive', '-File', $script)
            $psi.Environment['MODELS_DIR'] = $lib
            $psi.Environment['DOWNLOAD_CONNECTIONS'] = '4'
            $psi.RedirectStandardOutput = $true
            $psi.RedirectStandardError = $true
            $p = [Diagnostics.Process]::Start($psi)
            [pscustomobject]@{ Process = $p; Out = $p.StandardOutput.ReadToEndAsync(); Err = $p.StandardError.ReadToEndAsync() }
        }
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(90)
            while (-not ((Test-Path "$lib/host-a.ready") -and (Test-Path "$lib/host-b.ready")) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            New-Item -ItemType File $go | Out-Null
            foreach ($c in $children) { $c.Process.WaitForExit(120000) | Should -BeTrue }
        }
        finally {
            foreach ($c in $children) { if (-not $c.Process.HasExited) { $c.Process.Kill($true) } }
        }
        foreach ($c in $children) { "$($c.Out.Result)$($c.Err.Result)" | Should -Match 'status=Completed' }
        (Get-TestServerStats $Server).maxConcurrent | Should -BeLessOrEqual 4
        (Get-LibraryModel host-a, host-b).Status | Should -Be @('Local', 'Local')
        Get-ChildItem (Join-Path $lib 'downloads/hosts') -Directory | Should -HaveCount 1
    }

    It 'a second process downloading the same model is refused with DownloadInProgress' {
        $lib = Use-TestCatalog @(Stories -Query 'rate=150000')
        $job = Start-ModelDownload stories -AsJob
        Start-Sleep -Milliseconds 1000
        $r = Invoke-ChildPwsh -Environment @{ MODELS_DIR = $lib } -Script @'
try { Start-ModelDownload stories -ErrorAction Stop; 'started' } catch { $_.FullyQualifiedErrorId }
'@
        $r.Output | Should -Match 'DownloadInProgress'
        $job | Stop-Job
        $job | Remove-Job -Force
    }

    It 'another session pauses and then cancels a download this session runs' {
        # Slow enough that the download is still running when a child pwsh, slow to start on a loaded machine, asks.
        $lib = Use-TestCatalog @(Stories -Query 'rate=50000')
        $job = Start-ModelDownload stories -AsJob
        Start-Sleep -Milliseconds 1500
        $r = Invoke-ChildPwsh -Environment @{ MODELS_DIR = $lib } -Script '(Suspend-ModelDownload -ModelId stories -PassThru).Status'
        $r.Output.Trim() | Should -Be 'Paused'
        $job | Wait-Job -Timeout 30 | Out-Null
        $job.State | Should -Be 'Stopped'
        (Get-ModelDownload -ModelId stories).Status | Should -Be 'Paused'

        $job2 = Resume-ModelDownload -ModelId stories -AsJob
        Start-Sleep -Milliseconds 1500
        $r = Invoke-ChildPwsh -Environment @{ MODELS_DIR = $lib } -Script '(Stop-ModelDownload -ModelId stories -Confirm:$false -PassThru).Status'
        $r.Output.Trim() | Should -Be 'Cancelled'
        $job2 | Wait-Job -Timeout 30 | Out-Null
        Get-ChildItem (Join-Path $lib 'downloads') -Filter '*.partial*' | Should -BeNullOrEmpty
        (Get-LibraryModel stories).Status | Should -Be 'Available'
        $job, $job2 | Remove-Job -Force
    }

    It 'Remove-LibraryModel cancels a running download and deletes its partial' {
        $lib = Use-TestCatalog @(Stories -Query 'rate=150000')
        $job = Start-ModelDownload stories -AsJob
        Start-Sleep -Milliseconds 1500
        Remove-LibraryModel stories -Confirm:$false
        $job | Wait-Job -Timeout 30 | Out-Null
        (Get-ModelDownload -ModelId stories).Status | Should -Be 'Cancelled'
        Get-ChildItem (Join-Path $lib 'downloads') -Filter *.partial* | Should -BeNullOrEmpty
        (Get-LibraryModel stories).Status | Should -Be 'Available'
        $job | Remove-Job -Force
    }

    It 'Wait-ModelDownload waits for a job''s task and -Timeout reports what still runs' {
        $lib = Use-TestCatalog @(Stories -Query 'rate=300000')
        $job = Start-ModelDownload stories -AsJob
        Get-ModelDownload -ModelId stories | Wait-ModelDownload -Timeout 1 -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -Match '^DownloadWaitTimeout'
        (Get-ModelDownload -ModelId stories | Wait-ModelDownload).Status | Should -Be 'Completed'
        $job | Remove-Job -Force
    }

    It 'Stop-ModelDownload -ModelId cancels a paused download: partial and state deleted, model Available' {
        $lib = Use-TestCatalog @(Stories -Query 'rate=150000')
        $job = Start-ModelDownload stories -AsJob
        Start-Sleep -Milliseconds 1500
        Suspend-ModelDownload -ModelId stories
        Get-ChildItem (Join-Path $lib 'downloads') -Filter '*.partial*' | Should -Not -BeNullOrEmpty
        Stop-ModelDownload -ModelId stories -WhatIf
        (Get-ModelDownload -ModelId stories).Status | Should -Be 'Paused'
        $task = Stop-ModelDownload -ModelId stories -Confirm:$false -PassThru
        $task.Status | Should -Be 'Cancelled'
        Get-ChildItem (Join-Path $lib 'downloads') -Filter '*.partial*' | Should -BeNullOrEmpty
        (Get-LibraryModel stories).Status | Should -Be 'Available'
        { Resume-ModelDownload -TaskId $task.TaskId -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidDownloadState,*'
        $job | Remove-Job -Force
    }

    It 'writes DownloadTaskNotFound for unknown task ids' {
        $lib = Use-TestCatalog @(Stories)
        { Get-ModelDownload -TaskId nope -ErrorAction Stop } | Should -Throw -ErrorId 'DownloadTaskNotFound,ModelLibrary.PowerShell.Downloads.GetModelDownloadCommand'
        { Stop-ModelDownload -TaskId nope -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'DownloadTaskNotFound,*'
        { Resume-ModelDownload -TaskId nope -ErrorAction Stop } | Should -Throw -ErrorId 'DownloadTaskNotFound,*'
        { Wait-ModelDownload -TaskId nope -ErrorAction Stop } | Should -Throw -ErrorId 'DownloadTaskNotFound,*'
    }
}

Describe 'DSC resource LibraryModel' -Tag Downloads {
    It 'tests, downloads (Present) and removes (Absent) a model idempotently' {
        $lib = Use-TestCatalog @(Stories)
        $resource = & (Get-Module ModelLibrary) { [LibraryModel]::new() }
        $resource.Id = 'stories'
        $resource.Test() | Should -BeFalse
        $resource.Set()
        $resource.Test() | Should -BeTrue
        $resource.Get().Status | Should -Be 'Local'
        # Already in the desired state: a second Set changes nothing on the server side.
        $resource.Verify = $true
        $resource.Test() | Should -BeTrue
        (Get-PathStats '/files/stories260K.gguf').bytesServed | Should -Be $StoriesSize

        $resource.Ensure = 'Absent'
        $resource.Test() | Should -BeFalse
        $resource.Set()
        $resource.Test() | Should -BeTrue
        (Get-LibraryModel stories).Status | Should -Be 'Available'
        Test-Path (Join-Path $lib 'llama-cpp/stories') | Should -BeFalse
    }

    It 'fails Get for an unknown model with ModelNotFound' {
        $lib = New-TestLibrary
        $resource = & (Get-Module ModelLibrary) { [LibraryModel]::new() }
        $resource.Id = 'no-such-model'
        { $resource.Get() } | Should -Throw -ExpectedMessage "*no-such-model*"
    }
}

