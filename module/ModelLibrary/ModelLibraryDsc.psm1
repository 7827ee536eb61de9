# Desired State Configuration: a model that should (or should not) be Local in the library.
# One implementation (the functions below) serves both resources the module ships:
#   - the PSDSC class resource LibraryModel (Invoke-DscResource, Machine Configuration, scripts calling Get/Test/Set);
#   - the DSC v3 command resource ModelLibrary/LibraryModel (ModelLibrary.dsc.resource.json runs ModelLibrary.dsc.ps1,
#     which calls Invoke-LibraryModelDsc with the instance dsc sends on stdin).
# Ids go through Get-LibraryModel and Start-ModelDownload, so every id or model reference those cmdlets take works here.
# The functions are the module's own: the manifest exports none of them. Their ErrorIds are those of ErrorIds.cs.

enum Ensure {
    Absent
    Present
}

function ConvertTo-LibraryModelState {
    <# The DSC view of a model: id, _exist, provider, checksum, path, status, size (properties without a value left out). #>
    param([Parameter(Mandatory)] $Model, [Parameter(Mandatory)] [string] $Id)
    $state = [ordered]@{ id = $Id; _exist = ($Model.Status -eq 'Local') }
    if ($Model.Provider) { $state.provider = [string]$Model.Provider }
    if ($Model.Checksum) { $state.checksum = [string]$Model.Checksum }
    if ($Model.LocalPath) { $state.path = [string]$Model.LocalPath }
    $state.status = [string]$Model.Status
    $size = if ($null -ne $Model.DiskUsage) { $Model.DiskUsage } else { $Model.Size }
    if ($null -ne $size) { $state.size = [long]$size }
    $state
}

function New-LibraryModelDscError {
    param([string] $ErrorId, [string] $Message, $Target, [Management.Automation.ErrorCategory] $Category = 'InvalidOperation')
    [Management.Automation.ErrorRecord]::new([InvalidOperationException]::new($Message), $ErrorId, $Category, $Target)
}

function Get-LibraryModelState {
    <# The actual state of one model; a model nobody knows is simply absent. #>
    param([Parameter(Mandatory)] [string] $Id)
    if ([Management.Automation.WildcardPattern]::ContainsWildcardCharacters($Id)) {
        throw (New-LibraryModelDscError InvalidModelId "The id '$Id' has wildcard characters; a desired state names one model." $Id InvalidArgument)
    }

    $problems = $null
    $models = @(Get-LibraryModel -Id $Id -ErrorAction SilentlyContinue -ErrorVariable problems -WarningAction SilentlyContinue)
    $other = @($problems | Where-Object { $_.FullyQualifiedErrorId -notlike 'ModelNotFound,*' })
    if ($other) { throw $other[0] }
    if ($models.Count -eq 0) {
        return [ordered]@{ id = $Id; _exist = $false }
    }

    # A reference can list several models (one per quantization): the one named exactly, else the only one.
    $model = @($models | Where-Object Id -eq $Id)[0]
    if (-not $model) {
        if ($models.Count -gt 1) {
            throw (New-LibraryModelDscError AmbiguousModelReference "'$Id' names $($models.Count) models: $(($models.Id) -join ', '). Name one of them." $Id InvalidArgument)
        }
        $model = $models[0]
    }

    ConvertTo-LibraryModelState -Model $model -Id $Id
}

function Get-DesiredValue {
    param([Collections.IDictionary] $Desired, [string] $Name)
    foreach ($key in $Desired.Keys) {
        if ($key -eq $Name) { return $Desired[$key] }
    }
}

function Test-LibraryModelState {
    <# The actual state of the model with _inDesiredState: Local (or absent) as desired, with the provider and checksum asked for. #>
    param([Parameter(Mandatory)] [Collections.IDictionary] $Desired)
    $id = [string](Get-DesiredValue $Desired 'id')
    $actual = Get-LibraryModelState -Id $id
    $exist = Get-DesiredValue $Desired '_exist'
    $wantExist = if ($null -eq $exist) { $true } else { [bool]$exist }
    $provider = Get-DesiredValue $Desired 'provider'
    $checksum = Get-DesiredValue $Desired 'checksum'

    $inDesiredState = if (-not $wantExist) {
        # Absent: nothing of it on disk, not even a partial download.
        -not $actual._exist -and -not $actual.Contains('path') -and $actual.status -notin 'Downloading', 'Error'
    }
    else {
        $actual._exist -and
            (-not $provider -or $actual.provider -eq $provider) -and
            (-not $checksum -or $actual.checksum -eq $checksum)
    }

    $actual._inDesiredState = [bool]$inDesiredState
    $actual
}

