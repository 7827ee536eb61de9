<#
.SYNOPSIS
    Runs every Pester suite against the built module and writes {Passed, Failed} to a JSON file for build.ps1.
#>
param(
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $SummaryPath,
    [string] $Tag
)

$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -Force
# Suites read this to import the module in their own fresh pwsh processes too.
$env:MODELLIBRARY_TEST_MODULE = (Resolve-Path $ModulePath).Path

# Everything the suites put in the temp folder (libraries, served files, child scripts) goes in one folder per run,
# removed at the end; child processes inherit TMPDIR (Unix) and TEMP/TMP (Windows).
$runTemp = Join-Path ([IO.Path]::GetTempPath()) ("ml-pester-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
New-Item -ItemType Directory $runTemp | Out-Null
$env:TMPDIR = $runTemp
$env:TEMP = $runTemp
$env:TMP = $runTemp

$config = New-PesterConfiguration
$config.Run.Path = $PSScriptRoot
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
if ($Tag) { $config.Filter.Tag = $Tag -split ',' }
try {
    $result = Invoke-Pester -Configuration $config
}
finally {
    Get-Job | Remove-Job -Force -ErrorAction SilentlyContinue
    Remove-Item $runTemp -Recurse -Force -ErrorAction SilentlyContinue
}

@{ Passed = $result.PassedCount; Failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount } |
    ConvertTo-Json | Set-Content -Path $SummaryPath
