#!/usr/bin/env pwsh
<#
.SYNOPSIS
    One entry point for ModelLibrary: Build, Test, Demo, Bench, Package.
.DESCRIPTION
    Build   publishes the module into out/ModelLibrary (manifest, cmdlet DLL, dependencies, native SQLite for
            every runtime, format file, help).
    Test    builds, checks the layout of the C# code against .editorconfig (dotnet format --verify-no-changes; a
            difference fails the run before any test), runs every xunit project and every Pester suite (in a fresh
            pwsh), and ends with one line 'N passed, N failed' over both. Exits 1 when any test failed.
    Format  applies .editorconfig's layout to the C# code (dotnet format), so the Test check passes.
    Demo    builds and walks through the module as a user would, against a temporary library.
    Bench   builds and runs the download benchmark against nginx (bench/), writing docs/benchmarks.md.
    Package builds and zips out/ModelLibrary into out/ModelLibrary-<version>.zip, and the companion module
            out/ModelLibrary.Inference (embedded llama.cpp for Measure-LibraryModel) into its own zip.
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 Test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Package', 'Format')]
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
$inferenceOut = Join-Path $out 'ModelLibrary.Inference'

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
    Build-Inference
    Write-Host "Built $moduleOut"
}

function Build-Inference {
    # The companion module with the embedded llama.cpp, beside ModelLibrary (not inside it): Measure-LibraryModel
    # loads it on first use, so importing ModelLibrary never pays for it. LLamaSharp.Backend.Cpu puts the native
    # libraries in runtimes/<rid>/native/<avx level>/, where ModelLibrary.Inference's resolver looks for them.
    if (Test-Path $inferenceOut) { Remove-Item $inferenceOut -Recurse -Force }
    Invoke-Native dotnet @('publish', (Join-Path $root 'src/ModelLibrary.Inference/ModelLibrary.Inference.csproj'),
        '-c', $Configuration, '-o', $inferenceOut, '--nologo', '-v', 'quiet')
    Copy-Item (Join-Path $root 'module/ModelLibrary.Inference/*') $inferenceOut -Recurse -Force
    # Core is ModelLibrary's: the engine must bind to the copy the module loaded.
    Get-ChildItem $inferenceOut -Filter 'ModelLibrary.Core.*' | Remove-Item -Force
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

# Layout only (whitespace, braces, indentation: .editorconfig): it needs no compilation, so it takes seconds, where
# dotnet format's style and analyzer passes compile the solution again and take minutes on a loaded machine.
$formatArgs = @('format', 'whitespace', (Join-Path $root 'ModelLibrary.PowerShell.sln'), '-v', 'quiet')

function Test-Format {
    & dotnet @formatArgs --verify-no-changes
    if ($LASTEXITCODE -ne 0) {
        throw "The C# code is not formatted as .editorconfig says (the files are listed above). Run 'dotnet pwsh ./build.ps1 Format' (or 'dotnet $($formatArgs[0..1] -join ' ') ModelLibrary.PowerShell.sln'), review and commit the changes, then test again."
    }
    Write-Host 'Formatting: the C# code follows .editorconfig.'
}

function Invoke-Format {
    Invoke-Native dotnet $formatArgs
    Write-Host 'Formatted the C# code as .editorconfig says; review the changes with git diff.'
}

function Invoke-Test {
    Invoke-Build
    Test-Format
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
    # The companion module with the embedded llama.cpp ships on its own (about 100 MB of native libraries).
    $inferenceVersion = (Import-PowerShellDataFile (Join-Path $inferenceOut 'ModelLibrary.Inference.psd1')).ModuleVersion
    $inferenceZip = Join-Path $out "ModelLibrary.Inference-$inferenceVersion.zip"
    if (Test-Path $inferenceZip) { Remove-Item $inferenceZip }
    Compress-Archive -Path $inferenceOut -DestinationPath $inferenceZip
    Write-Host "Packaged $inferenceZip"
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Demo' { Invoke-Demo }
    'Bench' { Invoke-Bench }
    'Package' { Invoke-Package }
    'Format' { Invoke-Format }
}
