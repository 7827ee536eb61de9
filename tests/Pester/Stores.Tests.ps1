# Other tools' stores read in place (OllamaStore, HuggingFaceCache, LMStudio, Directory), end to end through the built
# module. Each store is laid out here exactly as the tool's own code writes it:
# - Ollama (ollama/ollama manifest/paths.go: manifests/<host>/<namespace>/<model>/<tag> under envconfig.Models(),
#   BlobsPath: blobs/sha256-<hex>; manifest/manifest.go WriteManifest: schemaVersion 2, mediaType
#   application/vnd.docker.distribution.manifest.v2+json, config and layers {mediaType, digest, size};
#   types/model/config.go ConfigV2: model_format, model_family, model_type, file_type; server/images.go GetModel:
#   the application/vnd.ollama.image.model/template/params/license layers; types/model/name.go DisplayShortest).
# - Hugging Face cache (huggingface/huggingface_hub file_download.py: repo_folder_name models--<owner>--<repo>,
#   blobs/<etag> (the SHA-256 for LFS files, the git blob SHA-1 otherwise), _create_symlink's relative links
#   snapshots/<commit>/<file> -> ../../blobs/<etag>, _cache_commit_hash_for_specific_revision writing refs/main
#   with the commit and no newline).
# Real files: tests/fixtures/gguf/*.gguf (llama.cpp) and tests/fixtures/safetensors/*.safetensors.

BeforeAll {
    Import-Module $env:MODELLIBRARY_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:Fixtures = Get-FixturesDirectory
    $script:Stories = Join-Path $Fixtures 'gguf/stories260K.gguf'
    $script:Phi = Join-Path $Fixtures 'gguf/ggml-vocab-phi-3.gguf'
    $script:StoriesHex = '270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d'
    $script:Commit = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'

    function script:New-Folder {
        $dir = Join-Path ([IO.Path]::GetTempPath()) ('ml-store-' + [guid]::NewGuid().ToString('n').Substring(0, 10))
        New-Item -ItemType Directory $dir | Out-Null
        $dir
    }

    function script:Invoke-OllamaCheck([string] $Root, [string] $Name) {
        <# Ollama's own reading of a model in its store (ollama_store_check.py); skips the test where python3 is missing. #>
        $python = Get-Command python3 -ErrorAction SilentlyContinue
        if (-not $python) { Set-ItResult -Skipped -Because 'python3 is needed for the Ollama store check' }
        & $python.Source (Join-Path $PSScriptRoot 'ollama_store_check.py') $Root $Name | ConvertFrom-Json
    }

    function script:Sha256Hex([byte[]] $Bytes) { [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($Bytes)).ToLowerInvariant() }

    function script:Add-OllamaBlob([string] $Root, [byte[]] $Bytes) {
        # manifest.NewLayer: the blob is named by the SHA-256 of its bytes.
        $hex = Sha256Hex $Bytes
        New-Item -ItemType Directory (Join-Path $Root 'blobs') -Force | Out-Null
        [IO.File]::WriteAllBytes((Join-Path $Root "blobs/sha256-$hex"), $Bytes)
        [ordered]@{ digest = "sha256:$hex"; size = $Bytes.Length }
    }

    function script:Add-OllamaModel {
        <# A model as `ollama pull` leaves it: blobs, then the manifest that names them. Returns the model blob's path. #>
        param([string] $Root, [string] $Model, [string] $Tag = 'latest', [string] $Namespace = 'library', [string] $HostName = 'registry.ollama.ai',
              [string] $Gguf = $Stories, [string] $Template, [string] $License, [hashtable] $Params, [switch] $ModelBlobMissing)
        $layers = @()
        $bytes = [IO.File]::ReadAllBytes($Gguf)
        if ($ModelBlobMissing) { $modelLayer = [ordered]@{ digest = 'sha256:' + (Sha256Hex $bytes); size = $bytes.Length } }
        else { $modelLayer = Add-OllamaBlob $Root $bytes }
        $layers += [ordered]@{ mediaType = 'application/vnd.ollama.image.model'; digest = $modelLayer.digest; size = $modelLayer.size }
        if ($Template) { $t = Add-OllamaBlob $Root ([Text.Encoding]::UTF8.GetBytes($Template)); $layers += [ordered]@{ mediaType = 'application/vnd.ollama.image.template'; digest = $t.digest; size = $t.size } }
        if ($License) { $l = Add-OllamaBlob $Root ([Text.Encoding]::UTF8.GetBytes($License)); $layers += [ordered]@{ mediaType = 'application/vnd.ollama.image.license'; digest = $l.digest; size = $l.size } }
        if ($Params) { $p = Add-OllamaBlob $Root ([Text.Encoding]::UTF8.GetBytes(($Params | ConvertTo-Json -Compress))); $layers += [ordered]@{ mediaType = 'application/vnd.ollama.image.params'; digest = $p.digest; size = $p.size } }
        $config = Add-OllamaBlob $Root ([Text.Encoding]::UTF8.GetBytes((@{ model_format = 'gguf'; model_family = 'llama'; model_families = @('llama'); model_type = '292.80K'; file_type = 'F32'; architecture = 'amd64'; os = 'linux' } | ConvertTo-Json -Compress)))
        $manifest = [ordered]@{ schemaVersion = 2; mediaType = 'application/vnd.docker.distribution.manifest.v2+json'
            config = [ordered]@{ mediaType = 'application/vnd.docker.container.image.v1+json'; digest = $config.digest; size = $config.size }; layers = $layers }
        $dir = Join-Path $Root "manifests/$HostName/$Namespace/$Model"
        New-Item -ItemType Directory $dir -Force | Out-Null
        # json.NewEncoder(f).Encode(m): compact JSON and a newline.
        [IO.File]::WriteAllText((Join-Path $dir $Tag), ($manifest | ConvertTo-Json -Depth 5 -Compress) + "`n")
        Join-Path $Root ("blobs/sha256-" + $modelLayer.digest.Substring(7))
    }

    function script:Add-HubCacheRepo {
        <# A repository as hf_hub_download leaves it in the cache: blobs by ETag, relative links in the snapshot, refs/main. #>
        param([string] $Root, [string] $Repo, [hashtable] $Files, [string] $Commit = $Commit)
        $folder = Join-Path $Root ('models--' + $Repo.Replace('/', '--'))
        New-Item -ItemType Directory (Join-Path $folder 'blobs'), (Join-Path $folder "snapshots/$Commit"), (Join-Path $folder 'refs') -Force | Out-Null
        foreach ($name in $Files.Keys) {
            $bytes = if ($Files[$name] -is [string] -and (Test-Path -LiteralPath $Files[$name])) { [IO.File]::ReadAllBytes($Files[$name]) } else { [Text.Encoding]::UTF8.GetBytes([string]$Files[$name]) }
            # LFS files (weights) have the SHA-256 as ETag; small git files their git blob SHA-1.
            $etag = if ($name -match '\.(gguf|safetensors)$') { Sha256Hex $bytes } else {
                [Convert]::ToHexString([Security.Cryptography.SHA1]::HashData([Text.Encoding]::ASCII.GetBytes("blob $($bytes.Length)`0") + $bytes)).ToLowerInvariant() }
            [IO.File]::WriteAllBytes((Join-Path $folder "blobs/$etag"), $bytes)
            $link = Join-Path $folder "snapshots/$Commit/$name"
            New-Item -ItemType SymbolicLink -Path $link -Target "../../blobs/$etag" | Out-Null
        }
        [IO.File]::WriteAllText((Join-Path $folder 'refs/main'), $Commit)
        $folder
    }
}

