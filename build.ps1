#!/usr/bin/env pwsh
<#
.SYNOPSIS
    One entry point for ModelLibrary: Build, Test, Demo, Bench, Package.
.DESCRIPTION
    Build   publishes the module into out/ModelLibrary (manifest, cmdlet DLL, dependencies, native SQLite for
            every runtime, format file, help).
    Test    builds, runs every xunit project and every Pester suite (in a fresh pwsh), and ends with one line
            'N passed, N failed' over both. Exits 1 when any test failed.
    Demo    builds and walks through the module as a user would, against a temporary library.
    Bench   builds and runs the download benchmark against nginx (bench/), writing docs/benchmarks.md.
    Package builds and zips out/ModelLibrary into out/ModelLibrary-<version>.zip.
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 Test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Package')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Pester tag filter and xunit filter, for running a subset while developing.
    [string[]] $PesterTag,
    [string] $XunitFilter
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
$out = Join-Path $root 'out'
$moduleOut = Join-Path $out 'ModelLibrary'

function Invoke-Native {
    param([string] $File, [string[]] $Arguments)
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "'$File $($Arguments -join ' ')' failed with exit code $LASTEXITCODE." }
}

function Invoke-Build {
    if (Test-Path $moduleOut) { Remove-Item $moduleOut -Recurse -Force }
    Invoke-Native dotnet @('publish', (Join-Path $root 'src/ModelLibrary.PowerShell/ModelLibrary.PowerShell.csproj'),
        '-c', $Configuration, '-o', $moduleOut, '--nologo', '-v', 'quiet')
    Copy-Item (Join-Path $root 'module/ModelLibrary/*') $moduleOut -Recurse -Force
    # Compile-time only: pwsh brings its own System.Management.Automation.
    Get-ChildItem $moduleOut -Filter 'System.Management.Automation.dll' | Remove-Item -Force
    $helpScript = Join-Path $root 'docs/build-help.ps1'
    if (Test-Path $helpScript) {
        Invoke-Native dotnet @('pwsh', '-NoProfile', '-NonInteractive', '-File', $helpScript, '-ModulePath', $moduleOut, '-DocsPath', (Join-Path $root 'docs'))
    }
    Write-Host "Built $moduleOut"
}

function Build-TestServer {
    # The loopback server that tests, the demo and the benchmark download from; a plain console app.
    $serverOut = Join-Path $out 'testserver'
    if (-not (Test-Path (Join-Path $root 'tests/ModelLibrary.TestServer'))) { return }
    Invoke-Native dotnet @('build', (Join-Path $root 'tests/ModelLibrary.TestServer/ModelLibrary.TestServer.csproj'),
        '-c', $Configuration, '-o', $serverOut, '--nologo', '-v', 'quiet')
    $env:MODELLIBRARY_TEST_SERVER = Join-Path $serverOut 'ModelLibrary.TestServer.dll'
}

function Get-PesterPath {
    Invoke-Native dotnet @('restore', (Join-Path $root 'tests/tools/tools.csproj'), '--nologo', '-v', 'quiet')
    $packages = (& dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', ''
    $pester = Join-Path $packages.Trim() 'pester/5.7.1/tools/Pester.psd1'
    if (-not (Test-Path $pester)) { throw "Pester was not restored to $pester." }
    $pester
}

function Invoke-Test {
    Invoke-Build
    $results = Join-Path $out 'test-results'
    if (Test-Path $results) { Remove-Item $results -Recurse -Force }
    New-Item -ItemType Directory $results | Out-Null

    # xunit: every test project in the solution; counts come from the trx files.
    $xunitArgs = @('test', (Join-Path $root 'ModelLibrary.PowerShell.sln'), '-c', $Configuration, '--nologo',
        '--logger', 'trx', '--logger', 'console;verbosity=minimal', '--results-directory', $results)
    if ($XunitFilter) { $xunitArgs += @('--filter', $XunitFilter) }
    & dotnet @xunitArgs
    $xunitExit = $LASTEXITCODE
    $xPassed = 0; $xFailed = 0; $xTotal = 0
    foreach ($trx in Get-ChildItem $results -Filter *.trx -Recurse) {
        $counters = ([xml](Get-Content $trx.FullName -Raw)).TestRun.ResultSummary.Counters
        $xPassed += [int]$counters.passed
        $xFailed += [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
        $xTotal += [int]$counters.total
    }
    if ($xunitExit -ne 0 -and $xFailed -eq 0) { $xFailed = 1 }  # a crash that wrote no trx still fails the run

    # Pester: in a fresh pwsh so the module is loaded the way users load it, against the built module.
    Build-TestServer
    $pester = Get-PesterPath
    $summary = Join-Path $results 'pester-summary.json'
    $runner = Join-Path $root 'tests/Pester/Run-Pester.ps1'
    $pesterArgs = @('pwsh', '-NoProfile', '-NonInteractive', '-File', $runner, '-PesterPath', $pester,
        '-ModulePath', (Join-Path $moduleOut 'ModelLibrary.psd1'), '-SummaryPath', $summary)
    if ($PesterTag) { $pesterArgs += @('-Tag', ($PesterTag -join ',')) }
    & dotnet @pesterArgs
    $pPassed = 0; $pFailed = 1
    if (Test-Path $summary) {
        $p = Get-Content $summary -Raw | ConvertFrom-Json
        $pPassed = [int]$p.Passed; $pFailed = [int]$p.Failed
    }

    Write-Host ''
    Write-Host "xunit: $xPassed passed, $xFailed failed ($xTotal total); Pester: $pPassed passed, $pFailed failed"
    Write-Host "$($xPassed + $pPassed) passed, $($xFailed + $pFailed) failed"
    if ($xFailed + $pFailed -gt 0) { exit 1 }
}

function Invoke-Demo {
    Invoke-Build
    Build-TestServer
    Invoke-Native dotnet @('pwsh', '-NoProfile', '-File', (Join-Path $root 'docs/demo.ps1'), '-ModulePath', (Join-Path $moduleOut 'ModelLibrary.psd1'))
}

function Invoke-Bench {
    Invoke-Build
    Build-TestServer
    # nginx (capped and uncapped) against aria2c and curl; bench/Invoke-DownloadBenchmark.ps1 is the older run
    # against the project's own Kestrel server.
    Invoke-Native dotnet @('pwsh', '-NoProfile', '-File', (Join-Path $root 'bench/Invoke-NginxBenchmark.ps1'), '-ModulePath', (Join-Path $moduleOut 'ModelLibrary.psd1'))
}

function Invoke-Package {
    Invoke-Build
    $version = (Import-PowerShellDataFile (Join-Path $moduleOut 'ModelLibrary.psd1')).ModuleVersion
    $zip = Join-Path $out "ModelLibrary-$version.zip"
    if (Test-Path $zip) { Remove-Item $zip }
    Compress-Archive -Path $moduleOut -DestinationPath $zip
    Write-Host "Packaged $zip"
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Demo' { Invoke-Demo }
    'Bench' { Invoke-Bench }
    'Package' { Invoke-Package }
}
