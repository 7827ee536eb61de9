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
        [switch] $NoImport
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
