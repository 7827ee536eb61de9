# What the download benchmarks (Invoke-NginxBenchmark.ps1, Invoke-DownloadBenchmark.ps1) share: the served file, timing
# a tool or the module, rounds in rotated order, medians. Linux only (dd, sync, sha256sum, /usr/bin/time, /proc).

Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestHelpers.psm1')

function New-BenchFile {
    <# -SizeMB of random bytes behind an empty GGUF v3 header (so the library's format check takes it for the model it claims to be), readable by all. #>
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [int] $SizeMB)
    & dd if=/dev/urandom of=$Path bs=1M count=$SizeMB status=none
    # Magic, version 3, no tensors, no metadata.
    $header = [byte[]]@(0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0) + [byte[]]::new(16)
    $stream = [IO.File]::OpenWrite($Path)
    try { $stream.Write($header, 0, $header.Length) } finally { $stream.Dispose() }
    & chmod 644 $Path
    [pscustomobject]@{ Name = Split-Path $Path -Leaf; Path = $Path; Bytes = (Get-Item $Path).Length; Sha = ((& sha256sum $Path) -split '\s+')[0] }
}

function Measure-Tool {
    <# Runs a command under /usr/bin/time: wall seconds and peak resident memory (MB); -Output is what the run wrote. #>
    param([Parameter(Mandatory)] [string] $Tool, [string[]] $Arguments, [string] $Output, [string] $WorkDirectory, [scriptblock] $After)
    $timeFile = Join-Path $WorkDirectory 'time.txt'
    $sw = [Diagnostics.Stopwatch]::StartNew()
    & /usr/bin/time -f '%M' -o $timeFile $Tool @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Tool failed" }
    if ($After) { & $After }
    $sw.Stop()
    [pscustomobject]@{ Seconds = $sw.Elapsed.TotalSeconds; PeakMB = [long](Get-Content $timeFile | Select-Object -Last 1) / 1024; Output = $Output }
}

function Measure-Curl {
    <# curl -sS -o; with -Sha, followed by sha256sum of what it wrote (timed too), which must match. #>
    param([Parameter(Mandatory)] [string] $Url, [Parameter(Mandatory)] [string] $WorkDirectory, [string] $Sha)
    $target = Join-Path $WorkDirectory ("curl-" + [guid]::NewGuid().ToString('n').Substring(0, 6) + '.out')
    $after = if ($Sha) { { if (((& sha256sum $target) -split '\s+')[0] -ne $Sha) { throw 'curl+sha256sum: checksum differs' } }.GetNewClosure() }
    Measure-Tool curl @('-sS', '-o', $target, $Url) $target $WorkDirectory $after
}

function Measure-Aria2 {
    param([Parameter(Mandatory)] [string] $Url, [Parameter(Mandatory)] [string] $WorkDirectory)
    $dir = Join-Path $WorkDirectory ("aria2-" + [guid]::NewGuid().ToString('n').Substring(0, 6))
    New-Item -ItemType Directory $dir | Out-Null
    Measure-Tool aria2c @('-x16', '-s16', '-k1M', '-q', '-d', $dir, '-o', 'file.out', $Url) $dir $WorkDirectory
}

function Measure-Module {
    <#
    Start-ModelDownload of -Url in a fresh pwsh and a fresh library whose catalog states the file's checksum, so the
    file is verified before it is Local. The timing covers the cmdlet in a warm session (catalog read once before),
    not pwsh's start; the peak is VmHWM of the whole pwsh process.
    #>
    param([Parameter(Mandatory)] [string] $Url, [Parameter(Mandatory)] $File, [Parameter(Mandatory)] [string] $ModulePath, [Parameter(Mandatory)] [string] $WorkDirectory)
    $lib = Join-Path $WorkDirectory ("lib-" + [guid]::NewGuid().ToString('n').Substring(0, 6))
    New-Item -ItemType Directory $lib | Out-Null
    $catalog = Join-Path $lib 'catalog.json'
    @{ models = @(@{ id = 'bench'; provider = 'llama-cpp'; download_url = $Url; checksum = "sha256:$($File.Sha)"; size = $File.Bytes; filename = 'bench.gguf' }) } |
        ConvertTo-Json -Depth 4 | Set-Content $catalog
    $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$ModulePath'
Register-ModelSource -Name bench -Uri '$catalog' | Out-Null
`$null = Get-LibraryModel bench
`$sw = [Diagnostics.Stopwatch]::StartNew()
`$task = Start-ModelDownload bench -ProgressAction SilentlyContinue
`$sw.Stop()
if (`$task.Status -ne 'Completed' -or `$task.Checksum -ne 'sha256:$($File.Sha)') { throw "download not verified: `$(`$task.Status)" }
`$hwm = (Select-String -Path /proc/`$PID/status -Pattern '^VmHWM:\s+(\d+)').Matches[0].Groups[1].Value
"RESULT `$(`$sw.Elapsed.TotalSeconds) `$hwm"
"@
    $r = Invoke-ChildPwsh -NoImport -Script $script -Environment @{ MODELS_DIR = $lib }
    if ($r.Output -notmatch 'RESULT (\S+) (\d+)') { throw "module run failed: $($r.Output) $($r.Error)" }
    [pscustomobject]@{ Seconds = [double]$Matches[1]; PeakMB = [long]$Matches[2] / 1024; Output = $lib }
}

