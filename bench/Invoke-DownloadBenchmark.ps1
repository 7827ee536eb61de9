<#
.SYNOPSIS
    Download benchmark: Start-ModelDownload (including SHA-256 verification) against curl -o alone and against
    curl -o followed by sha256sum, on the same file from the same loopback server, in one run.
.DESCRIPTION
    Serves a file of -SizeMB (default 2048, i.e. 2 GiB) of random bytes from the loopback test server and, for
    -Repeat rounds, times:
      curl      curl -sS -o <file> <url>
      curl+sha  curl -sS -o <file> <url> && sha256sum <file>
      module    Start-ModelDownload in a fresh pwsh (the timing covers the cmdlet, not pwsh start-up), with the
                file's checksum in the catalog, so the download is verified before it becomes Local
    Peak memory is the maximum resident set (VmHWM) of the process: the pwsh process for the module,
    /usr/bin/time's figure for curl. The order of the contenders rotates each round and `sync` runs before each
    one. Medians go to docs/benchmarks.md.
    Not a test: nothing here passes or fails. Needs Linux with curl, sha256sum and /usr/bin/time.
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 Bench
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [int] $SizeMB = 2048,
    [int] $Repeat = 7,
    [string] $OutFile = (Join-Path $PSScriptRoot '../docs/benchmarks.md')
)

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestHelpers.psm1') -Force
foreach ($tool in 'curl', 'sha256sum', '/usr/bin/time') {
    if (-not (Get-Command $tool -ErrorAction SilentlyContinue)) { throw "The benchmark needs $tool." }
}

$work = Join-Path ([IO.Path]::GetTempPath()) ("ml-bench-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
$served = Join-Path $work 'served'
New-Item -ItemType Directory $served | Out-Null
$file = Join-Path $served 'bench.gguf.bin'
Write-Host "Writing $SizeMB MiB of random bytes to $file"
& dd if=/dev/urandom of=$file bs=1M count=$SizeMB status=none
# An empty GGUF v3 header (magic, version 3, no tensors, no metadata) in front, so that the library's format check
# takes the file for the GGUF model it claims to be, as it would a real one.
$header = [byte[]]@(0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0) + [byte[]]::new(16)
$stream = [IO.File]::OpenWrite($file)
try { $stream.Write($header, 0, $header.Length) } finally { $stream.Dispose() }
$sha = ((& sha256sum $file) -split '\s+')[0]
$server = Start-TestServer -Root $served
$url = "$($server.Url)/files/bench.gguf.bin"
Write-Host "Serving $url"

function Measure-Curl([switch] $Hash) {
    $target = Join-Path $work ("curl-" + [guid]::NewGuid().ToString('n').Substring(0, 6) + '.out')
    $timeFile = Join-Path $work 'time.txt'
    $sw = [Diagnostics.Stopwatch]::StartNew()
    & /usr/bin/time -f '%M' -o $timeFile curl -sS -o $target $url
    if ($LASTEXITCODE -ne 0) { throw 'curl failed' }
    if ($Hash) {
        $got = ((& sha256sum $target) -split '\s+')[0]
        if ($got -ne $sha) { throw 'curl+sha256sum: checksum differs' }
    }
    $sw.Stop()
    $peakKb = [long](Get-Content $timeFile | Select-Object -Last 1)
    [pscustomobject]@{ Seconds = $sw.Elapsed.TotalSeconds; PeakMB = $peakKb / 1024; Output = $target }
}

function Measure-Module {
    $lib = Join-Path $work ("lib-" + [guid]::NewGuid().ToString('n').Substring(0, 6))
    New-Item -ItemType Directory $lib | Out-Null
    $catalog = Join-Path $work 'catalog.json'
    @{ models = @(@{ id = 'bench'; provider = 'llama-cpp'; download_url = $url; checksum = "sha256:$sha"; size = (Get-Item $file).Length; filename = 'bench.gguf' }) } |
        ConvertTo-Json -Depth 4 | Set-Content $catalog
    $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$ModulePath'
Register-ModelSource -Name bench -Uri '$catalog' | Out-Null
`$null = Get-LibraryModel bench
`$sw = [Diagnostics.Stopwatch]::StartNew()
`$task = Start-ModelDownload bench -ProgressAction SilentlyContinue
`$sw.Stop()
if (`$task.Status -ne 'Completed' -or `$task.Checksum -ne 'sha256:$sha') { throw "download not verified: `$(`$task.Status)" }
`$hwm = (Select-String -Path /proc/`$PID/status -Pattern '^VmHWM:\s+(\d+)').Matches[0].Groups[1].Value
"RESULT `$(`$sw.Elapsed.TotalSeconds) `$hwm"
"@
    $r = Invoke-ChildPwsh -NoImport -Script $script -Environment @{ MODELS_DIR = $lib }
    if ($r.Output -notmatch 'RESULT (\S+) (\d+)') { throw "module run failed: $($r.Output) $($r.Error)" }
    [pscustomobject]@{ Seconds = [double]$Matches[1]; PeakMB = [long]$Matches[2] / 1024; Output = $lib }
}

function Get-Median([double[]] $Values) {
    $sorted = $Values | Sort-Object
    $sorted[[int][math]::Floor(($sorted.Count - 1) / 2)]
}

