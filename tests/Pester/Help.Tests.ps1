<#
Help is part of the product: every exported cmdlet has real MAML help (not the syntax PowerShell makes up when
there is none), every parameter is described, and the about_ModelLibrary topic is found both after Import-Module
by path and through $env:PSModulePath. The generator (docs/build-help.ps1) fails when docs fall behind.
#>

BeforeDiscovery {
    Import-Module $env:MODELLIBRARY_TEST_MODULE -Force
    $script:cmdletCases = @((Get-Module ModelLibrary).ExportedCmdlets.Keys | Sort-Object | ForEach-Object { @{ Name = $_ } })
    $docs = Join-Path $PSScriptRoot '../../docs/cmdlets'
    $script:markdownCases = @(Get-ChildItem $docs -Filter *.md | ForEach-Object { @{ Name = $_.BaseName; Path = $_.FullName } })
}

Describe 'Help' -Tag Help {
    BeforeAll {
        Import-Module $env:MODELLIBRARY_TEST_MODULE -Force
        Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
        $script:moduleDir = Split-Path $env:MODELLIBRARY_TEST_MODULE
        $script:repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
        $script:ignored = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
    }

    Context '<Name>' -ForEach $cmdletCases {
        BeforeAll {
            $script:help = Get-Help $Name -Full
            $script:command = Get-Command $Name
        }

        It 'has a synopsis that is not the generated syntax' {
            $help.Synopsis | Should -Not -BeNullOrEmpty
            $help.Synopsis | Should -Not -Match "^\s*$([regex]::Escape($Name))(\s|$)"
        }

        It 'has a description' {
            ($help.description.Text -join '').Trim() | Should -Not -BeNullOrEmpty
        }

        It 'has at least one example with code' {
            @($help.examples.example).Count | Should -BeGreaterOrEqual 1
            foreach ($example in $help.examples.example) { $example.code | Should -Not -BeNullOrEmpty }
        }

        It 'describes every parameter' {
            $names = $command.Parameters.Keys | Where-Object { $_ -notin $ignored -or $_ -in 'WhatIf', 'Confirm' }
            foreach ($parameter in $names) {
                $entry = @($help.parameters.parameter) | Where-Object name -eq $parameter
                $entry | Should -Not -BeNullOrEmpty -Because "-$parameter must appear in the help"
                ($entry.description.Text -join '').Trim() | Should -Not -BeNullOrEmpty -Because "-$parameter must be described"
            }
        }

        It 'shows the metadata of the cmdlet (pipeline input, wildcards, position)' {
            foreach ($p in $command.Parameters.Values | Where-Object { $_.Name -notin $ignored }) {
                $entry = @($help.parameters.parameter) | Where-Object name -eq $p.Name
                $byValue = [bool]($p.ParameterSets.Values | Where-Object ValueFromPipeline)
                $byName = [bool]($p.ParameterSets.Values | Where-Object ValueFromPipelineByPropertyName)
                if ($byValue -or $byName) { $entry.pipelineInput | Should -Match '^True' } else { $entry.pipelineInput | Should -Be 'False' }
                $wildcards = [bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
                $entry.globbing | Should -Be $wildcards.ToString().ToLowerInvariant()
            }
        }
    }

    Context 'markdown <Name>.md' -ForEach $markdownCases {
        # Also for cmdlets that are not exported yet: the docs are ready when the cmdlet lands.
        BeforeAll { $script:text = Get-Content $Path -Raw }

        It 'has the cmdlet name as its title, a synopsis, a description and at least two examples' {
            $text | Should -Match "(?m)^# $([regex]::Escape($Name))\s*$"
            $text | Should -Match '(?ms)^## SYNOPSIS\s*\r?\n\s*\S'
            $text | Should -Match '(?ms)^## DESCRIPTION\s*\r?\n\s*\S'
            ([regex]::Matches($text, '(?m)^### Example \d+:')).Count | Should -BeGreaterOrEqual 2
            ([regex]::Matches($text, '(?m)^```powershell')).Count | Should -BeGreaterOrEqual 2
        }
    }

    Context 'about_ModelLibrary' {
        It 'is found after Import-Module by path' {
            $r = Invoke-ChildPwsh -Script 'Set-Location ([IO.Path]::GetTempPath()); Get-Help about_ModelLibrary | Out-String -Width 200'
            $r.ExitCode | Should -Be 0
            $r.Output | Should -Match 'about_ModelLibrary'
            $r.Output | Should -Match 'SHORT DESCRIPTION'
            $r.Output | Should -Match 'MAX_CONCURRENT_DOWNLOADS'
        }

        It 'is found through $env:PSModulePath without importing' {
            $modulesFolder = Split-Path $moduleDir
            $r = Invoke-ChildPwsh -NoImport -Script @"
`$env:PSModulePath = '$modulesFolder' + [IO.Path]::PathSeparator + `$env:PSModulePath
Set-Location ([IO.Path]::GetTempPath())
Get-Help about_ModelLibrary | Out-String -Width 200
"@
            $r.ExitCode | Should -Be 0
            $r.Output | Should -Match 'SHORT DESCRIPTION'
        }

        It 'is shipped in en-US next to the cmdlet help' {
            Join-Path $moduleDir 'en-US/about_ModelLibrary.help.txt' | Should -Exist
            Join-Path $moduleDir 'en-US/ModelLibrary.PowerShell.dll-Help.xml' | Should -Exist
        }
    }

    Context 'docs/build-help.ps1' {
        BeforeAll {
            # A private copy of the built module and the docs, to break the docs on purpose.
            $script:work = Join-Path ([IO.Path]::GetTempPath()) ('ml-help-' + [guid]::NewGuid().ToString('n').Substring(0, 8))
            New-Item -ItemType Directory $work | Out-Null
            Copy-Item $moduleDir (Join-Path $work 'ModelLibrary') -Recurse
            Remove-Item (Join-Path $work 'ModelLibrary/en-US') -Recurse -Force -ErrorAction SilentlyContinue
            $script:generator = Join-Path $repoRoot 'docs/build-help.ps1'

            function script:Invoke-Generator {
                param([scriptblock] $Break)
                $docs = Join-Path $work ('docs-' + [guid]::NewGuid().ToString('n').Substring(0, 6))
                Copy-Item (Join-Path $repoRoot 'docs') $docs -Recurse
                if ($Break) { & $Break $docs }
                Invoke-ChildPwsh -NoImport -Script "& '$generator' -ModulePath '$(Join-Path $work 'ModelLibrary')' -DocsPath '$docs'; exit `$LASTEXITCODE"
            }
        }
        AfterAll { Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue }

        It 'succeeds on the docs as they are, skipping cmdlets that are not exported' {
            $r = Invoke-Generator
            $r.ExitCode | Should -Be 0 -Because ($r.Output + $r.Error)
            Join-Path $work 'ModelLibrary/en-US/ModelLibrary.PowerShell.dll-Help.xml' | Should -Exist
        }

        It 'fails naming the parameter when a parameter is not described' {
            $r = Invoke-Generator -Break {
                param($docs)
                $file = Join-Path $docs 'cmdlets/Remove-LibraryModel.md'
                (Get-Content $file -Raw) -replace '(?ms)^### -PassThru.*?(?=^##)', '' | Set-Content $file
            }
            $r.ExitCode | Should -Be 1
            $r.Output | Should -Match 'PassThru'
        }

        It 'fails when an exported cmdlet has no markdown' {
            $r = Invoke-Generator -Break { param($docs) Remove-Item (Join-Path $docs 'cmdlets/Get-ModelSource.md') }
            $r.ExitCode | Should -Be 1
            $r.Output | Should -Match 'Get-ModelSource'
        }

        It 'fails when a synopsis or the examples are missing' {
            $r = Invoke-Generator -Break {
                param($docs)
                $file = Join-Path $docs 'cmdlets/Get-LibraryModel.md'
                (Get-Content $file -Raw) -replace '(?ms)^## SYNOPSIS.*?(?=^## DESCRIPTION)', '' -replace '(?ms)^## EXAMPLES.*?(?=^## RELATED)', '' | Set-Content $file
            }
            $r.ExitCode | Should -Be 1
            $r.Output | Should -Match 'SYNOPSIS'
            $r.Output | Should -Match 'EXAMPLES'
        }

        It 'fails when the markdown describes a parameter the cmdlet does not have' {
            $r = Invoke-Generator -Break {
                param($docs)
                Add-Content (Join-Path $docs 'cmdlets/Unregister-ModelSource.md') "`n## PARAMETERS`n`n### -NoSuchParameter`nStale.`n"
            }
            $r.ExitCode | Should -Be 1
            $r.Output | Should -Match 'NoSuchParameter'
        }
    }
}
