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
    dotnet pwsh ./build.ps1 Build; dotnet pwsh -File bench/Invoke-DownloadBenchmark.ps1 -ModulePath out/ModelLibrary/ModelLibrary.psd1 -OutFile /tmp/kestrel.md
    (build.ps1 Bench runs bench/Invoke-NginxBenchmark.ps1; both share bench/Bench.psm1.)
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [int] $SizeMB = 2048,
    [int] $Repeat = 7,
    [string] $OutFile = (Join-Path $PSScriptRoot '../docs/benchmarks.md')
)

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'Bench.psm1') -Force
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestHelpers.psm1') -Force
$ModulePath = (Resolve-Path $ModulePath).Path
Assert-BenchTool 'curl', 'sha256sum', '/usr/bin/time'

$work = Join-Path ([IO.Path]::GetTempPath()) ("ml-bench-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
$served = Join-Path $work 'served'
New-Item -ItemType Directory $served | Out-Null
Write-Host "Writing $SizeMB MiB of random bytes to $served"
$file = New-BenchFile (Join-Path $served 'bench.gguf.bin') $SizeMB
$server = Start-TestServer -Root $served
$url = "$($server.Url)/files/bench.gguf.bin"
Write-Host "Serving $url"

try {
    # Warm the page cache so every contender reads the served file from memory.
    $warm = (Measure-Curl $url $work).Output
    $runs = Invoke-Rounds -Repeat $Repeat -Previous $warm @(
        @{ Name = 'curl'; Run = { Measure-Curl $url $work } }
        @{ Name = 'curl+sha256sum'; Run = { Measure-Curl $url $work -Sha $file.Sha } }
        @{ Name = 'module'; Run = { Measure-Module $url $file $ModulePath $work } }
    )
}
finally {
    $server | Stop-TestServer
    Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
}

$bytes = $file.Bytes
$m = Get-Summary $runs 'module'; $c = Get-Summary $runs 'curl'; $cs = Get-Summary $runs 'curl+sha256sum'
$lines = @(
    '# Benchmarks'
    ''
    'Download of one file from the loopback test server (`tests/ModelLibrary.TestServer`, Kestrel on 127.0.0.1),'
    'the same file and server for every contender, in one run. `Start-ModelDownload` verifies the SHA-256 against'
    'the catalog before the model becomes Local; `curl -o` alone does not verify anything.'
    ''
    'Reproduce (from the repository root):'
    ''
    '    dotnet tool restore && dotnet pwsh ./build.ps1 Build'
    '    dotnet pwsh -File bench/Invoke-DownloadBenchmark.ps1 -ModulePath out/ModelLibrary/ModelLibrary.psd1'
    ''
    "Last run: $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC, $([math]::Round($bytes / 1GB, 2)) GiB, $Repeat rounds (medians; order rotated), $(Get-MachineText)."
    ''
    '| contender | median wall time (s) | all runs (s) | throughput | peak memory (RSS) |'
    '|---|---|---|---|---|'
    ('| curl -o | {0:0.00} | {1} | {2:0} MB/s | {3:0} MB |' -f $c.Seconds, $c.All, ($bytes / 1MB / $c.Seconds), $c.PeakMB)
    ('| curl -o && sha256sum | {0:0.00} | {1} | {2:0} MB/s | {3:0} MB (curl) |' -f $cs.Seconds, $cs.All, ($bytes / 1MB / $cs.Seconds), $cs.PeakMB)
    ('| Start-ModelDownload (verified) | {0:0.00} | {1} | {2:0} MB/s | {3:0} MB (whole pwsh process) |' -f $m.Seconds, $m.All, ($bytes / 1MB / $m.Seconds), $m.PeakMB)
    ''
    ('Ratios: Start-ModelDownload / curl -o = **{0:0.00}** (target at most 1.1); Start-ModelDownload / (curl -o && sha256sum) = **{1:0.00}** (target below 1).' -f ($m.Seconds / $c.Seconds), ($m.Seconds / $cs.Seconds))
    ('Per round, Start-ModelDownload / curl -o: {0}.' -f (Get-PerRoundRatio $runs 'module' 'curl'))
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