function Set-LibraryModelState {
    <#
    Brings the model to the desired state and returns the state it is in then. Idempotent: a model already as desired
    is left alone (no request to its source). A state the library cannot reach is a terminating error.
    #>
    param([Parameter(Mandatory)] [Collections.IDictionary] $Desired)
    $id = [string](Get-DesiredValue $Desired 'id')
    $current = Test-LibraryModelState -Desired $Desired
    $inDesiredState = $current._inDesiredState
    $current.Remove('_inDesiredState')
    if ($inDesiredState) {
        return $current
    }

    $exist = Get-DesiredValue $Desired '_exist'
    if ($null -ne $exist -and -not [bool]$exist) {
        Remove-LibraryModel -Id $id -Confirm:$false -ErrorAction Stop -WarningAction SilentlyContinue | Out-Null
        return Get-LibraryModelState -Id $id
    }

    $provider = Get-DesiredValue $Desired 'provider'
    $checksum = Get-DesiredValue $Desired 'checksum'
    if ($provider -and $current.provider -and $current.provider -ne $provider) {
        throw (New-LibraryModelDscError DesiredStateUnreachable "'$id' is a $($current.provider) model; it cannot be had for provider '$provider'." $id)
    }
    if ($checksum -and $current.checksum -and $current.checksum -ne $checksum) {
        throw (New-LibraryModelDscError DesiredStateUnreachable "The source of '$id' offers $($current.checksum), not the desired $checksum." $id)
    }

    # Local with other bytes than wanted (or failing its check) is downloaded again; otherwise a plain download.
    $task = Start-ModelDownload -Id $id -Force:$current._exist -Confirm:$false -ErrorAction Stop -WarningAction SilentlyContinue -ProgressAction SilentlyContinue
    if (-not $task -or $task.Status -ne 'Completed') {
        $status = if ($task) { "ended as $($task.Status): $($task.ErrorMessage)" } else { 'did not start' }
        throw (New-LibraryModelDscError DownloadFailed "Downloading '$id' $status" $id)
    }

    $after = Get-LibraryModelState -Id $id
    if ($checksum -and $after.checksum -ne $checksum) {
        # The source stated no checksum, and the bytes are not the ones asked for: they do not stay.
        Remove-LibraryModel -Id $id -Confirm:$false -ErrorAction Stop -WarningAction SilentlyContinue | Out-Null
        throw (New-LibraryModelDscError ChecksumMismatch "'$id' downloaded as $($after.checksum), not the desired $checksum; it was removed again." $id InvalidData)
    }

    $after
}

function ConvertFrom-LibraryModelDscInstance {
    <# The instance dsc sent, checked: a JSON object with a string id. #>
    param([string] $Json)
    try {
        $instance = $Json | ConvertFrom-Json -AsHashtable -ErrorAction Stop
    }
    catch {
        throw (New-LibraryModelDscError InvalidDscInstance "The instance on stdin is not JSON: $($_.Exception.Message)" $Json InvalidArgument)
    }
    if ($instance -isnot [Collections.IDictionary] -or -not ((Get-DesiredValue $instance 'id') -is [string]) -or -not (Get-DesiredValue $instance 'id')) {
        throw (New-LibraryModelDscError InvalidDscInstance "The instance on stdin must be a JSON object with a string 'id'." $Json InvalidArgument)
    }
    $instance
}

