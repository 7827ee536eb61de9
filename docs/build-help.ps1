#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds the module's MAML help from the cmdlets' metadata and the prose in docs/cmdlets/*.md.
.DESCRIPTION
    Imports the built module from -ModulePath (in this process), and for every exported cmdlet merges what
    Get-Command knows (parameter sets, types, mandatory, position, pipeline input, aliases, wildcards,
    accepted values, defaults, output types) with the prose in <DocsPath>/cmdlets/<Cmdlet-Name>.md. Writes
    <ModulePath>/en-US/ModelLibrary.PowerShell.dll-Help.xml (the file PowerShell looks for next to the root
    module DLL) and copies <DocsPath>/about_ModelLibrary.help.txt to <ModulePath>/en-US/.

    Fails (exit 1, every problem listed) when an exported cmdlet has no markdown file, its markdown lacks a
    synopsis, a description or an example, a parameter of the cmdlet is not described in the markdown
    (common parameters, WhatIf and Confirm excepted), or the markdown describes a parameter the cmdlet does
    not have. Markdown for a cmdlet that is not exported (yet) is skipped with a verbose message.

    MARKDOWN FORMAT (docs/cmdlets/<Cmdlet-Name>.md). Headings are recognised outside ``` fences only, so
    '#' comments inside code are safe. Prose is split into paragraphs at blank lines; a paragraph whose
    lines start with '-', '*', a digit and '.', or whitespace keeps its line breaks (lists, tables).

        # Cmdlet-Name                      must match the file name
        ## SYNOPSIS                        one or two sentences (required)
        ## DESCRIPTION                     paragraphs (required)
        ## PARAMETERS
        ### -Name                          one per parameter (required for each, except common parameters,
        prose                              WhatIf and Confirm, which get a standard text when not given).
        Default value: <text>              optional last line: the default shown by Get-Help -Parameter
                                           (otherwise read from the cmdlet class where it can be)
        ## INPUTS
        ### Type.Name                      optional subsections; without any, the types of the
        prose                              pipeline-bound parameters are listed
        ## OUTPUTS
        ### Type.Name                      optional subsections; without any, the cmdlet's [OutputType]s
        prose
        ## NOTES                           optional paragraphs
        ## EXAMPLES
        ### Example 1: title               at least one (required)
        ```powershell
        code
        ```
        prose                              what it does / what it shows
        ## RELATED LINKS                   optional: '- Name' or '- [Name](uri)' lines
.EXAMPLE
    dotnet pwsh ./docs/build-help.ps1 -ModulePath ./out/ModelLibrary -DocsPath ./docs
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $DocsPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$ModulePath = (Resolve-Path $ModulePath).Path
$DocsPath = (Resolve-Path $DocsPath).Path
$cmdletDocs = Join-Path $DocsPath 'cmdlets'
$helpDir = Join-Path $ModulePath 'en-US'
$helpFile = Join-Path $helpDir 'ModelLibrary.PowerShell.dll-Help.xml'
$aboutFile = Join-Path $DocsPath 'about_ModelLibrary.help.txt'

$commonParameters = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
foreach ($p in [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters) {
    [void]$commonParameters.Add($p)
}
# Standard texts for the ShouldProcess parameters (the markdown may still describe them itself).
$standardParameterText = @{
    WhatIf  = 'Shows what would happen if the cmdlet runs. The cmdlet is not run: nothing changes on disk or in the registry.'
    Confirm = 'Prompts you for confirmation before running the cmdlet.'
}

#region Markdown

function ConvertTo-Paragraphs {
    <# Splits prose lines into paragraphs at blank lines; list-like paragraphs keep their line breaks. #>
    param([string[]] $Lines)
    $paragraphs = [System.Collections.Generic.List[string]]::new()
    $current = [System.Collections.Generic.List[string]]::new()
    $flush = {
        if ($current.Count -gt 0) {
            $keepBreaks = @($current | Where-Object { $_ -match '^\s*([-*]\s|\d+\.\s|\|)' -or $_ -match '^\s{2,}\S' }).Count -gt 0
            if ($keepBreaks) { $paragraphs.Add(($current -join "`n")) }
            else { $paragraphs.Add((($current | ForEach-Object { $_.Trim() }) -join ' ')) }
            $current.Clear()
        }
    }
    foreach ($line in $Lines) {
        if ($line.Trim() -eq '') { & $flush } else { $current.Add($line.TrimEnd()) }
    }
    & $flush
    , $paragraphs.ToArray()
}

