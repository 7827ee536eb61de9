# Shared helpers for the Pester suites: a fresh library per test, a child pwsh for end-to-end checks.

function New-TestLibrary {
    <# Points this session at an empty library in a new temporary folder and returns the folder. #>
    $dir = Join-Path ([IO.Path]::GetTempPath()) ("ml-test-" + [guid]::NewGuid().ToString('n').Substring(0, 12))
    New-Item -ItemType Directory -Path $dir | Out-Null
    Set-ModelLibraryConfiguration -ModelsDirectory $dir
    $dir
}

function New-PwshStartInfo {
    <#
    A ProcessStartInfo that starts the same pwsh as this one. Run as a dotnet tool, this process is 'dotnet'
    hosting pwsh.dll, so the child is started the same way.
    #>
    param([string[]] $Arguments)
    $process = [Environment]::ProcessPath
    $psi = [Diagnostics.ProcessStartInfo]::new($process)
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') { $psi.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
    foreach ($a in $Arguments) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    $psi
}

function Invoke-ChildPwsh {
    <#
    Runs a script in a new pwsh process (the same pwsh as this one) with the module imported, and returns
    its output lines, stderr included. Extra environment variables go in -Environment.
    #>
    param(
        [Parameter(Mandatory)] [string] $Script,
        [hashtable] $Environment = @{},
        [switch] $NoImport,
        # A child that hangs fails its test instead of the whole run: killed with its children after this long.
        [int] $TimeoutSeconds = 600
    )
    $prefix = "`$PSStyle.OutputRendering = 'PlainText'`n"
    if (-not $NoImport) { $prefix += "Import-Module '$($env:MODELLIBRARY_TEST_MODULE)' -ErrorAction Stop`n" }
    # A script file, not -Command -: stdin is read line by line, which breaks multi-line statements.
    $file = Join-Path ([IO.Path]::GetTempPath()) ("ml-child-" + [guid]::NewGuid().ToString('n') + '.ps1')
    Set-Content -Path $file -Value ($prefix + $Script)
    $psi = New-PwshStartInfo -Arguments @('-NoProfile', '-NonInteractive', '-File', $file)
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.Environment['TERM'] = 'dumb'
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
    $p = [Diagnostics.Process]::Start($psi)
    $stdout = $p.StandardOutput.ReadToEndAsync()
    $stderr = $p.StandardError.ReadToEndAsync()
    if (-not $p.WaitForExit($TimeoutSeconds * 1000)) {
        $p.Kill($true)
        $p.WaitForExit()
        Remove-Item $file -ErrorAction SilentlyContinue
        throw "The child pwsh did not end within $TimeoutSeconds s; killed. Its output so far: $($stdout.Result) $($stderr.Result)"
    }
    $p.WaitForExit()
    Remove-Item $file -ErrorAction SilentlyContinue
    [pscustomobject]@{
        ExitCode = $p.ExitCode
        Output   = $stdout.Result
        Error    = $stderr.Result
    }
}

Export-ModuleMember -Function New-TestLibrary, Invoke-ChildPwsh, New-PwshStartInfo

function Get-FixturesDirectory {
    <# The repository's tests/fixtures folder (real third-party files, provenance in its MANIFEST.md). #>
    $candidate = Join-Path $PSScriptRoot '../fixtures'
    if (-not (Test-Path (Join-Path $candidate 'MANIFEST.md'))) { throw "tests/fixtures/MANIFEST.md was not found beside $PSScriptRoot." }
    (Resolve-Path $candidate).Path
}

Export-ModuleMember -Function Get-FixturesDirectory

function Start-TestServer {
    <#
    Starts the loopback test server (tests/ModelLibrary.TestServer) serving -Root, and returns an object with
    its Url. The server ends when Stop-TestServer closes its stdin, or when this process dies.
    #>
    param([string] $Root)
    $dll = $env:MODELLIBRARY_TEST_SERVER
    if (-not $dll -or -not (Test-Path $dll)) { throw 'MODELLIBRARY_TEST_SERVER does not name the built test server; run through build.ps1.' }
    $psi = [Diagnostics.ProcessStartInfo]::new('dotnet')
    $psi.ArgumentList.Add($dll)
    if ($Root) { $psi.ArgumentList.Add('--root'); $psi.ArgumentList.Add($Root) }
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.UseShellExecute = $false
    $process = [Diagnostics.Process]::Start($psi)
    $line = $process.StandardOutput.ReadLine()
    if ($line -notmatch 'Listening on (\S+)') { $process.Kill(); throw "The test server did not start: '$line'." }
    [pscustomobject]@{ Process = $process; Url = $Matches[1].TrimEnd('/') }
}

function Stop-TestServer {
    param([Parameter(ValueFromPipeline)] $Server)
    process {
        if (-not $Server) { return }
        try { $Server.Process.StandardInput.Close() } catch { }
        if (-not $Server.Process.WaitForExit(5000)) { $Server.Process.Kill() }
    }
}

function Get-TestServerStats {
    param([Parameter(Mandatory)] $Server)
    Invoke-RestMethod "$($Server.Url)/_stats"
}

Export-ModuleMember -Function Start-TestServer, Stop-TestServer, Get-TestServerStats

