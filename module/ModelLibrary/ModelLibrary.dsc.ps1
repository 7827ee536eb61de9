#requires -Version 7.4
<#
.SYNOPSIS
    The DSC v3 command resource ModelLibrary/LibraryModel (see ModelLibrary.dsc.resource.json): dsc runs this script
    with the operation as argument and the instance as JSON on stdin.
.DESCRIPTION
    stdout carries nothing but the result: one JSON object (get, test, set) or one JSON line per Local model (export).
    Everything else goes to stderr as the JSON trace lines dsc reads ({"error": ...}, {"warn": ...}, {"info": ...}).
    Exit codes: 0 success; 1 the operation failed (the error is on stderr); 2 the instance on stdin is not valid.
    The work itself is the module's (Invoke-LibraryModelDsc in ModelLibraryDsc.psm1), shared with the class resource.
#>
param(
    [Parameter(Mandatory, Position = 0)]
    [ValidateSet('get', 'set', 'test', 'export')]
    [string] $Operation
)

# Preferences for everything this process runs, the module's functions included: no progress rendering, no prompt
# (nobody could answer one), and stop at the first error.
$global:ErrorActionPreference = 'Stop'
$global:ProgressPreference = 'SilentlyContinue'
$global:ConfirmPreference = 'None'
# A CI system's log commands belong in the step's own log, never in the JSON dsc parses.
Remove-Item Env:TF_BUILD, Env:GITHUB_ACTIONS -ErrorAction Ignore

function Write-DscTrace([string] $Level, [string] $Message) {
    [Console]::Error.WriteLine((@{ $Level = $Message } | ConvertTo-Json -Compress))
}

function Write-DscError([Management.Automation.ErrorRecord] $Record) {
    $id = $Record.FullyQualifiedErrorId.Split(',')[0]
    $message = if ($Record.ErrorDetails.Message) { $Record.ErrorDetails.Message } else { $Record.Exception.Message }
    $advice = $Record.ErrorDetails.RecommendedAction
    Write-DscTrace error ("${id}: $message" + $(if ($advice) { " $advice" }))
}

try {
    $json = if ([Console]::IsInputRedirected) { [Console]::In.ReadToEnd() } else { '' }
    $module = Import-Module (Join-Path $PSScriptRoot 'ModelLibrary.psd1') -PassThru -ErrorAction Stop
    # Warnings, verbose and information records come back among the results and leave as traces.
    $results = & $module { param($op, $text) Invoke-LibraryModelDsc -Operation $op -Json $text } $Operation $json 3>&1 4>&1 6>&1
    $lines = foreach ($item in $results) {
        switch ($item) {
            { $_ -is [Management.Automation.WarningRecord] } { Write-DscTrace warn $_.Message; break }
            { $_ -is [Management.Automation.VerboseRecord] } { Write-DscTrace info $_.Message; break }
            { $_ -is [Management.Automation.InformationRecord] } { Write-DscTrace info ([string]$_.MessageData); break }
            default { [string]$_ }
        }
    }
    foreach ($line in $lines) {
        [Console]::Out.WriteLine($line)
    }
    exit 0
}
catch {
    Write-DscError $_
    exit $(if ($_.FullyQualifiedErrorId -like 'InvalidDscInstance*') { 2 } else { 1 })
}