try {
    # Warm the page cache so every contender reads the served file from memory.
    $previous = (Measure-Curl).Output
    $runs = @{ curl = @(); 'curl+sha256sum' = @(); module = @() }
    $contenders = @(
        @{ Name = 'curl'; Run = { Measure-Curl } }
        @{ Name = 'curl+sha256sum'; Run = { Measure-Curl -Hash } }
        @{ Name = 'module'; Run = { Measure-Module } }
    )
    foreach ($i in 1..$Repeat) {
        Write-Host "Round $i of $Repeat"
        # Rotate who goes first, and write back dirty pages before each run, so no contender always pays for the
        # writeback of the previous one's 2 GiB. The previous run's file is deleted only then, right before the
        # next run: runs after a pause were up to 3x slower, most likely because this VM hands memory that stays
        # free for a few seconds back to its host (virtio-balloon free page reporting) and whoever touches it next
        # pays the host's page faults. Deleting just before each run gives every contender the same freshly freed
        # memory.
        foreach ($k in 0..2) {
            $c = $contenders[($i + $k) % 3]
            & sync
            Remove-Item $previous -Recurse -Force
            $result = & $c.Run
            $runs[$c.Name] += $result
            $previous = $result.Output
        }
    }
}
finally {
    $server | Stop-TestServer
    Remove-Item $previous -Recurse -Force -ErrorAction SilentlyContinue
    $bytes = (Get-Item $file).Length
    Remove-Item $work -Recurse -Force
}

$median = @{}
foreach ($k in $runs.Keys) {
    $median[$k] = [pscustomobject]@{
        Seconds = Get-Median ($runs[$k].Seconds)
        PeakMB  = Get-Median ($runs[$k].PeakMB)
        All     = ($runs[$k].Seconds | ForEach-Object { '{0:0.00}' -f $_ }) -join ', '
    }
}
$m = $median['module']; $c = $median['curl']; $cs = $median['curl+sha256sum']
$cpu = (Get-Content /proc/cpuinfo | Select-String '^model name' | Select-Object -First 1).Line -replace '^model name\s*:\s*', ''
$lines = @(
    '# Benchmarks'
    ''
    'Download of one file from the loopback test server (`tests/ModelLibrary.TestServer`, Kestrel on 127.0.0.1),'
    'the same file and server for every contender, in one run. `Start-ModelDownload` verifies the SHA-256 against'
    'the catalog before the model becomes Local; `curl -o` alone does not verify anything.'
    ''
    'Reproduce (from the repository root):'
    ''
    '    dotnet tool restore && dotnet pwsh ./build.ps1 Bench'
    ''
    "Last run: $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC, $([math]::Round($bytes / 1GB, 2)) GiB, $Repeat rounds (medians; order rotated), $([Environment]::ProcessorCount) cores ($cpu), $((Get-Content /proc/meminfo -TotalCount 1) -replace '\s+', ' ')."
    ''
    '| contender | median wall time (s) | all runs (s) | throughput | peak memory (RSS) |'
    '|---|---|---|---|---|'
    ('| curl -o | {0:0.00} | {1} | {2:0} MB/s | {3:0} MB |' -f $c.Seconds, $c.All, ($bytes / 1MB / $c.Seconds), $c.PeakMB)
    ('| curl -o && sha256sum | {0:0.00} | {1} | {2:0} MB/s | {3:0} MB (curl) |' -f $cs.Seconds, $cs.All, ($bytes / 1MB / $cs.Seconds), $cs.PeakMB)
    ('| Start-ModelDownload (verified) | {0:0.00} | {1} | {2:0} MB/s | {3:0} MB (whole pwsh process) |' -f $m.Seconds, $m.All, ($bytes / 1MB / $m.Seconds), $m.PeakMB)
    ''
    ('Ratios: Start-ModelDownload / curl -o = **{0:0.00}** (target at most 1.1); Start-ModelDownload / (curl -o && sha256sum) = **{1:0.00}** (target below 1).' -f ($m.Seconds / $c.Seconds), ($m.Seconds / $cs.Seconds))
    ('Per round, Start-ModelDownload / curl -o: {0}.' -f (($(0..($Repeat - 1)) | ForEach-Object { '{0:0.00}' -f ($runs['module'][$_].Seconds / $runs['curl'][$_].Seconds) }) -join ', '))
    ''
    'How it is measured: `sync` before each run, then the previous run''s file is deleted, right before the next run.'
    'Runs that followed a pause were up to 3x slower, most likely because this VM hands memory that stays free'
    'for a few seconds back to its host (virtio-balloon free page reporting is on) and whoever touches it next'
    'pays the host''s page faults. Deleting just before each run gives every'
    'contender the same freshly freed memory. The module''s timing covers the cmdlet call in a warm pwsh session'
    '(catalog read once before), not the start of pwsh.'
    ''
    'Notes: on loopback, the client, the server and the hash share the same two cores. The engine stays on one'
    'connection when the first one is fast (as here) and adds ranged connections only on slower links; the hash runs'
    'on another thread while the transfer goes on, from the receive buffers the connection hands over (reading back'
    'from the file only what arrived out of order or while the hash lagged), which is where the module gains over'
    'curl followed by sha256sum. curl -o writes 8 KiB at a time; the module receives up to 1 MiB at once and writes'
    'it in 128 KiB slices (larger writes made ext4 on this kernel allocate large page-cache folios, which was 1.5x'
    'slower here; see DownloadOptions.WriteSize). The test server reads the file straight into the response pipe''s'
    'memory, so serving costs the shared cores one copy fewer.'
    'Peak memory of the pwsh process includes the PowerShell runtime itself.'
)
$lines | Set-Content $OutFile
$lines | ForEach-Object { Write-Host $_ }
