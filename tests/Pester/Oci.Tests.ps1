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
    $script:RegistryServer = Start-TestRegistry -Root $RegistryRoot -Auth @"
  htpasswd:
    realm: pester
    path: $RegistryRoot/htpasswd
"@
    $script:RegistryProcess = $RegistryServer.Process
    $script:Registry = $RegistryServer.Address

    # Docker's config, empty unless a test writes it: the machine's own logins never take part.
    $script:SavedDockerConfig = $env:DOCKER_CONFIG
    $env:DOCKER_CONFIG = Join-Path $RegistryRoot 'docker'
    New-Item -ItemType Directory $env:DOCKER_CONFIG | Out-Null

    function script:Sha256([string] $Path) { 'sha256:' + (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant() }
    # Plain HTTP pushes written from the distribution spec (docs/spec/api.md: POST .../blobs/uploads/, PUT <location>
    # ?digest=, PUT .../manifests/<tag>), without the module: an independent writer of the artifacts the module pulls.
    $script:BasicHeader = @{ Authorization = 'Basic ' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("${User}:$Password")) }
    function script:Send-Blob([string] $Repository, [byte[]] $Bytes) {
        $start = Invoke-WebRequest -Method Post "http://$Registry/v2/$Repository/blobs/uploads/" -Headers $BasicHeader
        $location = [uri]::new([uri]"http://$Registry/", [string]$start.Headers.Location[0])
        $digest = 'sha256:' + [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($Bytes)).ToLowerInvariant()
        $separator = if ($location.Query) { '&' } else { '?' }
        $null = Invoke-WebRequest -Method Put "$location${separator}digest=$digest" -Headers $BasicHeader -Body $Bytes -ContentType 'application/octet-stream'
        [pscustomobject]@{ digest = $digest; size = $Bytes.Length }
    }
    function script:Send-ModelPack([string] $Repository, [string] $Tag, [object[]] $Layers) {
        # Layers: @{ MediaType; Bytes; Path (org.cncf.model.filepath, optional) }. Config as modelpack/model-spec docs/config.md.
        $config = [Text.Encoding]::UTF8.GetBytes('{"descriptor":{"name":"packed"},"config":{"format":"gguf","architecture":"llama","paramSize":"260K"},"modelfs":{"type":"layers","diff_ids":[]}}')
        $c = Send-Blob $Repository $config
        $descriptors = foreach ($l in $Layers) {
            $b = Send-Blob $Repository $l.Bytes
            $d = [ordered]@{ mediaType = $l.MediaType; digest = $b.digest; size = $b.size }
            if ($l.Path) { $d.annotations = @{ 'org.cncf.model.filepath' = $l.Path } }
            $d
        }
        $manifest = [ordered]@{
            schemaVersion = 2; mediaType = 'application/vnd.oci.image.manifest.v1+json'
            artifactType = 'application/vnd.cncf.model.manifest.v1+json'
            config = [ordered]@{ mediaType = 'application/vnd.cncf.model.config.v1+json'; digest = $c.digest; size = $c.size }
            layers = @($descriptors)
        } | ConvertTo-Json -Depth 6 -Compress
        $null = Invoke-WebRequest -Method Put "http://$Registry/v2/$Repository/manifests/$Tag" -Headers $BasicHeader -Body $manifest -ContentType 'application/vnd.oci.image.manifest.v1+json'
        "$Registry/${Repository}:$Tag"
    }
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

    It 'gives up on a registry that takes the connection and never answers, with a warning naming it (no hang)' {
        $null = New-TestLibrary
        # A listener nobody accepts from: the kernel completes the connection, and no byte ever comes back.
        $silent = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $silent.Start()
        try {
            $address = "127.0.0.1:$($silent.LocalEndpoint.Port)"
            # Registered as any source that is down when it is registered: with a warning saying why.
            $w = $null
            Register-ModelSource -Name silent -Type Oci -Uri "http://$address" -WarningVariable w -WarningAction SilentlyContinue | Out-Null
            "$w" | Should -Match ([regex]::Escape($address))
            "$w" | Should -Match 'did not answer within 15 seconds'
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $w = $null
            Get-LibraryModel -Source silent -WarningVariable w -WarningAction SilentlyContinue | Should -BeNullOrEmpty
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 60 -Because 'the answer timeout (15 s) bounds a listing too'
            "$w" | Should -Match "Model source 'silent' is unavailable"
        }
        finally { $silent.Stop() }
    }

    It 'completes -Destination (and registry references of Start-ModelDownload) from what the library knows, without asking a registry' {
        function Complete([string] $Line) { (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches }

        # A publisher with no source registered: the registry and repositories it published to are known from then on.
        $null = New-TestLibrary
        Import-LibraryModel -Path (Join-Path $Fixtures 'gguf/stories260K.gguf') -Id stories | Out-Null
        (Complete 'Publish-LibraryModel stories -Destination ').CompletionText | Should -Not -Contain "$Registry/"
        Publish-LibraryModel stories -Destination "$Registry/team/stories:v1" -Credential $Credential | Out-Null
        Publish-LibraryModel stories -Destination "$Registry/team/stories:v2" -Credential $Credential | Out-Null

        (Complete 'Publish-LibraryModel stories -Destination ').CompletionText | Should -Contain "$Registry/"
        $repositories = (Complete "Publish-LibraryModel stories -Destination $Registry/te").CompletionText
        $repositories | Should -Be @("$Registry/team/stories")
        $tags = Complete "Publish-LibraryModel stories -Destination $Registry/team/stories:"
        $tags.CompletionText | Should -Be @("$Registry/team/stories:v1", "$Registry/team/stories:v2")
        $tags[0].ToolTip | Should -Match 'published from stories'
        # No source lists this registry here: only the publications make the references complete.
        (Complete "Start-ModelDownload $Registry/team/stories:").CompletionText | Should -Be @("$Registry/team/stories:v1", "$Registry/team/stories:v2")

        # A machine that pulled v2 knows its registered registry and v2; the registry also has v1, but it is not asked.
        $null = New-TestLibrary
        Register-ModelSource -Name fleet -Type Oci -Uri "http://$Registry" -Credential $Credential | Out-Null
        Start-ModelDownload "$Registry/team/stories:v2" | Out-Null
        $registries = Complete 'Publish-LibraryModel stories -Destination '
        $registries.CompletionText | Should -Contain "$Registry/"
        ($registries | Where-Object CompletionText -eq "$Registry/").ToolTip | Should -Match "Oci source 'fleet'"
        (Complete "Publish-LibraryModel stories -Destination $Registry/team/stories:").CompletionText | Should -Be @("$Registry/team/stories:v2")
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

# CNCF ModelPack archive layers (modelpack/model-spec docs/spec.md, "layers"): application/vnd.cncf.model.weight.v1.tar
# is "a tar archive that contains the model weights file", .tar+gzip the same compressed with gzip, .tar+zstd with zstd;
# docs/annotations.md: org.cncf.model.filepath "specifies the file path of the layer" (for an archive: the file it holds,
# under its path in the model's folder; the spec's own example has archive layers without it). The archives here are
# written by GNU tar, an independent writer; the library reads them as Python's tarfile does (TarLayout).
Describe 'ModelPack archive layers' -Tag Oci, OciTar {
    BeforeAll {
        $script:Packed = Join-Path ([IO.Path]::GetTempPath()) ("ml-packed-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
        New-Item -ItemType Directory (Join-Path $Packed 'model') | Out-Null
        Copy-Item (Join-Path $Fixtures 'gguf/stories260K.gguf') (Join-Path $Packed 'model/stories.gguf')
        & tar -cf (Join-Path $Packed 'w.tar') -C (Join-Path $Packed 'model') stories.gguf
        & tar -czf (Join-Path $Packed 'w.tar.gz') -C (Join-Path $Packed 'model') ./stories.gguf
        $script:Expected = Sha256 (Join-Path $Packed 'model/stories.gguf')
        function script:Assert-NothingPlaced([string] $Root) {
            # No model folder, no staging folder, no stray file anywhere in the library.
            @(Get-ChildItem -Recurse -File $Root | Where-Object { $_.Name -notin 'registry.db', 'registry.db-wal', 'registry.db-shm' -and $_.Extension -ne '.lock' }) |
                ForEach-Object FullName | Should -BeNullOrEmpty
            Get-ChildItem -Recurse -Force $Root -Filter 'x' | Should -BeNullOrEmpty
        }
    }
    AfterAll { Remove-Item $Packed -Recurse -Force -ErrorAction SilentlyContinue }

    It 'pulls weights packed as tar (with the filepath annotation) and as tar+gzip (without), each a verified folder' {
        $tar = Send-ModelPack 'packed/stories' 'tar' @(@{ MediaType = 'application/vnd.cncf.model.weight.v1.tar'; Bytes = [IO.File]::ReadAllBytes((Join-Path $Packed 'w.tar')); Path = 'stories.gguf' })
        $tgz = Send-ModelPack 'packed/stories' 'tgz' @(@{ MediaType = 'application/vnd.cncf.model.weight.v1.tar+gzip'; Bytes = [IO.File]::ReadAllBytes((Join-Path $Packed 'w.tar.gz')) })
        $null = New-TestLibrary
        Register-ModelSource -Name fleet -Type Oci -Uri "http://$Registry" -Credential $Credential | Out-Null

        (Start-ModelDownload $tar).Status | Should -Be 'Completed'
        $m = Get-LibraryModel $tar
        $m.Status | Should -Be 'Local'
        Split-Path $m.LocalPath -Leaf | Should -Be 'stories.gguf'
        Sha256 $m.LocalPath | Should -Be $Expected
        (Test-LibraryModel $tar).Passed | Should -BeTrue
        (Get-ChildItem -File (Split-Path $m.LocalPath)).Name | Should -Be @('stories.gguf')   # the archive itself is not kept

        (Start-ModelDownload $tgz).Status | Should -Be 'Completed'
        $g = Get-LibraryModel $tgz
        $g.Status | Should -Be 'Local'
        Sha256 (Join-Path $g.LocalPath 'stories.gguf') | Should -Be $Expected
        (Test-LibraryModel $tgz).Passed | Should -BeTrue
    }

    It 'refuses tar+zstd naming the media type, and a hostile tar (../x, a link to /etc) with nothing written' {
        $zstd = Send-ModelPack 'packed/hostile' 'zstd' @(@{ MediaType = 'application/vnd.cncf.model.weight.v1.tar+zstd'; Bytes = [IO.File]::ReadAllBytes((Join-Path $Packed 'w.tar')); Path = 'stories.gguf' })
        # GNU tar keeps "../x" as written with -P; a symbolic link is stored as a link.
        New-Item -ItemType Directory (Join-Path $Packed 'evil/in') -Force | Out-Null
        Set-Content (Join-Path $Packed 'evil/x') 'escaped'
        & tar -cf (Join-Path $Packed 'dotdot.tar') -C (Join-Path $Packed 'evil/in') -P ../x 2>$null
        (& tar -tf (Join-Path $Packed 'dotdot.tar') 2>$null) | Should -Be '../x'
        New-Item -ItemType SymbolicLink -Path (Join-Path $Packed 'model/etc') -Target '/etc' | Out-Null
        & tar -cf (Join-Path $Packed 'link.tar') -C (Join-Path $Packed 'model') stories.gguf etc
        $dotdot = Send-ModelPack 'packed/hostile' 'dotdot' @(@{ MediaType = 'application/vnd.cncf.model.weight.v1.tar'; Bytes = [IO.File]::ReadAllBytes((Join-Path $Packed 'dotdot.tar')) })
        $link = Send-ModelPack 'packed/hostile' 'link' @(@{ MediaType = 'application/vnd.cncf.model.weight.v1.tar'; Bytes = [IO.File]::ReadAllBytes((Join-Path $Packed 'link.tar')) })
        $root = New-TestLibrary
        Register-ModelSource -Name fleet -Type Oci -Uri "http://$Registry" -Credential $Credential | Out-Null

        $err = $null
        Start-ModelDownload $zstd -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidModelFile,*'
        $err[0].Exception.Message | Should -Match ([regex]::Escape('application/vnd.cncf.model.weight.v1.tar+zstd'))

        foreach ($hostile in $dotdot, $link) {
            $err = $null
            Start-ModelDownload $hostile -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'UnsafeModelContent,*' -Because $hostile
            (Get-LibraryModel $hostile).Status | Should -Not -Be 'Local'
        }
        $err[0].Exception.Message | Should -Match "'etc'"
        Assert-NothingPlaced $root
        Get-Content (Join-Path $Packed 'evil/x') | Should -Be 'escaped'
    }
}

# A bearer token that dies in the middle of a download (distribution/distribution docs/spec/auth/token.md: the registry
# answers 401 with a new Bearer challenge; a client fetches a fresh token from the realm and carries on, as docker's
# registry client does when a token it holds is refused). The token server (tests/ModelLibrary.TestServer
# RegistryTokenServer, realm on 127.0.0.2) issues tokens that expires_in says last 300 s but that the registry refuses
# after 2 s (validFor), i.e. revoked or signed by a clock that runs ahead; the client cannot know until it is refused.
Describe 'A registry token that expires mid-download' -Tag Oci, OciToken {
    BeforeAll {
        $script:TokenRoot = Join-Path ([IO.Path]::GetTempPath()) ("ml-token-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
        New-Item -ItemType Directory $TokenRoot | Out-Null
        $psi = [Diagnostics.ProcessStartInfo]::new('dotnet')
        foreach ($a in @($env:MODELLIBRARY_TEST_SERVER, '--token', "${User}:$Password", (Join-Path $TokenRoot 'token.pem'))) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardInput = $true; $psi.RedirectStandardOutput = $true; $psi.UseShellExecute = $false
        $script:TokenServer = [Diagnostics.Process]::Start($psi)
        $line = $TokenServer.StandardOutput.ReadLine()
        if ($line -notmatch 'token (\S+)') { $TokenServer.Kill(); throw "The token server did not start: '$line'." }
        $script:Realm = [uri]$Matches[1]
        $script:TokenControl = "http://$($Realm.Authority)/_control/token"
        # auth.token as distribution's docs/configuration.md describes it; issuer and service as RegistryTokenServer signs.
        $started = Start-TestRegistry -Root $TokenRoot -Auth @"
  token:
    realm: $Realm
    service: modellibrary-test-registry
    issuer: modellibrary-test-issuer
    rootcertbundle: $TokenRoot/token.pem
"@
        $script:TokenRegistryProcess = $started.Process
        $script:TokenRegistry = $started.Address
        function script:Set-TokenServer([hashtable] $Settings) {
            $null = Invoke-RestMethod -Method Post $TokenControl -Body ($Settings | ConvertTo-Json) -ContentType 'application/json'
        }

        # A model of two layers (weights, then a licence), published while tokens live long: the download fetches the
        # second blob after the first, so its requests come after a 2 s token has died. Published by another process,
        # so that this one holds no token for the registry that was issued before a test set the token server up.
        $dir = Join-Path $TokenRoot 'model'
        New-Item -ItemType Directory $dir | Out-Null
        Copy-Item (Join-Path $Fixtures 'gguf/stories260K.gguf') (Join-Path $dir 'stories.gguf')
        Set-Content (Join-Path $dir 'LICENSE') 'MIT'
        $publisher = Invoke-ChildPwsh -Environment @{ REG = $TokenRegistry; MODEL = (Join-Path $dir 'stories.gguf'); LIB = (Join-Path $TokenRoot 'publisher'); PASS = $Password } -Script @'
New-Item -ItemType Directory $env:LIB | Out-Null
Set-ModelLibraryConfiguration -ModelsDirectory $env:LIB
$credential = [pscredential]::new('fleet', (ConvertTo-SecureString $env:PASS -AsPlainText -Force))
Register-ModelSource -Name tokens -Type Oci -Uri "http://$env:REG" -Credential $credential | Out-Null
Import-LibraryModel -Path $env:MODEL -Id token-stories | Out-Null
(Publish-LibraryModel token-stories -Destination "$env:REG/team/stories:v1" -ErrorAction Stop).Reference
'@
        if ($publisher.ExitCode -ne 0) { throw "Publishing failed: $($publisher.Error)" }
        # A second layer through the spec's plain HTTP with a bearer token: the licence joins the manifest.
        $token = (Invoke-RestMethod "$Realm`?service=modellibrary-test-registry&scope=repository:team/stories:pull,push" -Headers $BasicHeader).token
        $bearer = @{ Authorization = "Bearer $token" }
        $accept = @{ Accept = 'application/vnd.oci.image.manifest.v1+json' } + $bearer
        $manifest = Invoke-RestMethod "http://$TokenRegistry/v2/team/stories/manifests/v1" -Headers $accept
        $licence = [IO.File]::ReadAllBytes((Join-Path $dir 'LICENSE'))
        $start = Invoke-WebRequest -Method Post "http://$TokenRegistry/v2/team/stories/blobs/uploads/" -Headers $bearer
        $location = [uri]::new([uri]"http://$TokenRegistry/", [string]$start.Headers.Location[0])
        $digest = 'sha256:' + [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($licence)).ToLowerInvariant()
        $null = Invoke-WebRequest -Method Put "$location&digest=$digest" -Headers $bearer -Body $licence -ContentType 'application/octet-stream'
        $manifest.layers += [pscustomobject]@{ mediaType = 'application/vnd.cncf.model.doc.v1.raw'; digest = $digest; size = $licence.Length; annotations = @{ 'org.cncf.model.filepath' = 'LICENSE' } }
        $null = Invoke-WebRequest -Method Put "http://$TokenRegistry/v2/team/stories/manifests/v2" -Headers $bearer -Body ($manifest | ConvertTo-Json -Depth 8 -Compress) -ContentType 'application/vnd.oci.image.manifest.v1+json'
        $script:TwoLayers = "$TokenRegistry/team/stories:v2"
        $script:Expected = Sha256 (Join-Path $dir 'stories.gguf')
    }
    AfterAll {
        if ($TokenRegistryProcess -and -not $TokenRegistryProcess.HasExited) { $TokenRegistryProcess.Kill($true); $TokenRegistryProcess.WaitForExit(10000) }
        if ($TokenServer) { try { $TokenServer.StandardInput.Close() } catch { }; if (-not $TokenServer.WaitForExit(5000)) { $TokenServer.Kill($true) } }
        Remove-Item $TokenRoot -Recurse -Force -ErrorAction SilentlyContinue
    }
    AfterEach { Set-TokenServer @{ validFor = $null; grantNothing = $false } }

    It 'logs in again once and finishes the download' {
        $null = New-TestLibrary
        # Before registering: Register-ModelSource lists the registry, and so holds tokens from then on.
        Set-TokenServer @{ validFor = 2; resetStats = $true }
        Register-ModelSource -Name tokens -Type Oci -Uri "http://$TokenRegistry" -Credential $Credential | Out-Null
        # ~1.2 MB at 300 KB/s: the licence's requests come some 4 s after the token was issued.
        $task = Start-ModelDownload $TwoLayers -MaxBytesPerSecond 300KB
        $task.Status | Should -Be 'Completed'
        $m = Get-LibraryModel $TwoLayers
        $m.Status | Should -Be 'Local'
        Sha256 $m.LocalPath | Should -Be $Expected
        Get-Content (Join-Path (Split-Path $m.LocalPath) 'LICENSE') | Should -Be 'MIT'
        (Invoke-RestMethod "http://$($Realm.Authority)/_stats/token").issued | Should -BeGreaterThan 1
    }

    It 'says AuthenticationRequired naming the registry when the fresh login is refused too' {
        $null = New-TestLibrary
        Set-TokenServer @{ validFor = 2 }
        Register-ModelSource -Name tokens -Type Oci -Uri "http://$TokenRegistry" -Credential $Credential | Out-Null
        $job = Start-ModelDownload $TwoLayers -MaxBytesPerSecond 300KB -AsJob
        try {
            # Once the weights are on their way, the token service stops granting access (a licence revoked).
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while (-not (Get-ModelDownload -ModelId $TwoLayers | Where-Object DownloadedSize -gt 0) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
            Set-TokenServer @{ grantNothing = $true }
            $null = $job | Wait-Job -Timeout 90
            $job.State | Should -Not -Be 'Running'
            $err = $null
            $job | Receive-Job -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        }
        finally { $job | Remove-Job -Force }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AuthenticationRequired*'
        $err[0].Exception.Message | Should -Match ([regex]::Escape($TokenRegistry))
        (Get-ModelDownload -ModelId $TwoLayers).Status | Should -Be 'Failed'
    }
}
