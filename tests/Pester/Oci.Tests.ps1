# An OCI registry as the fleet's model store, end to end through the built module: Register-ModelSource -Type Oci,
# Publish-LibraryModel, Get-LibraryModel -Source, Start-ModelDownload of a registry reference, and a fleet of pwsh
# processes pulling one published model at once. The registry is Debian's docker-registry (distribution/distribution
# 2.8, `docker-registry serve config.yml`) with htpasswd basic auth; skopeo reads what is published. .ci/run installs
# both (apt-get install -y docker-registry skopeo apache2-utils).

BeforeAll {
    Import-Module $env:MODELLIBRARY_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:Fixtures = Get-FixturesDirectory
    $script:User = 'fleet'
    $script:Password = 'pester-pass'
    $script:Credential = [pscredential]::new($User, (ConvertTo-SecureString $Password -AsPlainText -Force))

    # One registry for the suite: config after distribution's docs/configuration.md, on a free loopback port.
    $script:RegistryRoot = Join-Path ([IO.Path]::GetTempPath()) ("ml-registry-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
    New-Item -ItemType Directory $RegistryRoot | Out-Null
    (& htpasswd -Bbn $User $Password) | Set-Content (Join-Path $RegistryRoot 'htpasswd')
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
    @"
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $RegistryRoot/data
http:
  addr: 127.0.0.1:$port
  secret: pester-secret
auth:
  htpasswd:
    realm: pester
    path: $RegistryRoot/htpasswd
"@ | Set-Content (Join-Path $RegistryRoot 'config.yml')
    $psi = [Diagnostics.ProcessStartInfo]::new('docker-registry')
    $psi.ArgumentList.Add('serve'); $psi.ArgumentList.Add((Join-Path $RegistryRoot 'config.yml'))
    $psi.UseShellExecute = $false; $psi.RedirectStandardError = $true; $psi.RedirectStandardOutput = $true
    $script:RegistryProcess = [Diagnostics.Process]::Start($psi)
    $null = $RegistryProcess.StandardOutput.ReadToEndAsync(); $null = $RegistryProcess.StandardError.ReadToEndAsync()
    $script:Registry = "127.0.0.1:$port"
    $deadline = [DateTime]::UtcNow.AddSeconds(20)
    while ($true) {
        try { $null = Invoke-WebRequest "http://$Registry/v2/" -SkipHttpErrorCheck -TimeoutSec 2; break }
        catch { if ([DateTime]::UtcNow -gt $deadline) { throw "docker-registry did not start on $Registry" }; Start-Sleep -Milliseconds 100 }
    }

    # Docker's config, empty unless a test writes it: the machine's own logins never take part.
    $script:SavedDockerConfig = $env:DOCKER_CONFIG
    $env:DOCKER_CONFIG = Join-Path $RegistryRoot 'docker'
    New-Item -ItemType Directory $env:DOCKER_CONFIG | Out-Null

    function script:Sha256([string] $Path) { 'sha256:' + (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant() }
    function script:Get-Tags([string] $Repository) {
        $basic = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("${User}:$Password"))
        Invoke-WebRequest "http://$Registry/v2/$Repository/tags/list" -Headers @{ Authorization = "Basic $basic" } -SkipHttpErrorCheck
    }
}

AfterAll {
    if ($RegistryProcess -and -not $RegistryProcess.HasExited) { $RegistryProcess.Kill($true); $RegistryProcess.WaitForExit(10000) }
    $env:DOCKER_CONFIG = $SavedDockerConfig
    Remove-Item $RegistryRoot -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Publish-LibraryModel and registry references' -Tag Oci {
    It 'publishes a verified model as ModelPack (-WhatIf sends nothing), lists its tag and pulls it into another library' {
        $null = New-TestLibrary
        $local = Import-LibraryModel -Path (Join-Path $Fixtures 'gguf/stories260K.gguf') -Id stories
        Register-ModelSource -Name fleet -Type Oci -Uri "http://$Registry" -Credential $Credential | Out-Null
        (Get-ModelSource fleet).Type | Should -Be 'Oci'

        Publish-LibraryModel stories -Destination "$Registry/fleet/stories:v1" -WhatIf
        (Get-Tags 'fleet/stories').StatusCode | Should -Be 404

        $result = Publish-LibraryModel stories -Destination "$Registry/fleet/stories:v1"
        $result.PSObject.TypeNames[0] | Should -Be 'ModelLibrary.PublishResult'
        $result.Reference | Should -Be "$Registry/fleet/stories:v1"
        $result.Format | Should -Be 'ModelPack'
        $result.BlobsUploaded | Should -Be 2
        $result.BlobsSkipped | Should -Be 0
        $result.Size | Should -BeGreaterThan (Get-Item $local.LocalPath).Length
        ($result | Format-Table | Out-String -Width 250) | Should -Match 'Sent\s+Had\s+Digest'
        $raw = & skopeo inspect --raw --tls-verify=false --creds "${User}:$Password" "docker://$($result.Reference)" | ConvertFrom-Json
        $raw.artifactType | Should -Be 'application/vnd.cncf.model.manifest.v1+json'
        $raw.layers[0].digest | Should -Be $local.Checksum

        $again = Publish-LibraryModel stories -Destination "$Registry/fleet/stories:v2"
        $again.BlobsUploaded | Should -Be 0
        $again.BlobsSkipped | Should -Be 2

        $listed = Get-LibraryModel -Source fleet
        $listed.Id | Should -Contain "$Registry/fleet/stories:v1"
        $listed.Id | Should -Contain "$Registry/fleet/stories:v2"

        $null = New-TestLibrary
        Register-ModelSource -Name fleet -Type Oci -Uri "http://$Registry" -Credential $Credential | Out-Null
        $available = Get-LibraryModel "$Registry/fleet/stories:v1"
        $available.Status | Should -Be 'Available'
        $available.Revision | Should -Be $result.Digest
        $task = Start-ModelDownload "$Registry/fleet/stories:v1"
        $task.Status | Should -Be 'Completed'
        $pulled = Get-LibraryModel "$Registry/fleet/stories:v1"
        $pulled.Status | Should -Be 'Local'
        $pulled.Revision | Should -Be $result.Digest
        Sha256 $pulled.LocalPath | Should -Be $local.Checksum
    }

    It 'publishes as Docker Model Runner and Ollama for those tools, and refuses an Ollama safetensors model' {
        $null = New-TestLibrary
        Import-LibraryModel -Path (Join-Path $Fixtures 'gguf/ggml-vocab-gpt-2.gguf') -Id gpt2-vocab | Out-Null
        Import-LibraryModel -Path (Join-Path $Fixtures 'safetensors/voices.safetensors') -Id voices | Out-Null

        $docker = 'gpt2-vocab' | Publish-LibraryModel -Destination "$Registry/ai/gpt2" -Format Docker -Credential $Credential
        $ollama = Publish-LibraryModel gpt2-vocab -Destination "$Registry/library/gpt2:latest" -Format Ollama -Credential $Credential
        $docker.Reference | Should -Be "$Registry/ai/gpt2:latest"
        (& skopeo inspect --raw --tls-verify=false --creds "${User}:$Password" "docker://$($docker.Reference)" | ConvertFrom-Json).layers[0].mediaType |
            Should -Be 'application/vnd.docker.ai.gguf.v3'
        (& skopeo inspect --raw --tls-verify=false --creds "${User}:$Password" "docker://$($ollama.Reference)" | ConvertFrom-Json).layers[0].mediaType |
            Should -Be 'application/vnd.ollama.image.model'

        { Publish-LibraryModel voices -Destination "$Registry/library/voices" -Format Ollama -Credential $Credential -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidModelFile,ModelLibrary.PowerShell.Publishing.PublishLibraryModelCommand'
    }

    It 'refuses to publish a model whose file no longer matches its checksum, and sends nothing' {
        $null = New-TestLibrary
        $copy = Join-Path ([IO.Path]::GetTempPath()) ("ml-tamper-" + [guid]::NewGuid().ToString('n').Substring(0, 8) + '.gguf')
        Copy-Item (Join-Path $Fixtures 'gguf/ggml-vocab-phi-3.gguf') $copy
        $model = Import-LibraryModel -Path $copy -Id tampered
        $bytes = [IO.File]::ReadAllBytes($model.LocalPath); $bytes[-1] = $bytes[-1] -bxor 0xFF; [IO.File]::WriteAllBytes($model.LocalPath, $bytes)

        { Publish-LibraryModel tampered -Destination "$Registry/fleet/tampered:v1" -Credential $Credential -ErrorAction Stop } |
            Should -Throw -ErrorId 'ChecksumMismatch,ModelLibrary.PowerShell.Publishing.PublishLibraryModelCommand'
        (Get-Tags 'fleet/tampered').StatusCode | Should -Be 404
        Remove-Item $copy -ErrorAction SilentlyContinue
    }

    It 'says AuthenticationRequired naming the registry when no login is known' {
        $null = New-TestLibrary
        $err = $null
        Start-ModelDownload "$Registry/fleet/stories:v1" -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AuthenticationRequired,*'
        $err[0].Exception.Message | Should -Match ([regex]::Escape($Registry))
    }

    It 'a fleet of six pwsh processes with separate libraries pulls the same published model at once, each ending with the same verified file' {
        $null = New-TestLibrary
        $model = Import-LibraryModel -Path (Join-Path $Fixtures 'gguf/ggml-vocab-falcon.gguf') -Id falcon-vocab
        $published = Publish-LibraryModel falcon-vocab -Destination "$Registry/fleet/falcon:prod" -Credential $Credential
        # The machines logged in with `docker login`: a plain auths entry in Docker's config.json.
        $auth = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("${User}:$Password"))
        @{ auths = @{ $Registry = @{ auth = $auth } } } | ConvertTo-Json -Depth 4 | Set-Content (Join-Path $env:DOCKER_CONFIG 'config.json')

        $script = @'
$dir = Join-Path ([IO.Path]::GetTempPath()) ("ml-fleet-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
New-Item -ItemType Directory $dir | Out-Null
Set-ModelLibraryConfiguration -ModelsDirectory $dir
$task = Start-ModelDownload $env:FLEET_REFERENCE -ErrorAction Stop
$m = Get-LibraryModel $env:FLEET_REFERENCE
$check = Test-LibraryModel $env:FLEET_REFERENCE
[pscustomobject]@{ Status = "$($m.Status)"; Revision = $m.Revision; Sha = 'sha256:' + (Get-FileHash -LiteralPath $m.LocalPath -Algorithm SHA256).Hash.ToLowerInvariant(); Passed = $check.Passed; Task = "$($task.Status)" } | ConvertTo-Json -Compress
'@
        $file = Join-Path ([IO.Path]::GetTempPath()) ("ml-fleet-" + [guid]::NewGuid().ToString('n') + '.ps1')
        Set-Content $file ("`$PSStyle.OutputRendering = 'PlainText'`nImport-Module '$($env:MODELLIBRARY_TEST_MODULE)' -ErrorAction Stop`n" + $script)
        $machines = 1..6 | ForEach-Object {
            $psi = New-PwshStartInfo -Arguments @('-NoProfile', '-NonInteractive', '-File', $file)
            $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true
            $psi.Environment['FLEET_REFERENCE'] = $published.Reference
            $psi.Environment['DOCKER_CONFIG'] = $env:DOCKER_CONFIG
            $p = [Diagnostics.Process]::Start($psi)
            [pscustomobject]@{ Process = $p; Out = $p.StandardOutput.ReadToEndAsync(); Err = $p.StandardError.ReadToEndAsync() }
        }
        try {
            foreach ($m in $machines) {
                if (-not $m.Process.WaitForExit(240000)) { throw 'a fleet machine did not finish within 4 minutes' }
            }
            $results = foreach ($m in $machines) {
                $m.Process.ExitCode | Should -Be 0 -Because $m.Err.Result
                $m.Out.Result.Trim() -split "`n" | Select-Object -Last 1 | ConvertFrom-Json
            }
        }
        finally {
            foreach ($m in $machines) { if (-not $m.Process.HasExited) { $m.Process.Kill($true) } }
            Remove-Item $file, (Join-Path $env:DOCKER_CONFIG 'config.json') -ErrorAction SilentlyContinue
        }

        $results.Count | Should -Be 6
        foreach ($r in $results) {
            $r.Task | Should -Be 'Completed'
            $r.Status | Should -Be 'Local'
            $r.Passed | Should -BeTrue
            $r.Sha | Should -Be $model.Checksum
            $r.Revision | Should -Be $published.Digest
        }
    }
}
