# Desired State Configuration: a model that should (or should not) be Local in the library. Class-based, so DSC v3,
# Machine Configuration and Invoke-DscResource can use it, and scripts can call Get/Test/Set directly.

enum Ensure {
    Absent
    Present
}

[DscResource()]
class LibraryModel {
    # The model id, as Get-LibraryModel lists it.
    [DscProperty(Key)]
    [string] $Id

    # Present: the model is downloaded and Local. Absent: nothing of it is on disk.
    [DscProperty()]
    [Ensure] $Ensure = [Ensure]::Present

    # Download again even when Local, when Test finds the file failing Test-LibraryModel.
    [DscProperty()]
    [bool] $Verify = $false

    [DscProperty(NotConfigurable)]
    [string] $Status

    [DscProperty(NotConfigurable)]
    [string] $LocalPath

    [LibraryModel] Get() {
        try {
            $model = Get-LibraryModel -Id $this.Id -ErrorAction Stop
        }
        catch {
            # A model no catalog lists and nothing on disk is absent, which is what Ensure = Absent asks for; for
            # Present it is an error (nothing to download).
            if ($this.Ensure -ne [Ensure]::Absent -or $_.FullyQualifiedErrorId -notlike 'ModelNotFound*') { throw }
            $absent = [LibraryModel]::new()
            $absent.Id = $this.Id
            $absent.Ensure = [Ensure]::Absent
            $absent.Verify = $this.Verify
            return $absent
        }

        $current = [LibraryModel]::new()
        $current.Id = $model.Id
        $current.Ensure = if ($model.Status -eq 'Local') { [Ensure]::Present } else { [Ensure]::Absent }
        $current.Verify = $this.Verify
        $current.Status = $model.Status
        $current.LocalPath = $model.LocalPath
        return $current
    }

    [bool] Test() {
        $current = $this.Get()
        if ($this.Ensure -eq [Ensure]::Absent) {
            return $current.Ensure -eq [Ensure]::Absent -and -not $current.LocalPath
        }

        if ($current.Ensure -ne [Ensure]::Present) {
            return $false
        }

        if ($this.Verify) {
            $result = Test-LibraryModel -Id $this.Id -NoQuarantine -ErrorAction SilentlyContinue
            return [bool]$result.Passed
        }

        return $true
    }

    [void] Set() {
        if ($this.Ensure -eq [Ensure]::Absent) {
            if ($this.Test()) { return }
            Remove-LibraryModel -Id $this.Id -Confirm:$false -ErrorAction Stop
            return
        }

        $force = $this.Get().Ensure -eq [Ensure]::Present
        $task = Start-ModelDownload -Id $this.Id -Force:$force -Confirm:$false -ErrorAction Stop -ProgressAction SilentlyContinue
        if ($task -and $task.Status -ne 'Completed') {
            throw "Downloading '$($this.Id)' ended as $($task.Status): $($task.ErrorMessage)"
        }
    }
}
