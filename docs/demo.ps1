<#
.SYNOPSIS
    A walk through ModelLibrary as a user would take it, against a temporary library.
#>
param([Parameter(Mandatory)] [string] $ModulePath)

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$library = Join-Path ([IO.Path]::GetTempPath()) ("modellibrary-demo-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
Set-ModelLibraryConfiguration -ModelsDirectory $library

function Show([string] $Title, [scriptblock] $Block) {
    Write-Host ''
    Write-Host "PS> $($Block.ToString().Trim())" -ForegroundColor Cyan
    & $Block | Out-Host
}

Write-Host "ModelLibrary demo - library at $library" -ForegroundColor Green

Show 'configuration' { Get-ModelLibraryConfiguration | Format-Table Name, Value, Source }
Show 'sources' { Get-ModelSource }
Show 'small chat models' { Get-LibraryModel -Provider llama-cpp -Capability chat | Where-Object { $_.Size -and $_.Size -lt 1GB } | Sort-Object Size | Select-Object -First 8 }
Show 'one model in full' { Get-LibraryModel tinyllama-1.1b-chat-q4 | Format-List Id, Name, Provider, Format, Size, Checksum, DownloadUrl, Status }
Show 'a model that does not exist' { Get-LibraryModel no-such-model -ErrorAction Continue 2>&1 | ForEach-Object { "$($_.FullyQualifiedErrorId): $_" } }

Remove-Item $library -Recurse -Force -ErrorAction SilentlyContinue