function Read-CmdletMarkdown {
    <# Parses one docs/cmdlets/*.md file into a hashtable of sections; problems go to $Problems. #>
    param([string] $Path, [System.Collections.Generic.List[string]] $Problems)

    $lines = [IO.File]::ReadAllLines($Path)
    $doc = @{
        Title        = $null
        Sections     = @{}        # H2 name -> lines directly under it
        Parameters   = [ordered]@{}  # name -> lines
        Inputs       = [System.Collections.Generic.List[object]]::new()
        Outputs      = [System.Collections.Generic.List[object]]::new()
        Examples     = [System.Collections.Generic.List[object]]::new()
        RelatedLinks = [System.Collections.Generic.List[object]]::new()
    }
    $h2 = $null
    $target = $null   # the List[string] that prose lines currently go to
    $inFence = $false
    $example = $null
    $n = 0
    foreach ($line in $lines) {
        $n++
        if ($line -match '^\s*```') {
            if ($null -ne $example) {
                if (-not $inFence) { $example.InCode = $true; $example.CodeBlocks.Add([System.Collections.Generic.List[string]]::new()) }
                else { $example.InCode = $false }
            }
            elseif ($null -ne $target) { $target.Add($line) }
            $inFence = -not $inFence
            continue
        }
        if ($inFence) {
            if ($null -ne $example) { $example.CodeBlocks[-1].Add($line) }
            elseif ($null -ne $target) { $target.Add($line) }
            continue
        }
        if ($line -match '^#\s+(\S.*?)\s*$') { $doc.Title = $Matches[1]; $target = $null; continue }
        if ($line -match '^##\s+(\S.*?)\s*$') {
            $h2 = $Matches[1].ToUpperInvariant()
            $example = $null
            $target = [System.Collections.Generic.List[string]]::new()
            $doc.Sections[$h2] = $target
            continue
        }
        if ($line -match '^###\s+(\S.*?)\s*$') {
            $h3 = $Matches[1]
            $target = [System.Collections.Generic.List[string]]::new()
            $example = $null
            switch ($h2) {
                'PARAMETERS' {
                    $name = $h3.TrimStart('-').Trim()
                    if ($doc.Parameters.Contains($name)) { $Problems.Add("${Path}:${n}: parameter -$name is described twice.") }
                    $doc.Parameters[$name] = $target
                }
                'INPUTS' { $doc.Inputs.Add([pscustomobject]@{ Type = $h3; Lines = $target }) }
                'OUTPUTS' { $doc.Outputs.Add([pscustomobject]@{ Type = $h3; Lines = $target }) }
                'EXAMPLES' {
                    $example = [pscustomobject]@{ Title = $h3; CodeBlocks = [System.Collections.Generic.List[object]]::new(); Lines = $target; InCode = $false; Line = $n }
                    $doc.Examples.Add($example)
                }
                default { $Problems.Add("${Path}:${n}: '### $h3' is not expected under '## $h2'.") }
            }
            continue
        }
        if ($null -ne $target) { $target.Add($line) }
        elseif ($line.Trim() -ne '') { $Problems.Add("${Path}:${n}: text outside any section.") }
    }
    if ($inFence) { $Problems.Add("${Path}: a ``````` fence is not closed.") }

    if ($doc.Sections.ContainsKey('RELATED LINKS')) {
        foreach ($l in $doc.Sections['RELATED LINKS']) {
            if ($l -match '^\s*[-*]\s+\[(.+?)\]\((.*?)\)\s*$') { $doc.RelatedLinks.Add([pscustomobject]@{ Text = $Matches[1]; Uri = $Matches[2] }) }
            elseif ($l -match '^\s*[-*]\s+(\S.*?)\s*$') { $doc.RelatedLinks.Add([pscustomobject]@{ Text = $Matches[1]; Uri = '' }) }
        }
    }
    $doc
}

