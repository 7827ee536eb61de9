# Issue 9 (hardening), the state, file and message items: what killed processes, read-only libraries, full disks,
# FIFOs, symbolic links, damaged files and unlucky ids did to the module, each asserted as a user sees it through the
# built module. Downloads come from the loopback test server (tests/ModelLibrary.TestServer; 'rate=' slows a body).
# Real file used: tests/fixtures/gguf/stories260K.gguf (written by llama.cpp's llama2c converter).

BeforeDiscovery {
    # Whether this machine can make a library read-only for root too (chattr +i), as a user without write access
    # sees it, and mount a small tmpfs as a full disk.
    $CanFreeze = $IsLinux -and [bool](Get-Command chattr -ErrorAction SilentlyContinue) -and ((id -u) -eq '0')
}

BeforeAll {
    Import-Module $env:MODELLIBRARY_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:Fixtures = Get-FixturesDirectory
    $script:Stories = Join-Path $Fixtures 'gguf/stories260K.gguf'
    $script:Server = Start-TestServer

    function script:Use-Catalog([object[]] $Models) {
        $lib = New-TestLibrary
        $path = Join-Path $lib 'catalog.json'
        @{ models = $Models } | ConvertTo-Json -Depth 6 | Set-Content $path
        Register-ModelSource -Name test -Uri $path | Out-Null
        $lib
    }

    function script:Slow([string] $Id, [string] $Size = '8m', [int] $Seed = 7, [int] $Rate = 1000000) {
        $sha = (Invoke-RestMethod "$($Server.Url)/gen/$Size/$Seed.sha256").ToString().Trim()
        @{ id = $Id; name = $Id; provider = 'llama-cpp'; download_url = "$($Server.Url)/gen/$Size/$($Seed)?rate=$Rate"
           checksum = "sha256:$sha"; filename = 'blob.dat' }
    }

    function script:Mount-SmallDisk([string] $Size) {
        <# A tmpfs of -Size (mount's size=) in a new temporary folder, standing in for a small disk; $null where it cannot be mounted. #>
        $mount = Join-Path ([IO.Path]::GetTempPath()) ("ml-full-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
        New-Item -ItemType Directory $mount | Out-Null
        & mount -t tmpfs -o size=$Size tmpfs $mount 2>$null
        if ($LASTEXITCODE -eq 0) { $mount }
    }

    function script:Start-Victim([string] $Lib, [string] $Command) {
        <# A pwsh of its own running $Command against $Lib, to be killed or interrupted. #>
        $psi = New-PwshStartInfo -Arguments @('-NoProfile', '-NonInteractive', '-Command', "Import-Module '$($env:MODELLIBRARY_TEST_MODULE)'; $Command")
        # A test run started in the background of a shell inherits SIGINT ignored (POSIX shells do that without job
        # control), and .NET keeps an inherited ignore, so Ctrl+C could never reach the victim: restore the default
        # disposition before pwsh starts, as an interactive terminal would have it.
        $ignored = (Get-Content /proc/self/status -ErrorAction SilentlyContinue | Where-Object { $_ -like 'SigIgn:*' }) -replace 'SigIgn:\s*', ''
        if ($ignored -and (([Convert]::ToUInt64($ignored, 16) -band 2) -ne 0)) {
            $exe = $psi.FileName
            $argv = @($exe) + @($psi.ArgumentList)
            $psi.FileName = 'python3'
            $psi.ArgumentList.Clear()
            foreach ($a in @('-c', 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])') + $argv) { $psi.ArgumentList.Add($a) }
        }
        $psi.Environment['MODELS_DIR'] = $Lib
        # One connection: the server's rate limit is per connection, and the victim must still be downloading when hit.
        $psi.Environment['DOWNLOAD_CONNECTIONS'] = '1'
        $psi.Environment['TERM'] = 'dumb'
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $p = [Diagnostics.Process]::Start($psi)
        [pscustomobject]@{ Process = $p; Out = $p.StandardOutput.ReadToEndAsync(); Err = $p.StandardError.ReadToEndAsync() }
    }

    function script:Wait-Bytes([string] $ModelId, [long] $Bytes = 1) {
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        do {
            Start-Sleep -Milliseconds 200
            $t = Get-ModelDownload -ModelId $ModelId -ErrorAction SilentlyContinue | Select-Object -First 1
        } until (($t -and $t.DownloadedSize -ge $Bytes) -or [DateTime]::UtcNow -gt $deadline)
        $t
    }

    $script:CanFreeze = $IsLinux -and [bool](Get-Command chattr -ErrorAction SilentlyContinue) -and ((id -u) -eq '0')
}

AfterAll {
    $Server | Stop-TestServer
}

Describe 'A task whose process died' -Tag State {
    It 'reads as Paused at once from another session, on both cmdlets, and -Status Paused,Failed | Resume-ModelDownload finishes it' {
        $lib = Use-Catalog @(Slow 'orphan' -Size '4m' -Rate 400000)
        $victim = Start-Victim $lib 'Start-ModelDownload orphan'
        $t = Wait-Bytes 'orphan' 256KB
        $t.Status | Should -Be 'Downloading'
        $victim.Process.Kill($true)
        $victim.Process.WaitForExit()

        # A new session, straight away: no Wait-ModelDownload, no resume by task id first.
        $r = Invoke-ChildPwsh -Environment @{ MODELS_DIR = $lib } -Script @'
$t = Get-ModelDownload -ModelId orphan
$m = Get-LibraryModel orphan
"task=$($t.Status) model=$($m.Status) speed=$($t.BytesPerSecond)"
'@
        $r.Output | Should -Match 'task=Paused model=Available speed=\s*$'

        $done = Get-ModelDownload -Status Paused, Failed | Resume-ModelDownload
        $done.Status | Should -Be 'Completed'
        $done.TaskId | Should -Be $t.TaskId
        (Get-LibraryModel orphan).Status | Should -Be 'Local'
    }

    It 'after Suspend-ModelDownload, Get-LibraryModel agrees with Get-ModelDownload' {
        $lib = Use-Catalog @(Slow 'suspended')
        $job = Start-ModelDownload suspended -AsJob
        Wait-Bytes 'suspended' 512KB | Out-Null
        $paused = Suspend-ModelDownload -ModelId suspended -PassThru
        $paused.Status | Should -Be 'Paused'
        $model = Get-LibraryModel suspended
        $model.Status | Should -Be 'Available'
        $model.DownloadProgress | Should -BeNullOrEmpty
        $model.StatusMessage | Should -Match "Resume-ModelDownload -TaskId $($paused.TaskId)"
        ($model | Format-Table | Out-String -Width 200) | Should -Not -Match 'Downloading'
        $job | Remove-Job -Force
    }

    It 'a cancelled task no longer points at its deleted partial' {
        $lib = Use-Catalog @(Slow 'cancelled')
        $job = Start-ModelDownload cancelled -AsJob
        Wait-Bytes 'cancelled' 256KB | Out-Null
        $task = Stop-ModelDownload -ModelId cancelled -Confirm:$false -PassThru
        $task.Status | Should -Be 'Cancelled'
        $task.LocalPath | Should -BeNullOrEmpty
        (Get-ModelDownload -TaskId $task.TaskId).LocalPath | Should -BeNullOrEmpty
        $job | Remove-Job -Force
    }
}

Describe 'Ctrl+C during a foreground download' -Tag State {
    It 'says the download is paused and how to resume it' -Skip:(-not ($IsLinux -or $IsMacOS)) {
        $lib = Use-Catalog @(Slow 'interrupted' -Size '256m')
        $victim = Start-Victim $lib 'Start-ModelDownload interrupted'
        Wait-Bytes 'interrupted' 256KB | Out-Null
        # SIGINT is what the terminal sends on Ctrl+C; pwsh turns it into StopProcessing of the running cmdlet.
        & kill -INT $victim.Process.Id
        $victim.Process.WaitForExit(90000) | Should -BeTrue
        $said = $victim.Out.Result + $victim.Err.Result
        $task = Get-ModelDownload -ModelId interrupted
        $task.Status | Should -Be 'Paused'
        $said | Should -Match "paused"
        $said | Should -Match "Resume-ModelDownload -TaskId $($task.TaskId)"
    }
}

Describe 'A library this user may only read' -Tag State {
    BeforeEach {
        # The library is made immutable (chattr +i on every file and folder): even root then gets EPERM on each
        # write, exactly what a user without write permission gets, while reads work.
        # Made by another process that then exits, as the library's owner would: no connection of this session
        # keeps registry.db's write-ahead files open.
        $script:lib = New-TestLibrary
        Set-ModelLibraryConfiguration -ModelsDirectory (New-TestLibrary)
        $made = Invoke-ChildPwsh -Environment @{ MODELS_DIR = $lib } -Script "Import-LibraryModel -Path '$Stories' -Id stories | Out-Null; 'made'"
        $made.Output | Should -Match 'made'
    }

    AfterEach {
        if ($CanFreeze) { & chattr -R -i $lib 2>$null }
    }

    It 'lists, shows tasks and reads metadata; writes fail with RegistryUnavailable saying what to do' -Skip:(-not $CanFreeze) {
        & chattr -R +i $lib
        $r = Invoke-ChildPwsh -Environment @{ MODELS_DIR = $lib } -Script @'
"status=$((Get-LibraryModel stories).Status)"
"tasks=$(@(Get-ModelDownload).Count)"
"arch=$((Get-ModelMetadata -Id stories).Architecture)"
try { Remove-LibraryModel stories -Confirm:$false -ErrorAction Stop } catch { "remove=$($_.FullyQualifiedErrorId)"; "message=$($_.Exception.Message)"; "action=$($_.ErrorDetails.RecommendedAction)" }
try { Register-ModelSource -Name other -Uri 'http://127.0.0.1:9/c.json' -ErrorAction Stop } catch { "register=$($_.FullyQualifiedErrorId)" }
"still=$((Get-LibraryModel stories).Status)"
'@
        $r.Output + $r.Error | Should -Not -Match 'SqliteException|SQLite Error'
        $r.Output | Should -Match 'status=Local'
        $r.Output | Should -Match 'tasks=0'
        $r.Output | Should -Match 'arch=llama'
        $r.Output | Should -Match 'remove=RegistryUnavailable,'
        $r.Output | Should -Match 'message=.*read-only'
        $r.Output | Should -Match 'action=.*Set-ModelLibraryConfiguration -ModelsDirectory'
        $r.Output | Should -Match 'register=RegistryUnavailable,'
        $r.Output | Should -Match 'still=Local'
    }
}

Describe 'A full disk under registry.db' -Tag State {
    It 'is InsufficientDiskSpace with the real free space, never a raw SQLite error' -Skip:(-not $CanFreeze) {
        # A 2 MiB tmpfs stands in for a full disk: the library is created on it, then a filler takes what is left.
        $mount = Mount-SmallDisk 2m
        if (-not $mount) { Set-ItResult -Skipped -Because 'tmpfs cannot be mounted here'; return }
        try {
            Set-ModelLibraryConfiguration -ModelsDirectory $mount
            Get-ModelSource | Out-Null # creates registry.db
            $filler = [IO.File]::OpenWrite((Join-Path $mount 'filler'))
            try { $buffer = [byte[]]::new(64KB); while ($true) { $filler.Write($buffer, 0, $buffer.Length); $filler.Flush() } } catch { } finally { $filler.Dispose() }
            $long = 'x' * 200
            $errors = foreach ($i in 1..40) {
                try { Register-ModelSource -Name "s$i" -Uri "http://127.0.0.1:9/$long/$i.json" -ErrorAction Stop | Out-Null } catch { $_; break }
            }
            $errors | Should -Not -BeNullOrEmpty
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'InsufficientDiskSpace,*'
            $errors[0].Exception.Message | Should -Match 'registry'
            $errors[0].Exception.Message | Should -Not -Match 'database or disk is full'
            $errors[0].Exception.AvailableSpace | Should -BeLessThan 64KB
        }
        finally {
            Set-ModelLibraryConfiguration -ModelsDirectory (New-TestLibrary)
            & umount $mount 2>$null
        }
    }
}

Describe 'A full disk under a download of unknown size' -Tag State {
    It 'fails with InsufficientDiskSpace and gives the space back at once: a stream of unknown size cannot be resumed' -Skip:(-not $CanFreeze) {
        # A 72 MiB tmpfs holds the library (the preflight keeps a 64 MiB margin free); the server streams 128 MiB
        # chunked, with no length and no ranges, so no preflight can refuse it and the disk fills in the middle of the body.
        $mount = Mount-SmallDisk 72m
        if (-not $mount) { Set-ItResult -Skipped -Because 'tmpfs cannot be mounted here'; return }
        try {
            Set-ModelLibraryConfiguration -ModelsDirectory $mount
            $path = Join-Path $mount 'catalog.json'
            @{ models = @(@{ id = 'stream'; name = 'stream'; provider = 'llama-cpp'; filename = 'stream.gguf'
                        download_url = "$($Server.Url)/gen/128m/5?noLength=1&noRanges=1" }) } | ConvertTo-Json -Depth 6 | Set-Content $path
            Register-ModelSource -Name full -Uri $path | Out-Null
            Start-ModelDownload stream -ErrorVariable e -ErrorAction SilentlyContinue | Out-Null
            $e | Should -Not -BeNullOrEmpty
            $e[0].FullyQualifiedErrorId | Should -BeLike 'InsufficientDiskSpace,*'
            $e[0].Exception.AvailableSpace | Should -BeLessThan 8MB -Because 'the disk filled during the transfer (the preflight saw 72 MiB free)'
            # Nothing of the stream is left behind: the files on the disk are the library's own few kilobytes.
            $held = (Get-ChildItem $mount -Recurse -File -Force | Measure-Object Length -Sum).Sum
            $held | Should -BeLessThan 512KB
            (Get-LibraryModel stream).Status | Should -Not -Be 'Local'
        }
        finally {
            Set-ModelLibraryConfiguration -ModelsDirectory (New-TestLibrary)
            & umount $mount 2>$null
        }
    }
}

Describe 'Files that are not what they seem' -Tag State {
    BeforeEach {
        $script:lib = New-TestLibrary
        $script:outside = Join-Path ([IO.Path]::GetTempPath()) ("ml-out-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
        New-Item -ItemType Directory $outside | Out-Null
    }

    It 'refuses a FIFO at once, on Import-LibraryModel and Get-ModelMetadata -Path' -Skip:(-not ($IsLinux -or $IsMacOS)) {
        $fifo = Join-Path $outside 'pipe.gguf'
        & mkfifo $fifo
        # In a pwsh of its own, so that a module that opens the FIFO (and blocks for good) fails this test by a
        # timeout instead of hanging the suite.
        $victim = Start-Victim $lib @"
try { Import-LibraryModel -Path '$fifo' -ErrorAction Stop } catch { "import=`$(`$_.FullyQualifiedErrorId) `$(`$_.Exception.Message)" }
try { Get-ModelMetadata -Path '$fifo' -ErrorAction Stop } catch { "metadata=`$(`$_.FullyQualifiedErrorId) `$(`$_.Exception.Message)" }
"@
        $ended = $victim.Process.WaitForExit(30000)
        if (-not $ended) { $victim.Process.Kill($true); $victim.Process.WaitForExit() }
        $ended | Should -BeTrue -Because 'a FIFO must be refused, not opened'
        $out = $victim.Out.Result
        $out | Should -Match 'import=InvalidModelFile,.*FIFO'
        $out | Should -Match 'metadata=InvalidModelFile,.*FIFO'
        Get-ChildItem (Join-Path $lib 'llama-cpp') -Recurse -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'follows symbolic links for size, hash and format: import, -InPlace and provider folders' -Skip:(-not ($IsLinux -or $IsMacOS)) {
        $real = Join-Path $outside 'real.gguf'
        Copy-Item $Stories $real
        $size = (Get-Item $real).Length
        $link = Join-Path $outside 'link.gguf'
        New-Item -ItemType SymbolicLink -Path $link -Target $real | Out-Null

        $copied = Import-LibraryModel -Path $link -Id copied
        $copied.DiskUsage | Should -Be $size
        $copied.Format | Should -Be 'gguf'
        $copied.Checksum | Should -Be 'sha256:270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d'

        $inPlace = Import-LibraryModel -Path $link -Id inplace -InPlace
        $inPlace.DiskUsage | Should -Be $size
        $inPlace.Size | Should -Be $size
        (Test-LibraryModel inplace -NoQuarantine).Passed | Should -BeTrue

        New-Item -ItemType Directory (Join-Path $lib 'llama-cpp/linked') -Force | Out-Null
        New-Item -ItemType SymbolicLink -Path (Join-Path $lib 'llama-cpp/linked/model.gguf') -Target $real | Out-Null
        $found = Get-LibraryModel linked
        $found.Status | Should -Be 'Local'
        $found.DiskUsage | Should -Be $size
    }

    It 'unregisters a model whose file is a link without touching what it leads to, and names folders plainly' -Skip:(-not ($IsLinux -or $IsMacOS)) {
        $real = Join-Path $outside 'precious.gguf'
        Copy-Item $Stories $real
        New-Item -ItemType Directory (Join-Path $lib 'llama-cpp') -Force | Out-Null
        New-Item -ItemType SymbolicLink -Path (Join-Path $lib 'llama-cpp/precious.gguf') -Target $real | Out-Null
        (Get-LibraryModel precious).Status | Should -Be 'Local'

        Remove-LibraryModel precious -Confirm:$false -WarningVariable w -WarningAction SilentlyContinue
        Get-LibraryModel precious -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Test-Path $real | Should -BeTrue
        (Get-FileHash $real).Hash | Should -Be (Get-FileHash $Stories).Hash
        Test-Path (Join-Path $lib 'llama-cpp/precious.gguf') | Should -BeFalse
        "$w" | Should -Match ([regex]::Escape($real))

        # A link whose own folder leads out of the library is still refused, its message naming each folder.
        New-Item -ItemType SymbolicLink -Path (Join-Path $lib 'llama-cpp/elsewhere') -Target $outside | Out-Null
        Remove-LibraryModel elsewhere -Confirm:$false -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'UnsafeModelContent,*'
        $e[0].Exception.Message | Should -Match "library folders \('.+', '.+', '.+'\)"
        Test-Path $real | Should -BeTrue
    }

    It 'lists a file that fails its header check as Error with the reason, not Local' {
        New-Item -ItemType Directory (Join-Path $lib 'llama-cpp/junk') -Force | Out-Null
        Set-Content (Join-Path $lib 'llama-cpp/junk/junk.gguf') 'this is a text file'
        Copy-Item $Stories (Join-Path $lib 'llama-cpp/good.gguf')
        $junk = Get-LibraryModel junk
        $junk.Status | Should -Be 'Error'
        $junk.StatusMessage | Should -Match 'GGUF header'
        (Get-LibraryModel good).Status | Should -Be 'Local'
        Get-LibraryModel -Status Local | Where-Object Id -eq junk | Should -BeNullOrEmpty
    }
}

Describe 'Unlucky ids and provider names' -Tag State {
    It 'refuses control characters, separators and .. in ids and provider names, warning once per read, escaped and cut short' {
        $rtl = "evil$([char]0x202E)fdp.exe"
        $long = 'a' * 10000
        $lib = Use-Catalog @(
            @{ id = "new`nline"; provider = 'llama-cpp'; download_url = 'http://127.0.0.1:9/a.gguf' }
            @{ id = 'dots..up'; provider = 'llama-cpp'; download_url = 'http://127.0.0.1:9/b.gguf' }
            @{ id = 'sneaky'; provider = '../../../tmp/x'; download_url = 'http://127.0.0.1:9/c.gguf' }
            @{ id = $rtl; provider = 'llama-cpp'; download_url = 'http://127.0.0.1:9/d.gguf' }
            @{ id = $long; provider = 'llama-cpp'; download_url = 'http://127.0.0.1:9/e.gguf' }
            @{ id = 'fine'; provider = 'llama-cpp'; download_url = 'http://127.0.0.1:9/f.gguf' }
        )
        $models = Get-LibraryModel -WarningVariable w -WarningAction SilentlyContinue
        $models.Id | Should -Contain 'fine'
        $models.Id | Should -Not -Contain 'sneaky'
        $models | Where-Object { $_.Id -match "`n|\.\." } | Should -BeNullOrEmpty
        $w.Count | Should -Be 5
        ($w | Where-Object { "$_" -match 'sneaky' }) | Should -Match 'provider'
        "$w" | Should -Not -Match ([char]0x202E)
        "$w" | Should -Match '\\u\{202E\}'
        "$w" | Should -Match '\\u\{000A\}'
        ($w | ForEach-Object { "$_".Length } | Measure-Object -Maximum).Maximum | Should -BeLessThan 400
        "$w" | Should -Match '10000 characters'

        # The next listing reads the cached catalog: it has said all this already.
        Get-LibraryModel -WarningVariable again -WarningAction SilentlyContinue | Out-Null
        $again | Should -BeNullOrEmpty

        Test-Path (Join-Path $lib 'tmp') | Should -BeFalse
        Get-ChildItem $lib -Recurse -Directory | Where-Object Name -match "`n" | Should -BeNullOrEmpty
    }

    It 'refuses such ids and providers on Import-LibraryModel with a clear error' {
        $lib = New-TestLibrary
        { Import-LibraryModel -Path $Stories -Id "bad`nid" -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidModelId,*'
        { Import-LibraryModel -Path $Stories -Id 'up..dir' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidModelId,*'
        { Import-LibraryModel -Path $Stories -Provider '../../tmp/x' -ErrorAction Stop } | Should -Throw -ExpectedMessage '*not a valid provider name*'
        Get-LibraryModel -Status Local | Should -BeNullOrEmpty
    }
}

Describe 'Default views' -Tag State {
    It 'show whole ids, whole task ids and whole statuses, and a failing check first' {
        $id = 'llama-3.2-1b-instruct-q4_k_m-bartowski-long-name-edition'
        $lib = New-TestLibrary
        Import-LibraryModel -Path $Stories -Id $id | Out-Null
        $table = Get-LibraryModel $id | Out-String -Width 250
        $table | Should -Match ([regex]::Escape($id))

        $task = [ModelLibrary.DownloadTask]@{ TaskId = '0123456789abcdef0123456789abcdef'; ModelId = $id; Status = 'Downloading'; Progress = 0.2 }
        $tasks = $task | Out-String -Width 250
        $tasks | Should -Match '0123456789abcdef0123456789abcdef'
        $tasks | Should -Match ([regex]::Escape($id))
        # In a console as narrow as 80 columns the task id still shows whole: it comes first.
        ($task | Out-String -Width 80) | Should -Match '0123456789abcdef0123456789abcdef'

        # Make the file fail its checksum: Test-LibraryModel's view shows the failing check first.
        $path = (Get-LibraryModel $id).LocalPath
        $bytes = [IO.File]::ReadAllBytes($path); $bytes[-1] = $bytes[-1] -bxor 0xFF; [IO.File]::WriteAllBytes($path, $bytes)
        $result = Test-LibraryModel $id -NoQuarantine -ErrorAction SilentlyContinue
        ($result.Checks | Where-Object Outcome -eq 'Failed') | Should -Not -BeNullOrEmpty
        $failed = ($result.Checks | Where-Object Outcome -eq 'Failed')[0].Name
        $view = ($result | Out-String -Width 250) -split "`n" | Where-Object { $_ -match [regex]::Escape($id) }
        $view | Should -Match "\s$($failed):Failed"
        ($view -replace '^.*?(\w+):(\w+).*$', '$1') | Should -Be $failed
    }
}

Describe 'The DSC class resource' -Tag State {
    It 'is in desired state for Ensure = Absent on an id no catalog lists, and Set changes nothing' {
        $lib = New-TestLibrary
        $resource = & (Get-Module ModelLibrary) { [LibraryModel]::new() }
        $resource.Id = 'no-catalog-lists-this'
        $resource.Ensure = 'Absent'
        $resource.Test() | Should -BeTrue
        $resource.Get().Ensure | Should -Be 'Absent'
        { $resource.Set() } | Should -Not -Throw
        # Present on such an id is still an error.
        $resource.Ensure = 'Present'
        { $resource.Get() } | Should -Throw -ExpectedMessage '*no-catalog-lists-this*'
    }
}
