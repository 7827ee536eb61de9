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
    <# The shared/fixtures folder beside the repository (CI lays shared/ beside its clone). #>
    $dir = $PSScriptRoot
    while ($dir) {
        $candidate = Join-Path $dir 'shared/fixtures'
        if (Test-Path $candidate) { return (Resolve-Path $candidate).Path }
        $dir = Split-Path $dir -Parent
    }
    throw "shared/fixtures was not found above $PSScriptRoot."
}

Export-ModuleMember -Function Get-FixturesDirectory
