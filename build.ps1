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
    Package builds and writes out/ModelLibrary.<version>.nupkg with PSResourceGet (Publish-PSResource to a local
            repository), holding the module with native SQLite for linux-x64, linux-arm64 (and their musl builds),
            osx-x64, osx-arm64, win-x64 and win-arm64, and no debug symbols; and the companion module
            out/ModelLibrary.Inference.<version>.nupkg (embedded llama.cpp for Measure-LibraryModel) on its own.
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

# The module's version is written once, as ModuleVersion in the manifest; the build stamps it everywhere else.
function Get-ModuleVersion {
    (Import-PowerShellDataFile (Join-Path $root 'module/ModelLibrary/ModelLibrary.psd1')).ModuleVersion
}

function Invoke-Build {
    if (Test-Path $moduleOut) { Remove-Item $moduleOut -Recurse -Force }
    $version = Get-ModuleVersion
    Invoke-Native dotnet @('publish', (Join-Path $root 'src/ModelLibrary.PowerShell/ModelLibrary.PowerShell.csproj'),
        '-c', $Configuration, '-o', $moduleOut, '--nologo', '-v', 'quiet', "-p:Version=$version")
    Copy-Item (Join-Path $root 'module/ModelLibrary/*') $moduleOut -Recurse -Force
    $dscManifest = Join-Path $moduleOut 'ModelLibrary.dsc.resource.json'
    $text = [regex]::new('(?m)^  "version": "[^"]*"').Replace((Get-Content $dscManifest -Raw), "  `"version`": `"$version`"", 1)
    Set-Content $dscManifest -Value $text -NoNewline
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
        '-c', $Configuration, '-o', $inferenceOut, '--nologo', '-v', 'quiet', "-p:Version=$(Get-ModuleVersion)")
    Copy-Item (Join-Path $root 'module/ModelLibrary.Inference/*') $inferenceOut -Recurse -Force
    # Core is ModelLibrary's: the engine must bind to the copy the module loaded, so it is built against the same
    # version (a reference to another version would not bind to the loaded Core).
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
    # The package test installs what ./build.ps1 Package writes; packing takes half a minute, so only when it runs.
    if (-not $PesterTag -or $PesterTag -contains 'Package') {
        $env:MODELLIBRARY_TEST_PACKAGE = New-ModulePackage
        $env:MODELLIBRARY_TEST_INFERENCE_PACKAGE = New-ModulePackage -Name 'ModelLibrary.Inference' -ModuleFolder $inferenceOut
    }
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

# What the package holds of the built module: native SQLite for these runtimes only (pwsh 7.4+ runs on them; musl
# for Alpine containers), and no debug symbols.
$PackageRuntimes = 'linux-x64', 'linux-arm64', 'linux-musl-x64', 'linux-musl-arm64', 'osx-x64', 'osx-arm64', 'win-x64', 'win-arm64'

function Invoke-Package {
    Invoke-Build
    New-ModulePackage | Out-Null
    # The companion module with the embedded llama.cpp is a package of its own (about 150 MB of native libraries for
    # every platform): Install-PSResource ModelLibrary.Inference puts it where Measure-LibraryModel looks for it.
    New-ModulePackage -Name 'ModelLibrary.Inference' -ModuleFolder $inferenceOut | Out-Null
}

function New-ModulePackage {
    <# Packs a built module (out/ModelLibrary unless told) into out/<Name>.<version>.nupkg and returns its path. #>
    param([string] $Name = 'ModelLibrary', [string] $ModuleFolder = $moduleOut)
    $version = Get-ModuleVersion
    $staging = Join-Path $out 'package'
    if (Test-Path $staging) { Remove-Item $staging -Recurse -Force }
    # Publish-PSResource takes the module from a folder named as the module.
    $stagedModule = Join-Path $staging $Name
    Copy-Item $ModuleFolder $stagedModule -Recurse
    Get-ChildItem $stagedModule -Recurse -Filter '*.pdb' | Remove-Item -Force
    Get-ChildItem (Join-Path $stagedModule 'runtimes') -Directory -ErrorAction SilentlyContinue | Where-Object Name -notin $PackageRuntimes | Remove-Item -Recurse -Force
    $manifest = Test-ModuleManifest (Join-Path $stagedModule "$Name.psd1") -ErrorAction Stop
    if ($manifest.Version -ne [version]$version) { throw "The staged manifest says $($manifest.Version), the source $version." }

    # A repository of this run only, removed again: the user's own repository list keeps nothing of it. (Where the
    # user's data folder does not exist yet, .NET names none and PSResourceGet would keep its list in the working folder.)
    if (-not [Environment]::GetFolderPath('LocalApplicationData')) {
        $dataHome = if ($env:XDG_DATA_HOME) { $env:XDG_DATA_HOME } else { Join-Path $HOME '.local/share' }
        New-Item -ItemType Directory $dataHome -Force | Out-Null
    }
    $repositoryPath = Join-Path $staging 'repository'
    New-Item -ItemType Directory $repositoryPath | Out-Null
    $repositoryName = 'ModelLibraryBuild' + [guid]::NewGuid().ToString('n').Substring(0, 8)
    Register-PSResourceRepository -Name $repositoryName -Uri $repositoryPath -Trusted
    try {
        Publish-PSResource -Path $stagedModule -Repository $repositoryName -ErrorAction Stop
    }
    finally {
        Unregister-PSResourceRepository -Name $repositoryName -ErrorAction SilentlyContinue
    }

    $published = Get-ChildItem $repositoryPath -Filter '*.nupkg' | Select-Object -First 1
    if (-not $published) { throw "Publish-PSResource wrote no package to $repositoryPath." }
    $nupkg = Join-Path $out "$Name.$version.nupkg"
    Move-Item $published.FullName $nupkg -Force
    Remove-Item $staging -Recurse -Force
    Write-Host "Packaged $nupkg"
    $nupkg
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Demo' { Invoke-Demo }
    'Bench' { Invoke-Bench }
    'Package' { Invoke-Package }
    'Format' { Invoke-Format }
}