function Invoke-LibraryModelDsc {
    <# One DSC v3 operation: the instance JSON in, JSON lines out (one line; export: one per Local model). #>
    param(
        [Parameter(Mandatory)] [ValidateSet('get', 'set', 'test', 'export')] [string] $Operation,
        [string] $Json
    )
    if ($Operation -eq 'export') {
        foreach ($model in Get-LibraryModel -Status Local -WarningAction SilentlyContinue) {
            ConvertTo-LibraryModelState -Model $model -Id $model.Id | ConvertTo-Json -Compress
        }
        return
    }

    $desired = ConvertFrom-LibraryModelDscInstance $Json
    $state = switch ($Operation) {
        'get' { Get-LibraryModelState -Id (Get-DesiredValue $desired 'id') }
        'test' { Test-LibraryModelState -Desired $desired }
        'set' { Set-LibraryModelState -Desired $desired }
    }
    $state | ConvertTo-Json -Compress
}

[DscResource()]
class LibraryModel {
    # The model id, or a model reference, as Get-LibraryModel takes it.
    [DscProperty(Key)]
    [string] $Id

    # Present: the model is downloaded and Local. Absent: nothing of it is on disk.
    [DscProperty()]
    [Ensure] $Ensure = [Ensure]::Present

    # The provider the model must be for (llama-cpp, transformers, ...); empty: any.
    [DscProperty()]
    [string] $Provider

    # The content the model must have (sha256:<hex>); empty: whatever its source states.
    [DscProperty()]
    [string] $Checksum

    # Download again even when Local, when Test finds the file failing Test-LibraryModel.
    [DscProperty()]
    [bool] $Verify = $false

    [DscProperty(NotConfigurable)]
    [string] $Status

    # Where the model's file (or folder) lies.
    [DscProperty(NotConfigurable)]
    [string] $Path

    # The same as Path; kept for configurations written before Path.
    [DscProperty(NotConfigurable)]
    [string] $LocalPath

    # Bytes on disk when Local, else the size its source states.
    [DscProperty(NotConfigurable)]
    [long] $Size

    hidden [Collections.IDictionary] Desired() {
        $desired = [ordered]@{ id = $this.Id; _exist = ($this.Ensure -eq [Ensure]::Present) }
        if ($this.Provider) { $desired.provider = $this.Provider }
        if ($this.Checksum) { $desired.checksum = $this.Checksum }
        return $desired
    }

    [LibraryModel] Get() {
        $state = Get-LibraryModelState -Id $this.Id
        if (-not $state.Contains('status') -and $this.Ensure -ne [Ensure]::Absent) {
            # No source knows the id: absent is what Ensure = Absent asks for; for Present it is an error (a typo,
            # a source not registered), told now with ModelNotFound rather than as a state nothing could reach.
            Get-LibraryModel -Id $this.Id -ErrorAction Stop
        }

        $current = [LibraryModel]::new()
        $current.Id = $this.Id
        $current.Ensure = if ($state._exist) { [Ensure]::Present } else { [Ensure]::Absent }
        $current.Provider = $state.provider
        $current.Checksum = $state.checksum
        $current.Verify = $this.Verify
        $current.Status = $state.status
        $current.Path = $state.path
        $current.LocalPath = $state.path
        $current.Size = if ($null -ne $state.size) { $state.size } else { 0 }
        return $current
    }

    [bool] Test() {
        if (-not (Test-LibraryModelState -Desired $this.Desired())._inDesiredState) {
            return $false
        }

        if ($this.Verify -and $this.Ensure -eq [Ensure]::Present) {
            $result = Test-LibraryModel -Id $this.Id -NoQuarantine -ErrorAction SilentlyContinue
            return [bool]$result.Passed
        }

        return $true
    }

    [void] Set() {
        if ($this.Verify -and $this.Ensure -eq [Ensure]::Present -and (Test-LibraryModelState -Desired $this.Desired())._inDesiredState -and -not $this.Test()) {
            # Local but failing its check: the one case where the state alone does not tell that a download is due.
            $task = Start-ModelDownload -Id $this.Id -Force -Confirm:$false -ErrorAction Stop -ProgressAction SilentlyContinue
            if (-not $task -or $task.Status -ne 'Completed') {
                throw "Downloading '$($this.Id)' ended as $($task.Status): $($task.ErrorMessage)"
            }
            return
        }

        Set-LibraryModelState -Desired $this.Desired() | Out-Null
    }
}