function Get-Median([double[]] $Values) {
    $sorted = @($Values | Sort-Object)
    if ($sorted.Count % 2) { $sorted[($sorted.Count - 1) / 2] } else { ($sorted[$sorted.Count / 2 - 1] + $sorted[$sorted.Count / 2]) / 2 }
}

function Invoke-Rounds {
    <#
    Runs each contender (@{ Name; Run }) once per round, -Repeat rounds, who goes first rotating each round; returns
    their results by name. `sync` before each run, and the previous run's output is deleted only then, right before
    the next run: runs after a pause were up to 3x slower, most likely because this VM hands memory that stays free
    for a few seconds back to its host (virtio-balloon free page reporting) and whoever touches it next pays the
    host's page faults. Deleting just before each run gives every contender the same freshly freed memory, and no
    contender always pays for the writeback of the previous one's file.
    #>
    param([Parameter(Mandatory)] [hashtable[]] $Contenders, [Parameter(Mandatory)] [int] $Repeat, [string] $Previous)
    $runs = @{}
    foreach ($c in $Contenders) { $runs[$c.Name] = @() }
    foreach ($i in 1..$Repeat) {
        Write-Host "  round $i of $Repeat"
        foreach ($k in 0..($Contenders.Count - 1)) {
            $c = $Contenders[($i + $k) % $Contenders.Count]
            & sync
            if ($Previous) { Remove-Item $Previous -Recurse -Force }
            $result = & $c.Run
            Write-Host ("    {0}: {1:0.00} s, {2:0} MB" -f $c.Name, $result.Seconds, $result.PeakMB)
            $runs[$c.Name] += $result
            $Previous = $result.Output
        }
    }
    if ($Previous) { Remove-Item $Previous -Recurse -Force }
    $runs
}

function Get-Summary {
    <# A contender's median time, its largest peak memory, and every run's time. #>
    param([Parameter(Mandatory)] $Runs, [Parameter(Mandatory)] [string] $Name)
    [pscustomobject]@{
        Seconds = Get-Median ($Runs[$Name].Seconds)
        PeakMB  = ($Runs[$Name].PeakMB | Measure-Object -Maximum).Maximum
        All     = ($Runs[$Name].Seconds | ForEach-Object { '{0:0.00}' -f $_ }) -join ', '
    }
}

function Get-PerRoundRatio {
    <# a / b per round, as text. #>
    param([Parameter(Mandatory)] $Runs, [Parameter(Mandatory)] [string] $A, [Parameter(Mandatory)] [string] $B)
    ((0..($Runs[$A].Count - 1)) | ForEach-Object { '{0:0.00}' -f ($Runs[$A][$_].Seconds / $Runs[$B][$_].Seconds) }) -join ', '
}

function Get-MachineText {
    <# Cores, CPU model and memory, for the "Last run" line. #>
    $cpu = (Get-Content /proc/cpuinfo | Select-String '^model name' | Select-Object -First 1).Line -replace '^model name\s*:\s*', ''
    "$([Environment]::ProcessorCount) cores ($cpu), $((Get-Content /proc/meminfo -TotalCount 1) -replace '\s+', ' ')"
}

function Assert-BenchTool {
    <# Throws, saying how to install, when a tool the benchmark needs is missing. #>
    param([Parameter(Mandatory)] [string[]] $Name, [string] $Install)
    foreach ($tool in $Name) {
        if (-not (Get-Command $tool -ErrorAction SilentlyContinue)) { throw "The benchmark needs $tool.$(if ($Install) { " $Install" })" }
    }
}

Export-ModuleMember -Function New-BenchFile, Measure-Tool, Measure-Curl, Measure-Aria2, Measure-Module, Get-Median, Invoke-Rounds, Get-Summary, Get-PerRoundRatio, Get-MachineText, Assert-BenchTool