function Get-SectionParagraphs {
    param($Doc, [string] $Name)
    if ($Doc.Sections.ContainsKey($Name)) { ConvertTo-Paragraphs $Doc.Sections[$Name] } else { , @() }
}

#endregion

#region Metadata

function Format-TypeName {
    <# The short type name Get-Help shows: String[], Int32, SwitchParameter, ModelStatus[]. #>
    param([type] $Type)
    $element = if ($Type.IsArray) { $Type.GetElementType() } else { $Type }
    $suffix = if ($Type.IsArray) { '[]' } else { '' }
    $inner = [Nullable]::GetUnderlyingType($element)
    if ($inner) { $element = $inner }
    $element.Name + $suffix
}

function Format-FullTypeName {
    param([type] $Type)
    $element = if ($Type.IsArray) { $Type.GetElementType() } else { $Type }
    $suffix = if ($Type.IsArray) { '[]' } else { '' }
    $inner = [Nullable]::GetUnderlyingType($element)
    if ($inner) { $element = $inner }
    $element.FullName + $suffix
}

function Get-AcceptedValues {
    param([System.Management.Automation.CommandParameterInfo] $Parameter)
    $set = $Parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] } | Select-Object -First 1
    if ($set) { return , @($set.ValidValues) }
    $t = $Parameter.ParameterType
    if ($t.IsArray) { $t = $t.GetElementType() }
    $inner = [Nullable]::GetUnderlyingType($t)
    if ($inner) { $t = $inner }
    if ($t.IsEnum) { return , @([Enum]::GetNames($t)) }
    , @()
}

function Get-DefaultValue {
    <# The property's value on a fresh instance of the cmdlet class, when it is telling. #>
    param($Instance, [string] $Name, [type] $Type)
    if ($Type -eq [System.Management.Automation.SwitchParameter]) { return 'False' }
    if ($null -eq $Instance) { return 'None' }
    try {
        $value = $Instance.GetType().GetProperty($Name).GetValue($Instance)
    }
    catch { return 'None' }
    if ($null -eq $value) { return 'None' }
    if ($value -is [string]) { if ($value -eq '') { return 'None' } else { return $value } }
    if ($value -is [Array]) { if ($value.Length -eq 0) { return 'None' } else { return ($value -join ', ') } }
    if ($value -is [bool]) { return $value.ToString() }
    [string]$value
}

