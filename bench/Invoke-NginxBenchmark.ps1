<#
.SYNOPSIS
    Download benchmark against nginx: a capped link (limit_rate per connection, as CDNs cap each connection) with
    aria2c -x16 -s16 -k1M, curl -o and Start-ModelDownload, and an uncapped loopback link with curl -o and
    Start-ModelDownload, all in one run.
.DESCRIPTION
    Starts nginx (Debian's nginx-light) itself on 127.0.0.1 with a configuration it writes to a temporary folder
    (sendfile on; /capped/ with `limit_rate -RateLimit`, /open/ without a limit) and serves one file of random
    bytes behind an empty GGUF header. Every contender fetches the same file; each round runs the contenders in a
    rotated order with `sync` before each run, and the previous run's file is deleted right before the next one.
      aria2c     aria2c -x16 -s16 -k1M (capped only)
      curl       curl -sS -o
      module     Start-ModelDownload with default settings in a fresh pwsh (the timing covers the cmdlet, not pwsh
                 start-up), with the file's checksum in the catalog, so the file is verified before it is Local
    Peak memory is the maximum resident set: /usr/bin/time's figure for aria2c and curl, VmHWM of the whole pwsh
    process for the module. Medians and ratios go to docs/benchmarks.md. Not a test: nothing passes or fails.
    Needs Linux with nginx, aria2c, curl and /usr/bin/time:
        apt-get update && apt-get install -y nginx-light aria2
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 Bench
.EXAMPLE
    dotnet pwsh -File bench/Invoke-NginxBenchmark.ps1 -ModulePath out/ModelLibrary/ModelLibrary.psd1 -CappedSizeMB 64 -UncappedSizeMB 128 -Repeat 1
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [int] $CappedSizeMB = 256,
    [int] $UncappedSizeMB = 1024,
    [int] $Repeat = 5,
    [string] $RateLimit = '8m',
    [string] $Conditions = '',
    [string] $OutFile = (Join-Path $PSScriptRoot '../docs/benchmarks.md')
)

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'Bench.psm1') -Force
$ModulePath = (Resolve-Path $ModulePath).Path
$nginx = @('nginx', '/usr/sbin/nginx') | Where-Object { Get-Command $_ -ErrorAction SilentlyContinue } | Select-Object -First 1
if (-not $nginx) { throw 'The benchmark needs nginx: apt-get update && apt-get install -y nginx-light aria2' }
Assert-BenchTool 'aria2c', 'curl', '/usr/bin/time', 'sha256sum' -Install '(apt-get install -y nginx-light aria2)'

# nginx's workers run as another user when started by root: every folder on the way must be world-readable.
$work = Join-Path '/tmp' ("ml-nginx-bench-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
$served = Join-Path $work 'served'
New-Item -ItemType Directory $served | Out-Null
& chmod 755 $work $served

Write-Host "Writing $CappedSizeMB MiB and $UncappedSizeMB MiB of random bytes to $served"
$cappedFile = New-BenchFile (Join-Path $served 'capped.gguf') $CappedSizeMB
$openFile = New-BenchFile (Join-Path $served 'open.gguf') $UncappedSizeMB

$listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
$listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
$conf = Join-Path $work 'nginx.conf'
@"
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/client_body;
    proxy_temp_path $work/proxy;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$port;
        location /capped/ { alias $served/; limit_rate $RateLimit; }
        location /open/ { alias $served/; }
    }
}
"@ | Set-Content $conf
& $nginx -c $conf -p $work
if ($LASTEXITCODE -ne 0) { throw "nginx did not start: $(Get-Content (Join-Path $work 'error.log') -Raw -ErrorAction SilentlyContinue)" }
$base = "http://127.0.0.1:$port"
Write-Host "nginx on $base (limit_rate $RateLimit under /capped/)"

try {
    $cappedUrl = "$base/capped/$($cappedFile.Name)"
    $openUrl = "$base/open/$($openFile.Name)"
    # Warm the page cache so every contender reads the served files from memory.
    foreach ($u in $openUrl, "$base/open/$($cappedFile.Name)") { Remove-Item (Measure-Curl $u $work).Output }
    Write-Host "Capped link ($RateLimit per connection), $CappedSizeMB MiB"
    $capped = Invoke-Rounds -Repeat $Repeat @(
        @{ Name = 'aria2c'; Run = { Measure-Aria2 $cappedUrl $work } }
        @{ Name = 'curl'; Run = { Measure-Curl $cappedUrl $work } }
        @{ Name = 'module'; Run = { Measure-Module $cappedUrl $cappedFile $ModulePath $work } }
    )
    Write-Host "Uncapped loopback, $UncappedSizeMB MiB"
    $open = Invoke-Rounds -Repeat $Repeat @(
        @{ Name = 'curl'; Run = { Measure-Curl $openUrl $work } }
        @{ Name = 'module'; Run = { Measure-Module $openUrl $openFile $ModulePath $work } }
    )
}
finally {
    & $nginx -c $conf -p $work -s stop 2>$null
    Start-Sleep -Milliseconds 300
    Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
}

