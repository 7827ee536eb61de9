# Shared helpers for the Pester suites: a fresh library per test, a child pwsh for end-to-end checks.

function New-TestLibrary {
    <# Points this session at an empty library in a new temporary folder and returns the folder. #>
    $dir = Join-Path ([IO.Path]::GetTempPath()) ("ml-test-" + [guid]::NewGuid().ToString('n').Substring(0, 12))
    New-Item -ItemType Directory -Path $dir | Out-Null
    Set-ModelLibraryConfiguration -ModelsDirectory $dir
    $dir
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
    $pwsh = (Get-Process -Id $PID).Path
    $prefix = if ($NoImport) { '' } else { "Import-Module '$($env:MODELLIBRARY_TEST_MODULE)' -ErrorAction Stop`n" }
    $psi = [Diagnostics.ProcessStartInfo]::new($pwsh)
    foreach ($a in @('-NoProfile', '-NonInteractive', '-Command', '-')) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
    $p = [Diagnostics.Process]::Start($psi)
    $p.StandardInput.Write($prefix + $Script)
    $p.StandardInput.Close()
    $stdout = $p.StandardOutput.ReadToEndAsync()
    $stderr = $p.StandardError.ReadToEndAsync()
    $p.WaitForExit()
    [pscustomobject]@{
        ExitCode = $p.ExitCode
        Output   = $stdout.Result
        Error    = $stderr.Result
    }
}

Export-ModuleMember -Function New-TestLibrary, Invoke-ChildPwsh