function Get-CmdletModel {
    <# Everything the MAML needs about a cmdlet's parameters, from Get-Command. #>
    param([System.Management.Automation.CmdletInfo] $Command)

    $instance = $null
    try { $instance = [Activator]::CreateInstance($Command.ImplementingType) } catch { }

    $sets = @($Command.ParameterSets | Sort-Object { -not $_.IsDefault }, Name)
    $byName = [ordered]@{}
    $syntax = foreach ($set in $sets) {
        $params = foreach ($p in $set.Parameters) {
            if ($commonParameters.Contains($p.Name) -and $p.Name -notin 'WhatIf', 'Confirm') { continue }
            $pipeline = @()
            if ($p.ValueFromPipeline) { $pipeline += 'ByValue' }
            if ($p.ValueFromPipelineByPropertyName) { $pipeline += 'ByPropertyName' }
            $info = [pscustomobject]@{
                Name          = $p.Name
                Mandatory     = $p.IsMandatory
                Position      = if ($p.Position -ge 0) { [string]$p.Position } else { 'named' }
                PositionOrder = if ($p.Position -ge 0) { $p.Position } else { [int]::MaxValue }
                Pipeline      = if ($pipeline) { "True ($($pipeline -join ', '))" } else { 'False' }
                Aliases       = @($p.Aliases)
                Type          = $p.ParameterType
                TypeName      = Format-TypeName $p.ParameterType
                FullTypeName  = Format-FullTypeName $p.ParameterType
                Globbing      = [bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
                Accepted      = Get-AcceptedValues $p
                IsSwitch      = $p.ParameterType -eq [System.Management.Automation.SwitchParameter]
                Default       = Get-DefaultValue $instance $p.Name $p.ParameterType
                AcceptsPipe   = $p.ValueFromPipeline -or $p.ValueFromPipelineByPropertyName
                ByValue       = $p.ValueFromPipeline
                Sets          = [System.Collections.Generic.List[object]]::new()
            }
            if (-not $byName.Contains($p.Name)) { $byName[$p.Name] = $info }
            $byName[$p.Name].Sets.Add($info)
            $info
        }
        # Positional first by position, then mandatory named, then the rest, WhatIf/Confirm last: as Get-Command shows it.
        $ordered = @($params | Sort-Object PositionOrder, @{ Expression = { -not $_.Mandatory } }, @{ Expression = { $_.Name -in 'WhatIf', 'Confirm' } }, @{ Expression = { $_.Name -eq 'Confirm' } })
        [pscustomobject]@{ Name = $set.Name; Parameters = $ordered }
    }

    foreach ($info in $byName.Values) {
        # In the PARAMETERS section: required when mandatory in every set the parameter belongs to.
        $info | Add-Member -NotePropertyName RequiredEverywhere -NotePropertyValue (@($info.Sets | Where-Object { -not $_.Mandatory }).Count -eq 0)
    }

    [pscustomobject]@{
        Name       = $Command.Name
        Verb       = $Command.Verb
        Noun       = $Command.Noun
        Syntax     = @($syntax)
        Parameters = $byName
        OutputType = @($Command.OutputType | ForEach-Object { if ($_.Type) { $_.Type.FullName } else { $_.Name } } | Select-Object -Unique)
    }
}

#endregion

#region MAML

$ns = @{
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
    MSHelp  = 'http://msdn.microsoft.com/mshelp'
}

function Write-Paras {
    param([System.Xml.XmlWriter] $W, [string[]] $Paragraphs)
    foreach ($para in $Paragraphs) { $W.WriteElementString('para', $ns.maml, $para) }
}

function Write-Description {
    param([System.Xml.XmlWriter] $W, [string] $Prefix, [string[]] $Paragraphs)
    $W.WriteStartElement($Prefix, 'description', $ns[$Prefix])
    Write-Paras $W $Paragraphs
    $W.WriteEndElement()
}

function Write-Parameter {
    param([System.Xml.XmlWriter] $W, $P, [string[]] $Description, [bool] $Required, [switch] $InSyntax)
    $W.WriteStartElement('command', 'parameter', $ns.command)
    $W.WriteAttributeString('required', $Required.ToString().ToLowerInvariant())
    $W.WriteAttributeString('variableLength', $P.Type.IsArray.ToString().ToLowerInvariant())
    $W.WriteAttributeString('globbing', $P.Globbing.ToString().ToLowerInvariant())
    $W.WriteAttributeString('pipelineInput', $P.Pipeline)
    $W.WriteAttributeString('position', $P.Position)
    $W.WriteAttributeString('aliases', $(if ($P.Aliases.Count) { $P.Aliases -join ', ' } else { 'none' }))
    $W.WriteElementString('name', $ns.maml, $P.Name)
    Write-Description $W 'maml' $Description
    if ($P.Accepted.Count -gt 0) {
        $W.WriteStartElement('command', 'parameterValueGroup', $ns.command)
        foreach ($v in $P.Accepted) {
            $W.WriteStartElement('command', 'parameterValue', $ns.command)
            $W.WriteAttributeString('required', 'false')
            $W.WriteAttributeString('command', 'variableLength', $ns.command, 'false')
            $W.WriteString($v)
            $W.WriteEndElement()
        }
        $W.WriteEndElement()
    }
    if (-not $P.IsSwitch) {
        $W.WriteStartElement('command', 'parameterValue', $ns.command)
        $W.WriteAttributeString('required', 'true')
        $W.WriteAttributeString('variableLength', 'false')
        $W.WriteString($P.TypeName)
        $W.WriteEndElement()
    }
    $W.WriteStartElement('dev', 'type', $ns.dev)
    $W.WriteElementString('name', $ns.maml, $P.TypeName)
    $W.WriteElementString('uri', $ns.maml, '')
    $W.WriteEndElement()
    $W.WriteElementString('defaultValue', $ns.dev, $P.Default)
    $W.WriteEndElement()
}

function Write-TypeList {
    param([System.Xml.XmlWriter] $W, [string] $ListName, [string] $ItemName, $Items)
    $W.WriteStartElement('command', $ListName, $ns.command)
    foreach ($item in $Items) {
        $W.WriteStartElement('command', $ItemName, $ns.command)
        $W.WriteStartElement('dev', 'type', $ns.dev)
        $W.WriteElementString('name', $ns.maml, $item.Type)
        $W.WriteEndElement()
        Write-Description $W 'maml' $item.Paragraphs
        $W.WriteEndElement()
    }
    $W.WriteEndElement()
}

function Write-CommandHelp {
    param([System.Xml.XmlWriter] $W, $Model, $Doc)

    $W.WriteStartElement('command', 'command', $ns.command)
    foreach ($prefix in 'maml', 'command', 'dev', 'MSHelp') {
        $W.WriteAttributeString('xmlns', $prefix, $null, $ns[$prefix])
    }

    $W.WriteStartElement('command', 'details', $ns.command)
    $W.WriteElementString('name', $ns.command, $Model.Name)
    $W.WriteElementString('verb', $ns.command, $Model.Verb)
    $W.WriteElementString('noun', $ns.command, $Model.Noun)
    Write-Description $W 'maml' (Get-SectionParagraphs $Doc 'SYNOPSIS')
    $W.WriteEndElement()

    Write-Description $W 'maml' (Get-SectionParagraphs $Doc 'DESCRIPTION')

    $descriptionOf = @{}
    foreach ($name in $Model.Parameters.Keys) {
        $lines = if ($Doc.Parameters.Contains($name)) { @($Doc.Parameters[$name]) } else { @($standardParameterText[$name]) }
        $default = $null
        $kept = foreach ($l in $lines) {
            if ($l -match '^\s*Default value:\s*(.+?)\s*$') { $default = $Matches[1] } else { $l }
        }
        if ($default) { $Model.Parameters[$name].Default = $default; foreach ($s in $Model.Parameters[$name].Sets) { $s.Default = $default } }
        $descriptionOf[$name] = ConvertTo-Paragraphs @($kept)
    }

    $W.WriteStartElement('command', 'syntax', $ns.command)
    foreach ($set in $Model.Syntax) {
        $W.WriteStartElement('command', 'syntaxItem', $ns.command)
        $W.WriteElementString('name', $ns.maml, $Model.Name)
        foreach ($p in $set.Parameters) { Write-Parameter $W $p $descriptionOf[$p.Name] $p.Mandatory -InSyntax }
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'parameters', $ns.command)
    # In the markdown's order; WhatIf and Confirm (when the markdown leaves them out) last.
    $markdownOrder = @($Doc.Parameters.Keys)
    $orderedNames = @($Model.Parameters.Values | Sort-Object @{ Expression = { $i = [array]::IndexOf($markdownOrder, $_.Name); if ($i -lt 0) { [int]::MaxValue } else { $i } } }, @{ Expression = { $_.Name -eq 'Confirm' } } | ForEach-Object Name)
    foreach ($name in $orderedNames) {
        $p = $Model.Parameters[$name]
        Write-Parameter $W $p $descriptionOf[$name] $p.RequiredEverywhere
    }
    $W.WriteEndElement()

    $inputs = if ($Doc.Inputs.Count) {
        $Doc.Inputs | ForEach-Object { [pscustomobject]@{ Type = $_.Type; Paragraphs = ConvertTo-Paragraphs $_.Lines } }
    }
    else {
        $piped = @($Model.Parameters.Values | Where-Object AcceptsPipe)
        if ($piped) {
            $piped | Group-Object FullTypeName | ForEach-Object {
                [pscustomobject]@{ Type = $_.Name; Paragraphs = @("Bound to -$(($_.Group.Name) -join ', -') from the pipeline.") }
            }
        }
        else { [pscustomobject]@{ Type = 'None'; Paragraphs = @('This cmdlet does not take pipeline input.') } }
    }
    Write-TypeList $W 'inputTypes' 'inputType' $inputs

    $outputs = if ($Doc.Outputs.Count) {
        $Doc.Outputs | ForEach-Object { [pscustomobject]@{ Type = $_.Type; Paragraphs = ConvertTo-Paragraphs $_.Lines } }
    }
    elseif ($Model.OutputType) {
        # Prose directly under '## OUTPUTS' (no '### Type' subsections) describes the cmdlet's [OutputType]s.
        $prose = Get-SectionParagraphs $Doc 'OUTPUTS'
        $Model.OutputType | ForEach-Object { [pscustomobject]@{ Type = $_; Paragraphs = $prose } }
    }
    else {
        $prose = Get-SectionParagraphs $Doc 'OUTPUTS'
        [pscustomobject]@{ Type = 'None'; Paragraphs = $(if ($prose.Count) { $prose } else { @('This cmdlet writes no output.') }) }
    }
    Write-TypeList $W 'returnValues' 'returnValue' $outputs

    $notes = Get-SectionParagraphs $Doc 'NOTES'
    if ($notes.Count) {
        $W.WriteStartElement('maml', 'alertSet', $ns.maml)
        $W.WriteStartElement('maml', 'alert', $ns.maml)
        Write-Paras $W $notes
        $W.WriteEndElement()
        $W.WriteEndElement()
    }

    $W.WriteStartElement('command', 'examples', $ns.command)
    foreach ($example in $Doc.Examples) {
        $W.WriteStartElement('command', 'example', $ns.command)
        $W.WriteElementString('title', $ns.maml, "-------------- $($example.Title) --------------")
        $W.WriteElementString('code', $ns.dev, (($example.CodeBlocks | ForEach-Object { ($_ -join "`n").Trim("`n") }) -join "`n`n"))
        $W.WriteStartElement('dev', 'remarks', $ns.dev)
        # The trailing empty paragraph gives a blank line before the next example's title.
        Write-Paras $W (@(ConvertTo-Paragraphs $example.Lines) + '')
        $W.WriteEndElement()
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'relatedLinks', $ns.command)
    foreach ($link in $Doc.RelatedLinks) {
        $W.WriteStartElement('maml', 'navigationLink', $ns.maml)
        $W.WriteElementString('linkText', $ns.maml, $link.Text)
        $W.WriteElementString('uri', $ns.maml, $link.Uri)
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteEndElement()
}

#endregion

#region Main

Import-Module (Join-Path $ModulePath 'ModelLibrary.psd1') -Force -Verbose:$false
$module = Get-Module ModelLibrary
$cmdlets = @($module.ExportedCmdlets.Values | Sort-Object Name)
$exported = [System.Collections.Generic.HashSet[string]]::new([string[]]@($cmdlets.Name), [StringComparer]::OrdinalIgnoreCase)
$problems = [System.Collections.Generic.List[string]]::new()

$markdown = @{}
if (Test-Path $cmdletDocs) {
    foreach ($file in Get-ChildItem $cmdletDocs -Filter '*.md' | Sort-Object Name) {
        if (-not $exported.Contains($file.BaseName)) {
            Write-Verbose "Skipping $($file.Name): the module does not export a cmdlet '$($file.BaseName)' (yet)."
            continue
        }
        $markdown[$file.BaseName] = $file.FullName
    }
}

$entries = foreach ($command in $cmdlets) {
    $name = $command.Name
    if (-not $markdown.ContainsKey($name)) {
        $problems.Add("$name is exported but has no help: write docs/cmdlets/$name.md (see the format at the top of docs/build-help.ps1).")
        continue
    }
    $path = $markdown[$name]
    $fileProblems = [System.Collections.Generic.List[string]]::new()
    $doc = Read-CmdletMarkdown $path $fileProblems
    $model = Get-CmdletModel $command

    if ($doc.Title -cne $name) { $fileProblems.Add("${path}: the title must be '# $name' (it is '# $($doc.Title)').") }
    foreach ($section in 'SYNOPSIS', 'DESCRIPTION') {
        if ((Get-SectionParagraphs $doc $section).Count -eq 0) { $fileProblems.Add("${path}: '## $section' is missing or empty.") }
    }
    if ($doc.Examples.Count -eq 0) { $fileProblems.Add("${path}: '## EXAMPLES' has no '### Example N: title'.") }
    foreach ($example in $doc.Examples) {
        if ($example.CodeBlocks.Count -eq 0 -or -not (($example.CodeBlocks | ForEach-Object { $_ -join '' }) -join '').Trim()) {
            $fileProblems.Add("${path}:$($example.Line): '### $($example.Title)' has no ``````powershell code block.")
        }
    }
    foreach ($p in $model.Parameters.Keys) {
        if ($p -in 'WhatIf', 'Confirm') { continue }
        if (-not $doc.Parameters.Contains($p)) {
            $fileProblems.Add("${path}: parameter -$p of $name is not described: add '### -$p' under '## PARAMETERS'.")
        }
        elseif ((ConvertTo-Paragraphs ($doc.Parameters[$p] | Where-Object { $_ -notmatch '^\s*Default value:' })).Count -eq 0) {
            $fileProblems.Add("${path}: '### -$p' has no description.")
        }
    }
    foreach ($p in $doc.Parameters.Keys) {
        if (-not $model.Parameters.Contains($p)) {
            $fileProblems.Add("${path}: '### -$p' describes a parameter $name does not have: remove it, or add the parameter to the cmdlet.")
        }
        elseif ($p -cne ($model.Parameters.Keys | Where-Object { $_ -eq $p })) {
            $fileProblems.Add("${path}: '### -$p' should be spelled '-$(($model.Parameters.Keys | Where-Object { $_ -eq $p }))'.")
        }
    }
    if ($fileProblems.Count) { $problems.AddRange($fileProblems); continue }
    [pscustomobject]@{ Model = $model; Doc = $doc }
}

if (-not (Test-Path $aboutFile)) { $problems.Add("$aboutFile is missing.") }

if ($problems.Count) {
    Write-Host "Help is out of date with the module ($($problems.Count) problem(s)):" -ForegroundColor Red
    foreach ($p in $problems) { Write-Host "  - $p" -ForegroundColor Red }
    exit 1
}

New-Item -ItemType Directory -Path $helpDir -Force | Out-Null
$settings = [System.Xml.XmlWriterSettings]::new()
$settings.Indent = $true
$settings.Encoding = [System.Text.UTF8Encoding]::new($false)
$settings.NewLineChars = "`n"
$writer = [System.Xml.XmlWriter]::Create($helpFile, $settings)
try {
    $writer.WriteStartDocument()
    $writer.WriteStartElement('helpItems', 'http://msh')
    $writer.WriteAttributeString('schema', 'maml')
    foreach ($entry in $entries) { Write-CommandHelp $writer $entry.Model $entry.Doc }
    $writer.WriteEndElement()
    $writer.WriteEndDocument()
}
finally {
    $writer.Dispose()
}
Copy-Item $aboutFile $helpDir -Force

Write-Host "Help for $(@($entries).Count) cmdlet(s) written to $helpFile"

#endregion