function Start-TestHub {
    <#
    Starts the test server with its loopback Hugging Face Hub (tests/ModelLibrary.TestServer/HubServer.cs) serving
    -Root (<owner>/<repo>/repo.json and <owner>/<repo>/<commit>/ files), and returns Url (the Hub, on 127.0.0.1) and
    Cdn (on 127.0.0.2). Stop it with Stop-TestServer.
    #>
    param([Parameter(Mandatory)] [string] $Root)
    $dll = $env:MODELLIBRARY_TEST_SERVER
    if (-not $dll -or -not (Test-Path $dll)) { throw 'MODELLIBRARY_TEST_SERVER does not name the built test server; run through build.ps1.' }
    $psi = [Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($a in @($dll, '--hub', $Root)) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.UseShellExecute = $false
    $process = [Diagnostics.Process]::Start($psi)
    $line = $process.StandardOutput.ReadLine()
    if ($line -notmatch 'hub (\S+) cdn (\S+)') { $process.Kill(); throw "The test hub did not start: '$line'." }
    [pscustomobject]@{ Process = $process; Url = $Matches[1].TrimEnd('/'); Cdn = $Matches[2].TrimEnd('/') }
}

function New-TestHubRepo {
    <#
    Writes a repository of the test hub: -Files maps a path in the repository to a source file (copied) or to
    text/bytes (written), per commit. Returns the commit ids by ref name. -Config adds repo.json fields
    (gated, private, tokens, pipeline_tag, tags, license, extraTree).
    #>
    param(
        [Parameter(Mandatory)] [string] $Root,
        [Parameter(Mandatory)] [string] $Repo,
        [Parameter(Mandatory)] [hashtable] $Commits,
        [hashtable] $Config = @{}
    )
    $folder = Join-Path $Root $Repo
    New-Item -ItemType Directory -Force $folder | Out-Null
    $refs = [ordered]@{}
    foreach ($ref in $Commits.Keys) {
        $sha = -join ((1..40) | ForEach-Object { '{0:x}' -f (Get-Random -Maximum 16) })
        $refs[$ref] = $sha
        $files = $Commits[$ref]
        foreach ($path in $files.Keys) {
            $target = Join-Path $folder $sha $path
            New-Item -ItemType Directory -Force (Split-Path $target) | Out-Null
            $value = $files[$path]
            if ($value -is [byte[]]) { [IO.File]::WriteAllBytes($target, $value) }
            elseif ($value -is [string] -and (Test-Path -LiteralPath $value -PathType Leaf)) { Copy-Item -LiteralPath $value $target }
            else { Set-Content -LiteralPath $target -Value $value -NoNewline }
        }
    }
    $json = @{ refs = $refs } + $Config
    $json | ConvertTo-Json -Depth 6 | Set-Content (Join-Path $folder 'repo.json')
    [pscustomobject]$refs
}

function Set-TestHub {
    <# Changes the test hub's behaviour: -RateLimit n, -RetryAfter s, -SignedUrlTtlMs, -CdnQuery 'dropAfter=..', -TreePageSize, -ResetStats. #>
    param([Parameter(Mandatory)] $Hub, [int] $RateLimit = -1, [int] $RetryAfter = -1, [int] $SignedUrlTtlMs = -1, [string] $CdnQuery, [int] $TreePageSize = -1, [switch] $ResetStats)
    $body = @{}
    if ($RateLimit -ge 0) { $body.rateLimit = $RateLimit }
    if ($RetryAfter -ge 0) { $body.retryAfter = $RetryAfter }
    if ($SignedUrlTtlMs -ge 0) { $body.signedUrlTtlMs = $SignedUrlTtlMs }
    if ($PSBoundParameters.ContainsKey('CdnQuery')) { $body.cdnQuery = $CdnQuery }
    if ($TreePageSize -ge 0) { $body.treePageSize = $TreePageSize }
    if ($ResetStats) { $body.resetStats = $true }
    Invoke-RestMethod -Method Post "$($Hub.Url)/_control/hub" -Body ($body | ConvertTo-Json) -ContentType 'application/json' | Out-Null
}

function Get-TestHubStats {
    param([Parameter(Mandatory)] $Hub)
    Invoke-RestMethod "$($Hub.Url)/_stats/hub"
}

Export-ModuleMember -Function Start-TestHub, New-TestHubRepo, Set-TestHub, Get-TestHubStats

function Start-TestRegistry {
    <#
    Starts Debian's docker-registry (distribution 2.8, `docker-registry serve config.yml`) on a free loopback port
    with storage under -Root and the `auth:` section given as YAML lines in -Auth (htpasswd or token, as
    distribution's docs/configuration.md describes them); waits until /v2/ answers. Returns Process and Address.
    #>
    param([Parameter(Mandatory)] [string] $Root, [Parameter(Mandatory)] [string] $Auth)
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
    $config = Join-Path $Root 'config.yml'
    @"
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $Root/data
http:
  addr: 127.0.0.1:$port
  secret: pester-secret
auth:
$Auth
"@ | Set-Content $config
    $psi = [Diagnostics.ProcessStartInfo]::new('docker-registry')
    $psi.ArgumentList.Add('serve'); $psi.ArgumentList.Add($config)
    $psi.UseShellExecute = $false; $psi.RedirectStandardError = $true; $psi.RedirectStandardOutput = $true
    $process = [Diagnostics.Process]::Start($psi)
    $null = $process.StandardOutput.ReadToEndAsync(); $null = $process.StandardError.ReadToEndAsync()
    $address = "127.0.0.1:$port"
    $deadline = [DateTime]::UtcNow.AddSeconds(20)
    while ($true) {
        try { $null = Invoke-WebRequest "http://$address/v2/" -SkipHttpErrorCheck -TimeoutSec 2; break }
        catch { if ([DateTime]::UtcNow -gt $deadline) { $process.Kill(); throw "docker-registry did not start on $address" }; Start-Sleep -Milliseconds 100 }
    }
    [pscustomobject]@{ Process = $process; Address = $address }
}

Export-ModuleMember -Function Start-TestRegistry