$ca = Get-Summary $capped 'aria2c'; $cc = Get-Summary $capped 'curl'; $cm = Get-Summary $capped 'module'
$oc = Get-Summary $open 'curl'; $om = Get-Summary $open 'module'
$load = (Get-Content /proc/loadavg) -split ' ' | Select-Object -First 3
$row = { param($label, $s, $bytes, $note) '| {0} | {1:0.00} | {2} | {3:0} MB/s | {4:0} MB{5} |' -f $label, $s.Seconds, $s.All, ($bytes / 1MB / $s.Seconds), $s.PeakMB, $note }
$ratio = { param($a, $b) $a.Seconds / $b.Seconds }
$lines = @(
    '# Benchmarks'
    ''
    'One file served by nginx (Debian''s `nginx-light`, `sendfile on`) on 127.0.0.1, started by the benchmark with a'
    'configuration it writes; every contender fetches the same file in the same run, rounds in rotated order.'
    '`Start-ModelDownload` runs with default settings and verifies the SHA-256 against the catalog before the model'
    'becomes Local; aria2c and curl verify nothing.'
    ''
    'Reproduce (from the repository root; needs `apt-get install -y nginx-light aria2`):'
    ''
    '    dotnet tool restore && dotnet pwsh ./build.ps1 Bench'
    ''
    "Last run: $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC, $Repeat rounds (medians), $(Get-MachineText), load average at the end $($load -join ' ')."
    $(if ($Conditions) { ''; "Conditions: $Conditions" })
    ''
    "## Capped link: ``limit_rate $RateLimit`` per connection, $([math]::Round($cappedFile.Bytes / 1MB)) MiB"
    ''
    '| contender | median wall time (s) | all runs (s) | throughput | peak memory (RSS) |'
    '|---|---|---|---|---|'
    (& $row 'aria2c -x16 -s16 -k1M' $ca $cappedFile.Bytes '')
    (& $row 'curl -o' $cc $cappedFile.Bytes '')
    (& $row 'Start-ModelDownload (verified)' $cm $cappedFile.Bytes ' (whole pwsh process)')
    ''
    ('Ratio Start-ModelDownload / aria2c = **{0:0.00}** (target at most 1.0); per round: {1}.' -f (& $ratio $cm $ca), (Get-PerRoundRatio $capped 'module' 'aria2c'))
    ''
    "## Uncapped loopback, $([math]::Round($openFile.Bytes / 1MB)) MiB"
    ''
    '| contender | median wall time (s) | all runs (s) | throughput | peak memory (RSS) |'
    '|---|---|---|---|---|'
    (& $row 'curl -o' $oc $openFile.Bytes '')
    (& $row 'Start-ModelDownload (verified)' $om $openFile.Bytes ' (whole pwsh process)')
    ''
    ('Ratio Start-ModelDownload / curl -o = **{0:0.00}** (target at most 1.05); per round: {1}.' -f (& $ratio $om $oc), (Get-PerRoundRatio $open 'module' 'curl'))
    ''
    ('Peak memory of the pwsh process (runtime included), largest of all runs: {0:0} MB capped, {1:0} MB uncapped (target below 200 MB).' -f $cm.PeakMB, $om.PeakMB)
    ''
    '## How the engine behaves here'
    ''
    '- Capped: the first connection moves far less than `SingleConnectionRate` (256 MiB/s) in its first 250 ms, so'
    '  the engine adds connections, four times as many each window while the total rate grows with them, up to'
    '  `DownloadConnections` (16, the budget per host shared by all downloads of the process). Connections take'
    '  chunks of the file in file order (file size / 32, between 1 and 32 MiB), so the hash follows close behind;'
    '  when nothing is unclaimed, a connection that runs out of work splits the largest remaining range.'
    '  nginx''s `limit_rate` lets each request send a second''s worth at once before it throttles (its allowance is'
    '  counted from the start of the request), so how many requests a client makes changes what it gets a little.'
    '- Uncapped: the first connection is faster than `SingleConnectionRate`, so it stays alone (more would only'
    '  compete with nginx, the disk and the hash for the same two cores).'
    ''
    'How it is measured: `sync` before each run; the previous run''s file is deleted right before the next run (this'
    'VM hands memory that stays free for a few seconds back to its host, and whoever touches it next pays for it).'
    'The module''s timing covers the cmdlet call in a warm pwsh session (catalog read once before), not pwsh''s start.'
    ''
    'The earlier benchmark against the project''s own Kestrel test server is still there:'
    '`dotnet pwsh -File bench/Invoke-DownloadBenchmark.ps1 -ModulePath out/ModelLibrary/ModelLibrary.psd1 -OutFile <file>`.'
)
$lines | Set-Content $OutFile
$lines | ForEach-Object { Write-Host $_ }