Describe 'Ollama store in place' -Tag Stores {
    BeforeEach {
        $script:lib = New-TestLibrary
        $script:store = New-Folder
        $script:blob = Add-OllamaModel $store -Model 'stories' -Tag 'latest' -Template '{{ .Prompt }}' -License "MIT License`nPermission is hereby granted" -Params @{ stop = @('</s>') }
        Add-OllamaModel $store -Model 'phi' -Tag 'mini' -Namespace 'alice' -Gguf $Phi | Out-Null
        Add-OllamaModel $store -Model 'stories' -Tag 'q8' -HostName 'registry.example.com' -Namespace 'team' | Out-Null
        $script:before = (Get-ChildItem $store -Recurse -File | ForEach-Object { "$($_.FullName)|$($_.Length)|$($_.LastWriteTimeUtc.Ticks)" }) -join "`n"
    }
    AfterEach { Remove-Item $store -Recurse -Force -ErrorAction SilentlyContinue }

    It 'lists each manifest with a model layer as a Local model named as ollama list names it, its file the blob' {
        $src = Register-ModelSource -Name ollama -Type OllamaStore -Uri $store
        $src.Type | Should -Be 'OllamaStore'
        $models = Get-LibraryModel -Source ollama
        ($models.Id | Sort-Object) | Should -Be @('alice/phi:mini', 'registry.example.com/team/stories:q8', 'stories:latest')
        $m = Get-LibraryModel 'stories:latest'
        $m.Status | Should -Be 'Local'
        $m.LocalPath | Should -Be $blob
        $m.ExternalStore | Should -Be 'Ollama'
        $m.Provider | Should -Be 'ollama'
        $m.Checksum | Should -Be "sha256:$StoriesHex"
        $m.Revision | Should -Match '^sha256:[0-9a-f]{64}$'
        $m.Metadata.Architecture | Should -Be 'llama'
        $m.Metadata.Quantization | Should -Be 'F32'
        $m.Metadata.License | Should -Be 'MIT License'
        $m.AdditionalProperties['template'] | Should -Be '{{ .Prompt }}'
        ($m.AdditionalProperties['params'] | ConvertFrom-Json).stop | Should -Be '</s>'
        # Read in place: the header comes from the blob, checks pass, nothing was copied into the library.
        (Get-ModelMetadata 'stories:latest').TensorCount | Should -Be 48
        (Test-LibraryModel 'stories:latest').Passed | Should -BeTrue
        (Test-ProviderCompatibility 'stories:latest' -Provider ollama).ModelId | Should -Be 'stories:latest'
        Get-ChildItem $lib -Recurse -File -Include *.gguf, sha256-* | Should -BeNullOrEmpty
        (Get-ChildItem $store -Recurse -File | ForEach-Object { "$($_.FullName)|$($_.Length)|$($_.LastWriteTimeUtc.Ticks)" }) -join "`n" | Should -Be $before
    }

    It 'refuses Remove-LibraryModel and quarantine with ExternalStore, naming Ollama, and changes nothing of the store' {
        Register-ModelSource -Name ollama -Type OllamaStore -Uri $store | Out-Null
        Remove-LibraryModel 'stories:latest' -Confirm:$false -ErrorVariable e -ErrorAction SilentlyContinue
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -Be 'ExternalStore,ModelLibrary.PowerShell.Models.RemoveLibraryModelCommand'
        $e[0].Exception.Message | Should -Match 'Ollama'
        $e[0].ErrorDetails.RecommendedAction | Should -Match 'ollama rm'

        # A blob whose bytes no longer hash to its digest: the check fails, the file stays where it is.
        $bytes = [IO.File]::ReadAllBytes($blob); $bytes[-1] = $bytes[-1] -bxor 0xff; [IO.File]::WriteAllBytes($blob, $bytes)
        $r = Test-LibraryModel 'stories:latest' -Confirm:$false -ErrorVariable t -ErrorAction SilentlyContinue
        $r.Passed | Should -BeFalse
        ($r.Checks | Where-Object Name -eq 'Checksum').Outcome | Should -Be 'Failed'
        $t.FullyQualifiedErrorId | Should -Contain 'ChecksumMismatch,ModelLibrary.PowerShell.ModelFiles.TestLibraryModelCommand'
        $t.FullyQualifiedErrorId | Should -Contain 'ExternalStore,ModelLibrary.PowerShell.ModelFiles.TestLibraryModelCommand'
        Test-Path $blob | Should -BeTrue
        Test-Path (Join-Path $lib 'quarantine') | Should -BeFalse
        (Get-LibraryModel 'stories:latest').Status | Should -Be 'Local'
    }

    It 'skips a manifest naming a missing blob, a half-written manifest and a blob of the wrong size with a warning each' {
        Add-OllamaModel $store -Model 'gone' -Gguf (Join-Path $Fixtures 'gguf/ggml-vocab-bert-bge.gguf') -ModelBlobMissing | Out-Null
        New-Item -ItemType Directory "$store/manifests/registry.ollama.ai/library/half" -Force | Out-Null
        Set-Content "$store/manifests/registry.ollama.ai/library/half/latest" '{"schemaVersion":2,"layers":[{"mediaType":"applic' -NoNewline
        $short = Add-OllamaModel $store -Model 'short' -Gguf (Join-Path $Fixtures 'gguf/ggml-vocab-falcon.gguf')
        $fs = [IO.File]::Open($short, 'Open'); $fs.SetLength(1000); $fs.Dispose()
        Register-ModelSource -Name ollama -Type OllamaStore -Uri $store -WarningAction SilentlyContinue | Out-Null
        $models = Get-LibraryModel -Source ollama -WarningVariable w -WarningAction SilentlyContinue
        $models.Id | Should -Contain 'stories:latest'
        $models.Id | Should -Not -Contain 'gone:latest'
        $models.Id | Should -Not -Contain 'half:latest'
        $models.Id | Should -Not -Contain 'short:latest'
        ($w -join "`n") | Should -Match "'gone:latest' is skipped: its model blob .* does not exist"
        ($w -join "`n") | Should -Match "'half:latest' is skipped: its manifest .* is not complete JSON"
        ($w -join "`n") | Should -Match "'short:latest' is skipped: .* has 1000 bytes, the manifest says 2287728"
    }

    It 'skips a blob that is a link leading out of the store' {
        $outside = New-Folder
        Copy-Item $Phi "$outside/evil.gguf"
        $digest = Add-OllamaModel $store -Model 'evil' -Gguf $Phi
        Remove-Item $digest
        New-Item -ItemType SymbolicLink -Path $digest -Target "$outside/evil.gguf" | Out-Null
        Register-ModelSource -Name ollama -Type OllamaStore -Uri $store -WarningAction SilentlyContinue | Out-Null
        $models = Get-LibraryModel -Source ollama -WarningVariable w -WarningAction SilentlyContinue
        $models.Id | Should -Not -Contain 'evil:latest'
        ($w -join "`n") | Should -Match "'evil:latest' is skipped: .*outside the store"
        Remove-Item $outside -Recurse -Force
    }

    It 'lists the first of two stores holding the same model and warns about the second' {
        $second = New-Folder
        Add-OllamaModel $second -Model 'stories' -Tag 'latest' | Out-Null
        Register-ModelSource -Name first -Type OllamaStore -Uri $store | Out-Null
        Register-ModelSource -Name second -Type OllamaStore -Uri $second | Out-Null
        $models = @(Get-LibraryModel 'stories:*' -WarningVariable w -WarningAction SilentlyContinue | Where-Object Id -eq 'stories:latest')
        $models.Count | Should -Be 1
        $models[0].Source | Should -Be 'first'
        ($w -join "`n") | Should -Match "Source 'second': the id 'stories:latest' is already listed by an earlier source"
        Remove-Item $second -Recurse -Force
    }

    It 'says clearly when a model was removed from the store between listing and use' {
        Register-ModelSource -Name ollama -Type OllamaStore -Uri $store | Out-Null
        (Get-LibraryModel -Source ollama).Id | Should -Contain 'stories:latest'
        Remove-Item "$store/manifests/registry.ollama.ai/library/stories/latest", $blob
        Get-ModelMetadata 'stories:latest' -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -Match '^ModelNotFound,'
        (Get-LibraryModel -Source ollama).Id | Should -Not -Contain 'stories:latest'
    }

    It 'warns, without failing the listing, when the store folder is gone or cannot be read' {
        Register-ModelSource -Name ollama -Type OllamaStore -Uri $store | Out-Null
        Rename-Item $store "$store-moved"
        $all = Get-LibraryModel -WarningVariable w -WarningAction SilentlyContinue
        $all.Count | Should -BeGreaterThan 0
        ($w -join "`n") | Should -Match "Model source 'ollama' \(Ollama\) is unavailable: its folder .* does not exist"
        Rename-Item "$store-moved" $store
        # A manifests folder that cannot be listed (a file where the folder should be).
        Remove-Item "$store/manifests" -Recurse -Force
        Set-Content "$store/manifests" 'not a folder'
        { Get-LibraryModel -Source ollama -WarningAction SilentlyContinue } | Should -Not -Throw
    }

    It 'registers the default folder from OLLAMA_MODELS, and refuses a default that does not exist' {
        $saved = $env:OLLAMA_MODELS
        try {
            $env:OLLAMA_MODELS = $store
            (Register-ModelSource -Name ollama -Type OllamaStore).Uri | Should -Be $store
            $env:OLLAMA_MODELS = Join-Path $store 'nowhere'
            { Register-ModelSource -Name other -Type OllamaStore -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidModelSource,*'
        }
        finally { $env:OLLAMA_MODELS = $saved }
    }
}

Describe 'Hugging Face cache in place' -Tag Stores {
    BeforeEach {
        $script:lib = New-TestLibrary
        $script:cache = New-Folder
        $script:gguf = Add-HubCacheRepo $cache 'Qwen/Tiny-GGUF' @{ 'tiny-Q4_K_M.gguf' = $Stories; 'tiny-Q8_0.gguf' = $Phi; 'README.md' = '# Tiny' }
        $script:trans = Add-HubCacheRepo $cache 'Org/Tiny-Transformers' @{ 'config.json' = '{"model_type":"llama"}'; 'model.safetensors' = (Join-Path $Fixtures 'safetensors/model.safetensors') }
        $script:saved = @{ HF_ENDPOINT = $env:HF_ENDPOINT; HF_HUB_OFFLINE = $env:HF_HUB_OFFLINE }
        # No Hub in reach: whatever is answered comes from the cache.
        $env:HF_ENDPOINT = 'https://hub.invalid'
    }
    AfterEach {
        Remove-Item $cache -Recurse -Force -ErrorAction SilentlyContinue
        $env:HF_ENDPOINT = $saved.HF_ENDPOINT; $env:HF_HUB_OFFLINE = $saved.HF_HUB_OFFLINE
    }

    It 'lists cached repositories by their Hub references, Local in the snapshot refs/main names' {
        Register-ModelSource -Name hfcache -Type HuggingFaceCache -Uri $cache | Out-Null
        $models = Get-LibraryModel -Source hfcache
        ($models.Id | Sort-Object) | Should -Be @('hf.co/Org/Tiny-Transformers', 'hf.co/Qwen/Tiny-GGUF:Q4_K_M', 'hf.co/Qwen/Tiny-GGUF:Q8_0')
        $q4 = $models | Where-Object Id -eq 'hf.co/Qwen/Tiny-GGUF:Q4_K_M'
        $q4.Status | Should -Be 'Local'
        $q4.Revision | Should -Be $Commit
        $q4.LocalPath | Should -Be (Join-Path $gguf "snapshots/$Commit/tiny-Q4_K_M.gguf")
        $q4.Checksum | Should -Be "sha256:$StoriesHex"
        $q4.ExternalStore | Should -Be 'Hugging Face cache'
        $t = $models | Where-Object Id -eq 'hf.co/Org/Tiny-Transformers'
        $t.Format | Should -Be 'safetensors'
        $t.LocalPath | Should -Be (Join-Path $trans "snapshots/$Commit")
        (Get-ModelMetadata 'hf.co/Qwen/Tiny-GGUF:Q4_K_M' -WarningAction SilentlyContinue).TensorCount | Should -Be 48
        (Test-LibraryModel 'hf.co/Qwen/Tiny-GGUF:Q4_K_M').Passed | Should -BeTrue
    }

    It 'does not download a model the cache already holds, and shows it offline' {
        Register-ModelSource -Name hfcache -Type HuggingFaceCache -Uri $cache | Out-Null
        $r = Start-ModelDownload 'hf.co/qwen/tiny-gguf:q4_k_m' -WarningVariable w -WarningAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        ($w -join "`n") | Should -Match "already local at '.*tiny-Q4_K_M\.gguf'"
        Get-ModelDownload | Should -BeNullOrEmpty
        $env:HF_HUB_OFFLINE = '1'
        (Get-LibraryModel 'hf.co/Qwen/Tiny-GGUF').Id | Should -Contain 'hf.co/Qwen/Tiny-GGUF:Q8_0'
    }

    It 'skips a dangling link and a link leaving the cache with a warning, lists the rest, and refuses removal' {
        $snap = Join-Path $gguf "snapshots/$Commit"
        Remove-Item (Join-Path $gguf "blobs/$((Get-Item "$snap/tiny-Q8_0.gguf").LinkTarget.Split('/')[-1])")
        $outside = New-Folder
        Copy-Item $Phi "$outside/x.gguf"
        New-Item -ItemType SymbolicLink -Path "$snap/tiny-IQ2_XS.gguf" -Target "$outside/x.gguf" | Out-Null
        Register-ModelSource -Name hfcache -Type HuggingFaceCache -Uri $cache -WarningAction SilentlyContinue | Out-Null
        $models = Get-LibraryModel -Source hfcache -WarningVariable w -WarningAction SilentlyContinue
        $models.Id | Should -Contain 'hf.co/Qwen/Tiny-GGUF:Q4_K_M'
        $models.Id | Should -Not -Contain 'hf.co/Qwen/Tiny-GGUF:Q8_0'
        $models.Id | Should -Not -Contain 'hf.co/Qwen/Tiny-GGUF:IQ2_XS'
        ($w -join "`n") | Should -Match "'tiny-Q8_0.gguf' of Qwen/Tiny-GGUF .* is skipped: its link points to .* which does not exist"
        ($w -join "`n") | Should -Match "'tiny-IQ2_XS.gguf' of Qwen/Tiny-GGUF .* is skipped: it leads to .*outside the store"

        Remove-LibraryModel 'hf.co/Qwen/Tiny-GGUF:Q4_K_M' -Confirm:$false -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -Match '^ExternalStore,'
        $e[0].Exception.Message | Should -Match 'Hugging Face cache'
        Test-Path "$snap/tiny-Q4_K_M.gguf" | Should -BeTrue
        Remove-Item $outside -Recurse -Force
    }
}

Describe 'LM Studio and plain folders in place' -Tag Stores {
    BeforeEach { $script:lib = New-TestLibrary; $script:root = New-Folder }
    AfterEach { Remove-Item $root -Recurse -Force -ErrorAction SilentlyContinue }

    It 'lists LM Studio models as <publisher>/<repo>/<file> and a folder''s models as <source>/<path>' {
        New-Item -ItemType Directory "$root/lmstudio-community/Tiny-GGUF", "$root/plain/sub" -Force | Out-Null
        Copy-Item $Stories "$root/lmstudio-community/Tiny-GGUF/tiny-Q4_K_M.gguf"
        Copy-Item $Phi "$root/lmstudio-community/Tiny-GGUF/mmproj-tiny-F16.gguf"
        Register-ModelSource -Name lms -Type LMStudio -Uri $root -WarningAction SilentlyContinue | Out-Null
        $m = Get-LibraryModel -Source lms
        $m.Id | Should -Be 'lmstudio-community/Tiny-GGUF/tiny-Q4_K_M.gguf'
        $m.Metadata.Quantization | Should -Be 'Q4_K_M'
        $m.AdditionalProperties['mmproj'] | Should -Be 'mmproj-tiny-F16.gguf'
        $m.ExternalStore | Should -Be 'LM Studio'

        Copy-Item $Stories "$root/plain/sub/story.gguf"
        Copy-Item (Join-Path $Fixtures 'safetensors/model.safetensors') "$root/plain/sub/model.safetensors"
        Register-ModelSource -Name mine -Type Directory -Uri "$root/plain" | Out-Null
        (Get-LibraryModel -Source mine).Id | Sort-Object | Should -Be @('mine/sub', 'mine/sub/story.gguf')
        Remove-LibraryModel 'mine/sub/story.gguf' -Confirm:$false -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -Match '^ExternalStore,'
        Test-Path "$root/plain/sub/story.gguf" | Should -BeTrue
    }
}

Describe 'LM Studio''s own models folder' -Tag Stores {
    # Where LM Studio keeps models, as lmstudio-ai/lmstudio-js packages/lms-common-server/src/findLMStudioHome.ts finds
    # its home ($LMSTUDIO_HOME, the path in ~/.lmstudio-home-pointer, ~/.cache/lm-studio when it exists, ~/.lmstudio) and
    # the app keeps a chosen "Models Directory" as downloadsFolder in settings.json (the home's, or in older versions the
    # app's own under ~/.config/LM Studio; lmstudio-ai/lmstudio-bug-tracker#1601). Each case is a user home laid out here.
    BeforeEach {
        $script:lib = New-TestLibrary
        $script:userHome = New-Folder
        $script:saved = @{ HOME = $env:HOME; LMSTUDIO_HOME = $env:LMSTUDIO_HOME; XDG_CONFIG_HOME = $env:XDG_CONFIG_HOME }
        $env:HOME = $userHome; $env:LMSTUDIO_HOME = $null; $env:XDG_CONFIG_HOME = $null
        function script:Add-LMStudioModel([string] $Models) {
            New-Item -ItemType Directory "$Models/lmstudio-community/Tiny-GGUF" -Force | Out-Null
            Copy-Item $Stories "$Models/lmstudio-community/Tiny-GGUF/tiny-Q4_K_M.gguf"
        }
    }
    AfterEach {
        foreach ($k in $saved.Keys) { Set-Item "env:$k" $saved[$k] -ErrorAction SilentlyContinue }
        Remove-Item $userHome -Recurse -Force -ErrorAction SilentlyContinue
    }

    It 'follows ~/.lmstudio-home-pointer to the home and its settings.json downloadsFolder to a custom models folder' {
        $homeDir = Join-Path $userHome 'elsewhere/lmstudio'
        $custom = Join-Path $userHome 'big-disk/llms'
        New-Item -ItemType Directory "$homeDir/models", $custom -Force | Out-Null
        Set-Content (Join-Path $userHome '.lmstudio-home-pointer') $homeDir -NoNewline
        Set-Content "$homeDir/settings.json" (@{ downloadsFolder = $custom; someOtherSetting = 1 } | ConvertTo-Json)
        Add-LMStudioModel $custom
        (Register-ModelSource -Name lms -Type LMStudio).Uri | Should -Be $custom
        (Get-LibraryModel -Source lms).Id | Should -Be 'lmstudio-community/Tiny-GGUF/tiny-Q4_K_M.gguf'
    }

    It 'uses the home''s models folder without a choice, ~/.cache/lm-studio as the home where it exists, and $LMSTUDIO_HOME first' {
        New-Item -ItemType Directory "$userHome/.lmstudio/models", "$userHome/.cache/lm-studio/models" -Force | Out-Null
        (Register-ModelSource -Name a -Type LMStudio).Uri | Should -Be (Join-Path $userHome '.cache/lm-studio/models')
        Remove-Item "$userHome/.cache" -Recurse -Force
        (Register-ModelSource -Name b -Type LMStudio).Uri | Should -Be (Join-Path $userHome '.lmstudio/models')
        $env:LMSTUDIO_HOME = Join-Path $userHome 'env-home'
        New-Item -ItemType Directory "$env:LMSTUDIO_HOME/models" | Out-Null
        (Register-ModelSource -Name c -Type LMStudio).Uri | Should -Be (Join-Path $userHome 'env-home/models')
    }

    It 'reads the models folder an older LM Studio kept in its app settings, and names a chosen folder that is gone' {
        $custom = Join-Path $userHome 'old-models'
        New-Item -ItemType Directory "$userHome/.lmstudio", "$userHome/.config/LM Studio", $custom -Force | Out-Null
        Set-Content "$userHome/.config/LM Studio/settings.json" (@{ downloadsFolder = $custom } | ConvertTo-Json)
        Add-LMStudioModel $custom
        (Register-ModelSource -Name lms -Type LMStudio).Uri | Should -Be $custom
        (Get-LibraryModel -Source lms).Id | Should -Be 'lmstudio-community/Tiny-GGUF/tiny-Q4_K_M.gguf'
        Remove-Item $custom -Recurse
        { Register-ModelSource -Name gone -Type LMStudio -ErrorAction Stop } | Should -Throw "*$custom*"
    }
}

Describe 'Export-LibraryModel' -Tag Stores {
    BeforeEach {
        $script:lib = New-TestLibrary
        $script:target = New-Folder
        # A library model: a GGUF imported into the library (the library's own copy).
        $script:src = New-Folder
        Copy-Item $Stories "$src/stories260K.gguf"
        Import-LibraryModel -Path "$src/stories260K.gguf" | Out-Null
        $script:libFile = (Get-LibraryModel stories260k).LocalPath
    }
    AfterEach { Remove-Item $target, $src -Recurse -Force -ErrorAction SilentlyContinue }

    It 'hands a GGUF to Ollama as a hard-linked blob and a manifest Ollama reads, and lists it back through an OllamaStore' {
        $r = Export-LibraryModel stories260k -To Ollama -Path $target -Name 'stories-lib:q'
        $r.PSObject.TypeNames[0] | Should -Be 'ModelLibrary.ExportResult'
        $r.Name | Should -Be 'stories-lib:q'
        $r.Linked | Should -BeTrue
        $r.Path | Should -Be (Join-Path $target 'manifests/registry.ollama.ai/library/stories-lib/q')
        $blob = Join-Path $target "blobs/sha256-$StoriesHex"
        (Get-Item $blob).Length | Should -Be (Get-Item $libFile).Length
        # One file, two names: the same inode.
        (& stat -c '%i' $blob) | Should -Be (& stat -c '%i' $libFile)
        $manifest = Get-Content $r.Path -Raw | ConvertFrom-Json
        $manifest.schemaVersion | Should -Be 2
        $manifest.mediaType | Should -Be 'application/vnd.docker.distribution.manifest.v2+json'
        $manifest.config.mediaType | Should -Be 'application/vnd.docker.container.image.v1+json'
        $manifest.layers[0].mediaType | Should -Be 'application/vnd.ollama.image.model'
        $manifest.layers[0].digest | Should -Be "sha256:$StoriesHex"
        $config = Get-Content (Join-Path $target ('blobs/sha256-' + $manifest.config.digest.Substring(7))) -Raw | ConvertFrom-Json
        $config.model_format | Should -Be 'gguf'
        $config.model_family | Should -Be 'llama'
        $config.file_type | Should -Be 'F32'
        # stories260K has no chat template: no template layer (a Jinja text there would not load in Ollama).
        $manifest.layers.mediaType | Should -Not -Contain 'application/vnd.ollama.image.template'
        Get-ChildItem (Join-Path $target 'blobs') -Filter '.modellibrary-*' | Should -BeNullOrEmpty
        # Read back as Ollama's own code reads it (ollama_store_check.py follows server/images.go GetModel step by step).
        $check = Invoke-OllamaCheck $target 'stories-lib:q'
        $check.ok | Should -BeTrue
        $check.model_path | Should -Be $blob
        $check.model_layers | Should -Be 1
        $check.config.model_format | Should -Be 'gguf'
        $check.capabilities | Should -Be @('completion')
        $check.projector_paths | Should -BeNullOrEmpty
        Register-ModelSource -Name back -Type OllamaStore -Uri $target | Out-Null
        (Get-LibraryModel 'stories-lib:q').Checksum | Should -Be "sha256:$StoriesHex"
        (Export-LibraryModel stories260k -To Ollama -Path $target -Name 'stories-lib:q').Linked | Should -BeTrue
    }

    It 'writes the Hugging Face cache layout that huggingface_hub''s scan and offline lookup accept, and says which name it used' {
        $r = Export-LibraryModel stories260k -To HuggingFaceCache -Path $target -WarningVariable w -WarningAction SilentlyContinue
        $r.Name | Should -Be 'modellibrary/stories260k'
        ($w -join "`n") | Should -Match "did not come from the Hugging Face Hub; it is filed in the cache as 'modellibrary/stories260k'"
        $r.Linked | Should -BeTrue
        $r.Revision | Should -Match '^[0-9a-f]{40}$'
        $python = Get-Command python3 -ErrorAction SilentlyContinue
        if ($python) {
            $check = & $python.Source (Join-Path $PSScriptRoot 'hf_cache_check.py') $target 'modellibrary/stories260k' 'stories260K.gguf' | ConvertFrom-Json
            $check.ok | Should -BeTrue
            $check.revisions[0].commit | Should -Be $r.Revision
            $check.revisions[0].refs | Should -Be 'main'
            $check.revisions[0].files[0].blob | Should -Be $StoriesHex
            $check.revisions[0].files[0].link | Should -Be "../../blobs/$StoriesHex"
        }
        # Read back in place as a cache, the model is the same bytes under its Hub-style name.
        Register-ModelSource -Name cache -Type HuggingFaceCache -Uri $target | Out-Null
        (Get-LibraryModel 'hf.co/modellibrary/stories260k').Checksum | Should -Be "sha256:$StoriesHex"
    }

    It 'exports a sharded transformers folder to the Hub cache: every file, small ones named by git blob SHA-1, weights by SHA-256' {
        # A transformers model as `hf download` leaves it: config, tokenizer and generation files, weight shards and their index.
        $folder = Join-Path $src 'Tiny-Llama'
        New-Item -ItemType Directory $folder | Out-Null
        Copy-Item (Join-Path $Fixtures 'safetensors/model.safetensors') "$folder/model-00001-of-00002.safetensors"
        Copy-Item (Join-Path $Fixtures 'safetensors/mixed.safetensors') "$folder/model-00002-of-00002.safetensors"
        $map = [ordered]@{ 'fc1.bias' = 'model-00001-of-00002.safetensors'; 'fc1.weight' = 'model-00001-of-00002.safetensors'; 'fc2.bias' = 'model-00001-of-00002.safetensors'; 'fc2.weight' = 'model-00001-of-00002.safetensors'
            attention = 'model-00002-of-00002.safetensors'; embedding = 'model-00002-of-00002.safetensors'; zeros = 'model-00002-of-00002.safetensors' }
        $total = (Get-Item "$folder/model-00001-of-00002.safetensors").Length + (Get-Item "$folder/model-00002-of-00002.safetensors").Length
        Set-Content "$folder/model.safetensors.index.json" ([ordered]@{ metadata = @{ total_size = $total }; weight_map = $map } | ConvertTo-Json) -NoNewline
        Set-Content "$folder/config.json" '{"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":20}' -NoNewline
        Set-Content "$folder/generation_config.json" '{"bos_token_id":1,"eos_token_id":2}' -NoNewline
        Set-Content "$folder/tokenizer.json" '{"version":"1.0","model":{"type":"BPE","vocab":{"a":0,"b":1}}}' -NoNewline
        Set-Content "$folder/tokenizer_config.json" '{"bos_token":"<s>","eos_token":"</s>"}' -NoNewline
        Set-Content "$folder/special_tokens_map.json" '{"bos_token":"<s>"}' -NoNewline
        Import-LibraryModel -Path $folder -Id tiny-llama | Out-Null
        $files = Get-ChildItem $folder -File | ForEach-Object Name | Sort-Object

        $r = Export-LibraryModel tiny-llama -To HuggingFaceCache -Path $target -Name 'Org/Tiny-Llama'
        $r.Name | Should -Be 'Org/Tiny-Llama'
        $r.Linked | Should -BeTrue
        $python = Get-Command python3 -ErrorAction SilentlyContinue
        if (-not $python) { Set-ItResult -Skipped -Because 'python3 is needed for the cache check'; return }
        $check = & $python.Source (Join-Path $PSScriptRoot 'hf_cache_check.py') $target 'Org/Tiny-Llama' @files | ConvertFrom-Json
        $check.ok | Should -BeTrue
        $check.nb_files | Should -Be $files.Count
        $snapshot = $check.revisions[0]
        $snapshot.commit | Should -Be $r.Revision
        ($snapshot.files.name | Sort-Object) | Should -Be $files
        foreach ($f in $snapshot.files) {
            # huggingface_hub names a blob by the ETag the Hub sends: the SHA-256 for LFS files (weights), the git blob SHA-1 otherwise.
            $f.etag_kind | Should -Be $(if ($f.name -like '*.safetensors') { 'sha256' } else { 'git-sha1' }) -Because $f.name
            $f.link | Should -Be "../../blobs/$($f.blob)"
        }
        # transformers' offline lookup finds every file, with the library's bytes.
        foreach ($name in $files) { (Get-FileHash $check.offline.$name).Hash | Should -Be (Get-FileHash "$folder/$name").Hash -Because $name }
        Register-ModelSource -Name cache -Type HuggingFaceCache -Uri $target | Out-Null
        $m = Get-LibraryModel 'hf.co/Org/Tiny-Llama'
        $m.Format | Should -Be 'safetensors'
        $m.Status | Should -Be 'Local'
    }

    It 'refuses a model that is not Local, a non-GGUF to Ollama and a bad name, writing nothing; -WhatIf writes nothing' {
        Export-LibraryModel stories260k -To Ollama -Path $target -WhatIf | Should -BeNullOrEmpty
        Get-ChildItem $target -Recurse | Should -BeNullOrEmpty
        { Export-LibraryModel stories260k -To Ollama -Path $target -Name 'bad name!' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidModelId,*'
        Copy-Item (Join-Path $Fixtures 'safetensors/model.safetensors') "$src/model.safetensors"
        Import-LibraryModel -Path "$src/model.safetensors" -Id tiny-st | Out-Null
        Export-LibraryModel tiny-st -To Ollama -Path $target -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -Be 'InvalidModelFile,ModelLibrary.PowerShell.Models.ExportLibraryModelCommand'
        $e[0].Exception.Message | Should -Match 'Ollama runs GGUF models; .tiny-st. is a safetensors model.*Nothing was exported'
        $e[0].ErrorDetails.RecommendedAction | Should -Match "ollama create <name> -f Modelfile"
        $e[0].ErrorDetails.RecommendedAction | Should -Match "-To HuggingFaceCache"
        Get-ChildItem $target -Recurse -File | Should -BeNullOrEmpty
    }
}

Describe 'Export-LibraryModel of Hub models with a projector or split parts' -Tag Stores {
    BeforeAll {
        # Real library models, downloaded from the loopback Hub (tests/ModelLibrary.TestServer/HubServer.cs): a vision
        # model (its mmproj lands beside it) and a GGUF split in two parts.
        $script:HubRoot = Join-Path ([IO.Path]::GetTempPath()) ("ml-hub-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
        $script:VisionCommits = New-TestHubRepo -Root $HubRoot -Repo 'Vis/Vision-GGUF' -Commits @{ main = @{ 'vision-Q4_K_M.gguf' = $Stories; 'mmproj-vision-F16.gguf' = $Phi } }
        New-TestHubRepo -Root $HubRoot -Repo 'Split/Big-GGUF' -Commits @{ main = @{ 'big-Q4_K_M-00001-of-00002.gguf' = $Stories; 'big-Q4_K_M-00002-of-00002.gguf' = $Phi } } | Out-Null
        $script:Hub = Start-TestHub -Root $HubRoot
        $script:SavedEndpoint = $env:HF_ENDPOINT
        $env:HF_ENDPOINT = $Hub.Url
        $script:lib = New-TestLibrary
        Start-ModelDownload hf.co/Vis/Vision-GGUF:Q4_K_M | Out-Null
        Start-ModelDownload hf.co/Split/Big-GGUF:Q4_K_M | Out-Null
        $script:PhiHex = (Get-FileHash $Phi).Hash.ToLowerInvariant()
    }
    AfterAll {
        $Hub | Stop-TestServer
        $env:HF_ENDPOINT = $SavedEndpoint
        Remove-Item $HubRoot -Recurse -Force -ErrorAction SilentlyContinue
    }
    BeforeEach { $script:target = New-Folder }
    AfterEach { Remove-Item $target -Recurse -Force -ErrorAction SilentlyContinue }

    It 'hands a vision model to Ollama with its mmproj as a projector layer, which gives it vision' {
        (Get-LibraryModel hf.co/Vis/Vision-GGUF:Q4_K_M).Status | Should -Be 'Local'
        $r = Export-LibraryModel hf.co/Vis/Vision-GGUF:Q4_K_M -To Ollama -Path $target
        $r.Name | Should -Be 'hf.co/Vis/Vision-GGUF:Q4_K_M'
        $r.Linked | Should -BeTrue
        $manifest = Get-Content $r.Path -Raw | ConvertFrom-Json
        $manifest.layers.mediaType | Should -Be @('application/vnd.ollama.image.model', 'application/vnd.ollama.image.projector')
        $manifest.layers[1].digest | Should -Be "sha256:$PhiHex"
        $manifest.layers[1].size | Should -Be (Get-Item $Phi).Length
        $check = Invoke-OllamaCheck $target 'hf.co/Vis/Vision-GGUF:Q4_K_M'
        $check.ok | Should -BeTrue
        $check.model_path | Should -Be (Join-Path $target "blobs/sha256-$StoriesHex")
        $check.projector_paths | Should -Be @((Join-Path $target "blobs/sha256-$PhiHex"))
        $check.capabilities | Should -Be @('completion', 'vision')
        # The projector blob is the library's own file, hard-linked.
        $libProjector = Join-Path $lib 'llama-cpp/hf.co--Vis--Vision-GGUF--Q4_K_M/mmproj-vision-F16.gguf'
        (& stat -c '%i' $check.projector_paths[0]) | Should -Be (& stat -c '%i' $libProjector)
        # Listed back through an OllamaStore, the projector is there too.
        Register-ModelSource -Name back -Type OllamaStore -Uri $target | Out-Null
        (Get-LibraryModel 'hf.co/Vis/Vision-GGUF:Q4_K_M' -Source back).AdditionalProperties['projector'] | Should -Be $check.projector_paths[0]
        Unregister-ModelSource -Name back
    }

    It 'files a Hub model in the Hugging Face cache under its real repository and commit, projector included' {
        $r = Export-LibraryModel hf.co/Vis/Vision-GGUF:Q4_K_M -To HuggingFaceCache -Path $target -WarningVariable w
        $w | Should -BeNullOrEmpty
        $r.Name | Should -Be 'Vis/Vision-GGUF'
        $r.Revision | Should -Be $VisionCommits.main
        $python = Get-Command python3 -ErrorAction SilentlyContinue
        if (-not $python) { Set-ItResult -Skipped -Because 'python3 is needed for the cache check'; return }
        $check = & $python.Source (Join-Path $PSScriptRoot 'hf_cache_check.py') $target 'Vis/Vision-GGUF' 'vision-Q4_K_M.gguf' 'mmproj-vision-F16.gguf' | ConvertFrom-Json
        $check.ok | Should -BeTrue
        ($check.revisions[0].files | Sort-Object name).blob | Should -Be @($PhiHex, $StoriesHex)
        $check.revisions[0].files.etag_kind | Should -Be @('sha256', 'sha256')
    }

    It 'refuses a split GGUF for Ollama with InvalidModelFile saying how to merge it, writing nothing' {
        (Get-LibraryModel hf.co/Split/Big-GGUF:Q4_K_M).Status | Should -Be 'Local'
        Export-LibraryModel hf.co/Split/Big-GGUF:Q4_K_M -To Ollama -Path $target -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -Be 'InvalidModelFile,ModelLibrary.PowerShell.Models.ExportLibraryModelCommand'
        $e[0].Exception.Message | Should -Match 'split into 2 files; Ollama loads one GGUF file per model'
        $e[0].ErrorDetails.RecommendedAction | Should -Match "FROM .*big-Q4_K_M-00001-of-00002\.gguf' and run 'ollama create"
        $e[0].ErrorDetails.RecommendedAction | Should -Match 'llama-gguf-split --merge'
        Get-ChildItem $target -Recurse | Should -BeNullOrEmpty
        # The Hub cache takes every part.
        $r = Export-LibraryModel hf.co/Split/Big-GGUF:Q4_K_M -To HuggingFaceCache -Path $target
        (Get-ChildItem (Join-Path $r.Path "snapshots/$($r.Revision)")).Name | Sort-Object | Should -Be @('big-Q4_K_M-00001-of-00002.gguf', 'big-Q4_K_M-00002-of-00002.gguf')
    }
}

Describe 'Optimize-ModelLibrary' -Tag Stores {
    BeforeEach { $script:lib = New-TestLibrary; $script:store = New-Folder }
    AfterEach { Remove-Item $store -Recurse -Force -ErrorAction SilentlyContinue }

    It 'links identical files of the library and a store, says what -WhatIf would save, and never changes content' -Skip:(-not $IsLinux) {
        $blob = Add-OllamaModel $store -Model 'stories'
        Add-OllamaModel $store -Model 'phi' -Gguf $Phi | Out-Null
        Copy-Item $Stories (Join-Path $lib 'llama-cpp/stories260K.gguf') -Force -ErrorAction SilentlyContinue
        if (-not (Test-Path (Join-Path $lib 'llama-cpp'))) { New-Item -ItemType Directory (Join-Path $lib 'llama-cpp') | Out-Null; Copy-Item $Stories (Join-Path $lib 'llama-cpp/stories260K.gguf') }
        # Same size, other bytes: never linked.
        $other = [IO.File]::ReadAllBytes($Stories); $other[-1] = $other[-1] -bxor 1
        [IO.File]::WriteAllBytes((Join-Path $lib 'llama-cpp/look-alike.gguf'), $other)
        Register-ModelSource -Name ollama -Type OllamaStore -Uri $store | Out-Null
        $libFile = Join-Path $lib 'llama-cpp/stories260K.gguf'

        $plan = Optimize-ModelLibrary -WhatIf
        $plan.PSObject.TypeNames[0] | Should -Be 'ModelLibrary.OptimizeResult'
        $plan.FilesLinked | Should -Be 1
        $plan.BytesSaved | Should -Be 1185376
        (& stat -c '%i' $libFile) | Should -Not -Be (& stat -c '%i' $blob)

        $done = Optimize-ModelLibrary -Confirm:$false
        $done.FilesLinked | Should -Be 1
        $done.BytesSaved | Should -Be 1185376
        (& stat -c '%i' $libFile) | Should -Be (& stat -c '%i' $blob)
        (Get-FileHash $libFile).Hash | Should -Be $StoriesHex.ToUpperInvariant()
        (Get-FileHash (Join-Path $lib 'llama-cpp/look-alike.gguf')).Hash | Should -Not -Be $StoriesHex.ToUpperInvariant()
        Get-ChildItem $lib, $store -Recurse -Filter '.modellibrary-*' | Should -BeNullOrEmpty
        # Already one file: nothing left to do.
        (Optimize-ModelLibrary -Confirm:$false).FilesLinked | Should -Be 0
    }
}
