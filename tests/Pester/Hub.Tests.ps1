# Hugging Face Hub references, search and -Uri downloads, end to end through the built module against the loopback
# Hub of tests/ModelLibrary.TestServer/HubServer.cs. That server follows the protocol as huggingface/huggingface_hub
# speaks it (hf_api.py model_info, list_repo_tree with utils/_pagination.py's Link pages, list_models;
# file_download.py's resolve URL with X-Repo-Commit, X-Linked-Etag, X-Linked-Size and a 302 to a CDN; utils/_http.py's
# X-Error-Code errors and 429 RateLimit/Retry-After); its CDN runs on 127.0.0.2 and answers 400 to any Authorization.
# Real files served: tests/fixtures/gguf/*.gguf (llama.cpp) and tests/fixtures/safetensors/*.safetensors.

BeforeAll {
    Import-Module $env:MODELLIBRARY_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:Fixtures = Get-FixturesDirectory
    $stories = Join-Path $Fixtures 'gguf/stories260K.gguf'
    $phi = Join-Path $Fixtures 'gguf/ggml-vocab-phi-3.gguf'
    $script:StoriesSha = 'sha256:270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d'
    $script:HubRoot = Join-Path ([IO.Path]::GetTempPath()) ("ml-hub-" + [guid]::NewGuid().ToString('n').Substring(0, 8))

    $script:Tiny = New-TestHubRepo -Root $HubRoot -Repo 'Qwen/Tiny-GGUF' -Config @{ pipeline_tag = 'text-generation'; license = 'apache-2.0'; downloads = 50 } -Commits @{
        main = @{ 'tiny-Q4_K_M.gguf' = $stories; 'tiny-Q8_0.gguf' = $phi; 'README.md' = '# Tiny' }
    }
    New-TestHubRepo -Root $HubRoot -Repo 'Many/NoDefault-GGUF' -Commits @{
        main = @{ 'm-Q8_0.gguf' = $stories; 'm-Q5_K_M.gguf' = $stories }
    } | Out-Null
    New-TestHubRepo -Root $HubRoot -Repo 'Solo/One-GGUF' -Commits @{ main = @{ 'model.gguf' = $stories } } | Out-Null
    New-TestHubRepo -Root $HubRoot -Repo 'Split/Big-GGUF' -Commits @{
        main = @{ 'big-Q4_K_M-00001-of-00002.gguf' = $stories; 'big-Q4_K_M-00002-of-00002.gguf' = $phi; 'big-Q8_0.gguf' = $stories }
    } | Out-Null
    New-TestHubRepo -Root $HubRoot -Repo 'Vis/Vision-GGUF' -Commits @{
        main = @{ 'vision-Q4_K_M.gguf' = $stories; 'mmproj-vision-F16.gguf' = $phi }
    } | Out-Null
    $script:Trans = New-TestHubRepo -Root $HubRoot -Repo 'Org/Tiny-Transformers' -Config @{ pipeline_tag = 'text-generation'; downloads = 10 } -Commits ([ordered]@{
        main = @{
            'config.json' = '{"model_type":"llama","version":2}'; 'generation_config.json' = '{"do_sample":true}'
            'tokenizer.json' = '{"version":"1.0"}'; 'tokenizer_config.json' = '{}'; 'special_tokens_map.json' = '{}'
            'model.safetensors' = (Join-Path $Fixtures 'safetensors/voices.safetensors')
            'pytorch_model.bin' = [byte[]](1..64); 'onnx/model.onnx' = [byte[]](1..32); 'README.md' = '# card'; 'photo.png' = [byte[]](1..16)
        }
        v1 = @{ 'config.json' = '{"model_type":"llama","version":1}'; 'model.safetensors' = (Join-Path $Fixtures 'safetensors/model.safetensors') }
    })
    $script:Gated = New-TestHubRepo -Root $HubRoot -Repo 'meta/Gated-GGUF' -Config @{ gated = 'manual'; tokens = @('hf_good') } -Commits @{ main = @{ 'g-Q4_K_M.gguf' = $stories } }
    New-TestHubRepo -Root $HubRoot -Repo 'acme/Private-GGUF' -Config @{ private = $true; tokens = @('hf_good') } -Commits @{ main = @{ 'p-Q4_K_M.gguf' = $stories } } | Out-Null
    New-TestHubRepo -Root $HubRoot -Repo 'Evil/Escape-GGUF' -Config @{ extraTree = @(@{ type = 'file'; path = '../../escaped.gguf'; size = 10; oid = ('0' * 40); lfs = @{ oid = ('1' * 64); size = 10; pointerSize = 134 } }) } -Commits @{
        main = @{ 'e-Q4_K_M.gguf' = $stories }
    } | Out-Null

    # A pull request's ref, as the Hub names it (refs/pr/<n>): the same file name holds other bytes there.
    $script:PrRepo = New-TestHubRepo -Root $HubRoot -Repo 'PR/Small-GGUF' -Commits @{
        main = @{ 'pr-Q4_K_M.gguf' = $stories }
        'refs/pr/1' = @{ 'pr-Q4_K_M.gguf' = $phi }
    }

    # A token no output may ever show: only this private repository accepts it.
    $script:SecretToken = 'hf_' + [guid]::NewGuid().ToString('n')
    New-TestHubRepo -Root $HubRoot -Repo 'Secret/Private-GGUF' -Config @{ private = $true; tokens = @($SecretToken) } -Commits @{ main = @{ 's-Q4_K_M.gguf' = $stories } } | Out-Null

    $script:Hub = Start-TestHub -Root $HubRoot
    $script:SavedEnv = @{ HF_ENDPOINT = $env:HF_ENDPOINT; HF_TOKEN = $env:HF_TOKEN; HF_HUB_OFFLINE = $env:HF_HUB_OFFLINE }

    function script:Use-Hub {
        <# A fresh library talking to the loopback Hub, with no token and online, and the Hub's faults and counters reset. #>
        $env:HF_ENDPOINT = $Hub.Url
        $env:HF_TOKEN = $null
        $env:HF_HUB_OFFLINE = $null
        Set-TestHub $Hub -RateLimit 0 -RateLimitResolve 0 -RateLimitHeaders both -RetryAfter 1 -SignedUrlTtlMs 60000 -CdnQuery '' -TreePageSize 1000 -ResetStats
        New-TestLibrary
    }

    function script:Sha256([string] $Path) { 'sha256:' + (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant() }
}

AfterAll {
    $Hub | Stop-TestServer
    foreach ($k in $SavedEnv.Keys) { Set-Item "env:$k" $SavedEnv[$k] -ErrorAction SilentlyContinue }
    Remove-Item $HubRoot -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Get-LibraryModel with Hub references' -Tag Hub {
    It 'lists one Available model per quantization, nothing downloaded, with the commit as Revision' {
        $lib = Use-Hub
        $models = Get-LibraryModel hf.co/Qwen/Tiny-GGUF
        $models.Id | Should -Be @('hf.co/Qwen/Tiny-GGUF:Q4_K_M', 'hf.co/Qwen/Tiny-GGUF:Q8_0')
        $models | ForEach-Object { $_.Status | Should -Be 'Available'; $_.Revision | Should -Be $Tiny.main; $_.Provider | Should -Be 'llama-cpp' }
        $models[0].Size | Should -Be (Get-Item (Join-Path $Fixtures 'gguf/stories260K.gguf')).Length
        $models[0].Checksum | Should -Be $StoriesSha
        $models[0].Metadata.Quantization | Should -Be 'Q4_K_M'
        $models[0].Metadata.License | Should -Be 'apache-2.0'
        (Get-TestHubStats $Hub).cdnRequests | Should -BeNullOrEmpty
        Get-ChildItem $lib -Recurse -Filter *.gguf | Should -BeNullOrEmpty
    }

    It 'takes huggingface.co/ and any case of the quantization, and names the model hf.co/...:<QUANT>' {
        Use-Hub | Out-Null
        (Get-LibraryModel huggingface.co/Qwen/Tiny-GGUF:q8_0).Id | Should -Be 'hf.co/Qwen/Tiny-GGUF:Q8_0'
    }

    It 'lists a split GGUF set as one model of all its parts' {
        Use-Hub | Out-Null
        $models = Get-LibraryModel hf.co/Split/Big-GGUF
        $models.Id | Should -Be @('hf.co/Split/Big-GGUF:Q4_K_M', 'hf.co/Split/Big-GGUF:Q8_0')
        $models[0].AdditionalProperties['files'] | Should -Be @('big-Q4_K_M-00001-of-00002.gguf', 'big-Q4_K_M-00002-of-00002.gguf')
        $models[0].Size | Should -Be ((Get-Item (Join-Path $Fixtures 'gguf/stories260K.gguf')).Length + (Get-Item (Join-Path $Fixtures 'gguf/ggml-vocab-phi-3.gguf')).Length)
    }

    It 'follows the tree''s Link pages' {
        Use-Hub | Out-Null
        Set-TestHub $Hub -TreePageSize 2
        $m = Get-LibraryModel hf.co/Org/Tiny-Transformers
        $m.AdditionalProperties['files'] | Should -Be @('config.json', 'generation_config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json')
        (Get-TestHubStats $Hub).treePages | Should -BeGreaterThan 3
    }

    It 'waits out 429 as Retry-After says' {
        Use-Hub | Out-Null
        Set-TestHub $Hub -RateLimit 2 -RetryAfter 1
        $watch = [Diagnostics.Stopwatch]::StartNew()
        (Get-LibraryModel hf.co/Solo/One-GGUF).Id | Should -Be 'hf.co/Solo/One-GGUF'
        (Get-TestHubStats $Hub).rateLimited | Should -Be 2
        $watch.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 1.5
    }

    It 'says ModelNotFound for an unknown repository, revision, file or quantization' {
        Use-Hub | Out-Null
        $env:HF_TOKEN = 'hf_good'
        foreach ($ref in 'hf.co/Nobody/Nothing', 'hf.co/Qwen/Tiny-GGUF@no-such-branch', 'hf.co/Qwen/Tiny-GGUF/missing.gguf', 'hf.co/Qwen/Tiny-GGUF:Q2_K') {
            Get-LibraryModel $ref -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $e[0].FullyQualifiedErrorId | Should -BeLike 'ModelNotFound,*'
        }

        Get-LibraryModel hf.co/Qwen/Tiny-GGUF:Q2_K -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].Exception.Message | Should -BeLike '*Q4_K_M, Q8_0*'
    }

    It 'refuses .. or an absolute path in the file part with UnsafeModelContent' {
        $lib = Use-Hub
        foreach ($ref in 'hf.co/Qwen/Tiny-GGUF/../../etc/passwd', 'hf.co/Qwen/Tiny-GGUF//etc/passwd', 'hf.co/Qwen/Tiny-GGUF/a/./b') {
            Start-ModelDownload $ref -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $e[0].FullyQualifiedErrorId | Should -BeLike 'UnsafeModelContent,*'
        }

        (Get-TestHubStats $Hub).info | Should -BeNullOrEmpty
        Get-ModelDownload | Should -BeNullOrEmpty
    }

    It 'scores a reference with Test-ProviderCompatibility, nothing downloaded' {
        Use-Hub | Out-Null
        $c = Test-ProviderCompatibility hf.co/Qwen/Tiny-GGUF:Q4_K_M -Provider llama-cpp
        $c.ModelId | Should -Be 'hf.co/Qwen/Tiny-GGUF:Q4_K_M'
        $c.Compatible | Should -BeTrue
        (Test-ProviderCompatibility hf.co/Org/Tiny-Transformers -Provider llama-cpp).Compatible | Should -BeFalse
    }

    It 'says InvalidModelId for a string that is neither an id nor a reference' {
        Use-Hub | Out-Null
        Get-LibraryModel 'hf.co/only-owner' -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'InvalidModelId,*'
    }
}

Describe 'Start-ModelDownload of GGUF references' -Tag Hub {
    It 'takes Q4_K_M by default, verifies the LFS SHA-256 and records the commit' {
        $lib = Use-Hub
        $task = Start-ModelDownload hf.co/Qwen/Tiny-GGUF
        $task.Status | Should -Be 'Completed'
        $task.ModelId | Should -Be 'hf.co/Qwen/Tiny-GGUF:Q4_K_M'
        $m = Get-LibraryModel hf.co/Qwen/Tiny-GGUF:Q4_K_M
        $m.Status | Should -Be 'Local'
        $m.Revision | Should -Be $Tiny.main
        $m.LocalPath | Should -Be (Join-Path $lib 'llama-cpp/hf.co--Qwen--Tiny-GGUF--Q4_K_M/tiny-Q4_K_M.gguf')
        Sha256 $m.LocalPath | Should -Be $StoriesSha
        (Get-TestHubStats $Hub).cdnRequests | Should -BeGreaterThan 0
        # Listed again: the downloaded quantization is Local, the other still Available.
        (Get-LibraryModel hf.co/Qwen/Tiny-GGUF).Status | Should -Be @('Local', 'Available')
    }

    It 'takes the only GGUF of a repository without quantization names' {
        Use-Hub | Out-Null
        (Start-ModelDownload hf.co/Solo/One-GGUF).Status | Should -Be 'Completed'
        (Get-LibraryModel hf.co/Solo/One-GGUF).Status | Should -Be 'Local'
    }

    It 'fails with AmbiguousModelReference naming the choices when there is no Q4_K_M and several GGUFs' {
        $lib = Use-Hub
        Start-ModelDownload hf.co/Many/NoDefault-GGUF -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'AmbiguousModelReference,*'
        $e[0].Exception.Message | Should -BeLike '*hf.co/Many/NoDefault-GGUF:Q5_K_M*'
        $e[0].Exception.Message | Should -BeLike '*hf.co/Many/NoDefault-GGUF:Q8_0*'
        Get-ChildItem (Join-Path $lib 'llama-cpp') -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        (Start-ModelDownload hf.co/Many/NoDefault-GGUF:Q5_K_M).Status | Should -Be 'Completed'
    }

    It 'brings a vision model''s mmproj file along, in the model''s folder' {
        $lib = Use-Hub
        $task = Start-ModelDownload hf.co/Vis/Vision-GGUF
        $task.Status | Should -Be 'Completed'
        $folder = Join-Path $lib 'llama-cpp/hf.co--Vis--Vision-GGUF--Q4_K_M'
        (Get-ChildItem $folder).Name | Sort-Object | Should -Be @('mmproj-vision-F16.gguf', 'vision-Q4_K_M.gguf')
        (Get-LibraryModel hf.co/Vis/Vision-GGUF:Q4_K_M).LocalPath | Should -Be (Join-Path $folder 'vision-Q4_K_M.gguf')
    }

    It 'downloads a split GGUF set as one model and one task: every part verified, placed together beside the first' {
        $lib = Use-Hub
        $phiSha = Sha256 (Join-Path $Fixtures 'gguf/ggml-vocab-phi-3.gguf')
        $parts = 'big-Q4_K_M-00001-of-00002.gguf', 'big-Q4_K_M-00002-of-00002.gguf'
        $task = Start-ModelDownload hf.co/Split/Big-GGUF:Q4_K_M
        @($task).Count | Should -Be 1
        $task.Status | Should -Be 'Completed'
        $task.ModelId | Should -Be 'hf.co/Split/Big-GGUF:Q4_K_M'
        $total = (Get-Item (Join-Path $Fixtures 'gguf/stories260K.gguf')).Length + (Get-Item (Join-Path $Fixtures 'gguf/ggml-vocab-phi-3.gguf')).Length
        $task.TotalSize | Should -Be $total
        $task.DownloadedSize | Should -Be $total
        @(Get-ModelDownload).Count | Should -Be 1
        # llama.cpp opens the first part and finds <prefix>-0000k-of-0000N.gguf in the same folder.
        $folder = Join-Path $lib 'llama-cpp/hf.co--Split--Big-GGUF--Q4_K_M'
        (Get-ChildItem $folder -File).Name | Sort-Object | Should -Be $parts
        Sha256 (Join-Path $folder $parts[0]) | Should -Be $StoriesSha
        Sha256 (Join-Path $folder $parts[1]) | Should -Be $phiSha
        $stats = Get-TestHubStats $Hub
        $stats."resolve:$($parts[0])" | Should -BeGreaterThan 0
        $stats."resolve:$($parts[1])" | Should -BeGreaterThan 0
        $models = @(Get-LibraryModel -Status Local)
        $models.Id | Should -Be @('hf.co/Split/Big-GGUF:Q4_K_M')
        $models[0].LocalPath | Should -Be (Join-Path $folder $parts[0])
        $models[0].Revision | Should -Be (Get-LibraryModel hf.co/Split/Big-GGUF:Q4_K_M).Revision
        $models[0].Size | Should -Be $total
        (Test-LibraryModel hf.co/Split/Big-GGUF:Q4_K_M).Passed | Should -BeTrue
        Get-ChildItem (Join-Path $lib 'downloads') -Force -ErrorAction SilentlyContinue | Where-Object { $_.Name -notlike '*.lock' -and $_.Name -ne 'hosts' } | Should -BeNullOrEmpty
    }

    It 'places no part of a split set when one part fails its SHA-256' {
        $lib = Use-Hub
        # Every blob's first CDN answer is corrupted: the first part fails, so neither part may appear in llama-cpp/.
        Set-TestHub $Hub -CdnQuery 'corrupt=1&times=1'
        Start-ModelDownload hf.co/Split/Big-GGUF:Q4_K_M -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'ChecksumMismatch,*'
        Test-Path (Join-Path $lib 'llama-cpp/hf.co--Split--Big-GGUF--Q4_K_M') | Should -BeFalse
        Set-TestHub $Hub -CdnQuery ''
        (Start-ModelDownload hf.co/Split/Big-GGUF:Q4_K_M).Status | Should -Be 'Completed'
        (Get-ChildItem (Join-Path $lib 'llama-cpp/hf.co--Split--Big-GGUF--Q4_K_M') -File).Count | Should -Be 2
    }

    It 'does not download a Local reference again without -Force' {
        Use-Hub | Out-Null
        Start-ModelDownload hf.co/Qwen/Tiny-GGUF:Q4_K_M | Out-Null
        Set-TestHub $Hub -ResetStats
        Start-ModelDownload hf.co/Qwen/Tiny-GGUF:Q4_K_M -WarningVariable w -WarningAction SilentlyContinue | Should -BeNullOrEmpty
        $w | Should -BeLike '*already local*'
        (Get-TestHubStats $Hub).cdnRequests | Should -BeNullOrEmpty
    }

    It 'goes back to the Hub for a new signed URL when the connection drops after the first one expired, and resumes with a range' {
        Use-Hub | Out-Null
        # The CDN drops the first response after 400 000 bytes, sent at ~1 MB/s, so the first signed URL (valid 200 ms) has
        # expired by then: a reconnect to the CDN URL would get 403; the Hub gives a fresh one, and the bytes on disk stay.
        Set-TestHub $Hub -SignedUrlTtlMs 200 -CdnQuery 'dropAfter=400000&times=1&rate=1000000'
        $task = Start-ModelDownload hf.co/Qwen/Tiny-GGUF:Q4_K_M
        $task.Status | Should -Be 'Completed'
        Sha256 (Get-LibraryModel hf.co/Qwen/Tiny-GGUF:Q4_K_M).LocalPath | Should -Be $StoriesSha
        $stats = Get-TestHubStats $Hub
        $stats.cdnRanged | Should -BeGreaterThan 0
        $stats.cdnExpired | Should -BeNullOrEmpty
        $stats.resolve | Should -BeGreaterThan 2
    }

    It 'downloads one named file of a repository' {
        $lib = Use-Hub
        $task = Start-ModelDownload hf.co/Qwen/Tiny-GGUF/tiny-Q8_0.gguf
        $task.Status | Should -Be 'Completed'
        $m = Get-LibraryModel hf.co/Qwen/Tiny-GGUF/tiny-Q8_0.gguf
        $m.Status | Should -Be 'Local'
        Sha256 $m.LocalPath | Should -Be (Sha256 (Join-Path $Fixtures 'gguf/ggml-vocab-phi-3.gguf'))
    }

    It 'refuses a tree entry that leaves the model folder, and writes nothing' {
        $lib = Use-Hub
        Start-ModelDownload hf.co/Evil/Escape-GGUF -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'UnsafeModelContent,*'
        Get-ChildItem $lib -Recurse -File | Where-Object Name -ne 'registry.db' | Where-Object Name -notlike 'registry.db-*' | Should -BeNullOrEmpty
        Test-Path (Join-Path (Split-Path $lib) 'escaped.gguf') | Should -BeFalse
        (Get-TestHubStats $Hub).cdnRequests | Should -BeNullOrEmpty
    }
}

Describe 'Gated and private repositories' -Tag Hub {
    It 'says AuthenticationRequired for a gated repository without HF_TOKEN, naming where to accept the licence' {
        $lib = Use-Hub
        Start-ModelDownload hf.co/meta/Gated-GGUF -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'AuthenticationRequired,*'
        $e[0].Exception.Message | Should -BeLike "*gated*$($Hub.Url)/meta/Gated-GGUF*HF_TOKEN*"
        $e[0].ErrorDetails.RecommendedAction | Should -BeLike '*licence*'
        Get-ModelDownload | Should -BeNullOrEmpty
    }

    It 'says AuthenticationRequired when the token''s account has not accepted the licence (403 GatedRepo)' {
        Use-Hub | Out-Null
        $env:HF_TOKEN = 'hf_other'
        Start-ModelDownload hf.co/meta/Gated-GGUF -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'AuthenticationRequired,*'
        $e[0].Exception.Message | Should -BeLike '*token was sent*'
    }

    It 'downloads with HF_TOKEN, sending it to the Hub and never to the CDN' {
        Use-Hub | Out-Null
        $env:HF_TOKEN = 'hf_good'
        (Start-ModelDownload hf.co/meta/Gated-GGUF).Status | Should -Be 'Completed'
        $stats = Get-TestHubStats $Hub
        $stats.hubAuthorized | Should -BeGreaterThan 0
        $stats.cdnRequests | Should -BeGreaterThan 0
        $stats.cdnAuthorizationRefused | Should -BeNullOrEmpty
    }

    It 'says a private repository without a token may be missing or private (AuthenticationRequired)' {
        Use-Hub | Out-Null
        Get-LibraryModel hf.co/acme/Private-GGUF -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'AuthenticationRequired,*'
        $e[0].Exception.Message | Should -BeLike '*does not exist or is private*'
    }

    It 'uses the -Credential of a registered HuggingFace source' {
        Use-Hub | Out-Null
        $credential = [pscredential]::new('token', (ConvertTo-SecureString 'hf_good' -AsPlainText -Force))
        $source = Register-ModelSource -Name hub -Type HuggingFace -Uri $Hub.Url -Credential $credential
        $source.Type | Should -Be 'HuggingFace'
        $source.HasCredential | Should -BeTrue
        (Start-ModelDownload hf.co/acme/Private-GGUF).Status | Should -Be 'Completed'
        (Get-LibraryModel hf.co/acme/Private-GGUF:Q4_K_M).Source | Should -Be 'hub'
        (Get-TestHubStats $Hub).cdnAuthorizationRefused | Should -BeNullOrEmpty
    }

    It 'refuses -Credential on a catalog source' {
        $lib = Use-Hub
        $credential = [pscredential]::new('token', (ConvertTo-SecureString 'x' -AsPlainText -Force))
        Register-ModelSource -Name cat -Uri https://example.invalid/c.json -Credential $credential -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'InvalidModelSource,*'
    }
}

Describe 'Whole transformers models' -Tag Hub {
    It 'downloads what from_pretrained needs into one folder, verified file by file, with one progress over the total' {
        $lib = Use-Hub
        Set-TestHub $Hub -TreePageSize 3
        $job = Start-ModelDownload hf.co/Org/Tiny-Transformers -AsJob
        $task = $job | Wait-Job -Timeout 120 | Receive-Job
        $task.Status | Should -Be 'Completed'
        $folder = Join-Path $lib 'transformers/hf.co--Org--Tiny-Transformers'
        (Get-ChildItem $folder -Recurse -File).Name | Sort-Object | Should -Be (@('config.json', 'generation_config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json') | Sort-Object)
        $total = (Get-ChildItem $folder -File | Measure-Object Length -Sum).Sum
        $task.TotalSize | Should -Be $total
        $task.DownloadedSize | Should -Be $total
        $m = Get-LibraryModel hf.co/Org/Tiny-Transformers
        $m.Status | Should -Be 'Local'
        $m.Provider | Should -Be 'transformers'
        $m.Revision | Should -Be $Trans.main
        Sha256 (Join-Path $folder 'model.safetensors') | Should -Be (Sha256 (Join-Path $Fixtures 'safetensors/voices.safetensors'))
        # Locks stay behind by design: the model's .lock and the per-host connection slots under hosts/.
        Get-ChildItem (Join-Path $lib 'downloads') -Force | Where-Object { $_.Name -notlike '*.lock' -and $_.Name -ne 'hosts' } | Should -BeNullOrEmpty
    }

    It 'pins a revision: the files of that commit, and the commit recorded' {
        $lib = Use-Hub
        (Start-ModelDownload "hf.co/Org/Tiny-Transformers@v1").Status | Should -Be 'Completed'
        $m = Get-LibraryModel hf.co/Org/Tiny-Transformers -WarningVariable w -WarningAction SilentlyContinue
        $m.Revision | Should -Be $Trans.v1
        Get-Content (Join-Path $m.LocalPath 'config.json') -Raw | Should -BeLike '*"version":1*'
        # The branch is elsewhere now: the listing says so, and -Force brings the new commit.
        $w | Should -BeLike "*$($Trans.main)*"
        (Start-ModelDownload hf.co/Org/Tiny-Transformers -Force).Status | Should -Be 'Completed'
        (Get-LibraryModel hf.co/Org/Tiny-Transformers).Revision | Should -Be $Trans.main
    }

    It 'places the folder only when every file is verified, and keeps verified files for the next try' {
        $lib = Use-Hub
        # Every blob's first CDN answer is corrupted: the weights fail their SHA-256, the folder must not appear.
        Set-TestHub $Hub -CdnQuery 'corrupt=1&times=1'
        Start-ModelDownload hf.co/Org/Tiny-Transformers -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'ChecksumMismatch,*'
        $e[0].Exception.Message | Should -BeLike '*model.safetensors*'
        Test-Path (Join-Path $lib 'transformers/hf.co--Org--Tiny-Transformers') | Should -BeFalse
        (Get-LibraryModel hf.co/Org/Tiny-Transformers).Status | Should -Not -Be 'Local'
        (Get-TestHubStats $Hub).'resolve:config.json' | Should -BeGreaterThan 0
        Set-TestHub $Hub -ResetStats
        (Start-ModelDownload hf.co/Org/Tiny-Transformers).Status | Should -Be 'Completed'
        # The files verified before the failure are not fetched again; the one that failed and those after it are.
        $stats = Get-TestHubStats $Hub
        $stats.'resolve:config.json' | Should -BeNullOrEmpty
        $stats.'resolve:generation_config.json' | Should -BeNullOrEmpty
        $stats.'resolve:model.safetensors' | Should -BeGreaterThan 0
        Test-Path (Join-Path $lib 'transformers/hf.co--Org--Tiny-Transformers/model.safetensors') | Should -BeTrue
    }
}

Describe 'A downloaded reference in the other cmdlets' -Tag Hub {
    It 'is read, tested and removed by its id' {
        $lib = Use-Hub
        Start-ModelDownload hf.co/Qwen/Tiny-GGUF:Q4_K_M | Out-Null
        (Get-ModelMetadata hf.co/Qwen/Tiny-GGUF:Q4_K_M).ModelId | Should -Be 'hf.co/Qwen/Tiny-GGUF:Q4_K_M'
        $result = Test-LibraryModel hf.co/Qwen/Tiny-GGUF:Q4_K_M
        $result.Passed | Should -BeTrue
        ($result.Checks | Where-Object Name -eq 'Checksum').Outcome | Should -Be 'Passed'
        Remove-LibraryModel hf.co/Qwen/Tiny-GGUF:Q4_K_M -Confirm:$false
        Test-Path (Join-Path $lib 'llama-cpp/hf.co--Qwen--Tiny-GGUF--Q4_K_M') | Should -BeFalse
        # Gone from the library; the Hub still offers it.
        (Get-LibraryModel hf.co/Qwen/Tiny-GGUF:Q4_K_M).Status | Should -Be 'Available'
    }

    It 'pauses and resumes a folder model, within the file it was in, without fetching finished files again' {
        $lib = Use-Hub
        Set-TestHub $Hub -CdnQuery 'rate=100000'
        $job = Start-ModelDownload hf.co/Org/Tiny-Transformers -AsJob
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while ((Get-ModelDownload -ModelId hf.co/Org/Tiny-Transformers).DownloadedSize -lt 150000 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        $paused = Suspend-ModelDownload -ModelId hf.co/Org/Tiny-Transformers -PassThru
        $paused.Status | Should -Be 'Paused'
        $job | Wait-Job -Timeout 30 | Remove-Job -Force
        Test-Path (Join-Path $lib 'transformers/hf.co--Org--Tiny-Transformers') | Should -BeFalse
        Set-TestHub $Hub -ResetStats -CdnQuery ''
        $task = Resume-ModelDownload -TaskId $paused.TaskId
        $task.Status | Should -Be 'Completed'
        $task.TaskId | Should -Be $paused.TaskId
        $stats = Get-TestHubStats $Hub
        $stats.cdnRanged | Should -BeGreaterThan 0
        $stats.'resolve:config.json' | Should -BeNullOrEmpty
        Sha256 (Join-Path $lib 'transformers/hf.co--Org--Tiny-Transformers/model.safetensors') | Should -Be (Sha256 (Join-Path $Fixtures 'safetensors/voices.safetensors'))
    }
}

Describe 'One model by id' -Tag Hub {
    It 'is found without reading the catalogs after the one that lists it' {
        Use-Hub | Out-Null
        # A registered catalog that cannot be read: a full listing warns about it; finding a built-in id does not touch it.
        Register-ModelSource -Name down -Uri 'http://127.0.0.1:9/catalog.json' -WarningAction SilentlyContinue | Out-Null
        Get-LibraryModel -Source builtin -WarningVariable listed -WarningAction SilentlyContinue | Out-Null
        $listed | Should -BeLike "*'down'*"
        (Get-LibraryModel tinyllama-1.1b-chat-q4 -WarningVariable w -WarningAction SilentlyContinue).Status | Should -Be 'Available'
        $w | Should -BeNullOrEmpty
        Start-ModelDownload tinyllama-1.1b-chat-q4 -WhatIf -WarningVariable w2 -WarningAction SilentlyContinue
        $w2 | Should -BeNullOrEmpty
    }
}

Describe 'Hub models and the Hugging Face cache' -Tag Hub, Stores {
    It 'exports a downloaded reference under its real repository and commit, as huggingface_hub''s scan rules accept' {
        $lib = Use-Hub
        Start-ModelDownload hf.co/Qwen/Tiny-GGUF:Q4_K_M | Out-Null
        $cache = Join-Path ([IO.Path]::GetTempPath()) ('ml-hfc-' + [guid]::NewGuid().ToString('n').Substring(0, 8))
        $r = Export-LibraryModel hf.co/Qwen/Tiny-GGUF:Q4_K_M -To HuggingFaceCache -Path $cache -WarningVariable w
        $w | Should -BeNullOrEmpty
        $r.Name | Should -Be 'Qwen/Tiny-GGUF'
        $r.Revision | Should -Be $Tiny.main
        $r.Linked | Should -BeTrue
        $r.Path | Should -Be (Join-Path $cache 'models--Qwen--Tiny-GGUF')
        if (Get-Command python3 -ErrorAction SilentlyContinue) {
            # tests/Pester/hf_cache_check.py: huggingface_hub's _scan_cached_repo and try_to_load_from_cache rules.
            $check = python3 (Join-Path $PSScriptRoot 'hf_cache_check.py') $cache 'Qwen/Tiny-GGUF' 'tiny-Q4_K_M.gguf' | ConvertFrom-Json
            $check.ok | Should -BeTrue
            $check.revisions[0].commit | Should -Be $Tiny.main
            $check.revisions[0].files[0].blob | Should -Be $StoriesSha.Substring(7)
        }
    }

    It 'downloads nothing for a bare reference whose chosen quantization the registered cache already holds' {
        $cache = Join-Path ([IO.Path]::GetTempPath()) ('ml-hfc-' + [guid]::NewGuid().ToString('n').Substring(0, 8))
        Use-Hub | Out-Null
        Start-ModelDownload hf.co/Qwen/Tiny-GGUF:Q4_K_M | Out-Null
        Export-LibraryModel hf.co/Qwen/Tiny-GGUF:Q4_K_M -To HuggingFaceCache -Path $cache | Out-Null
        # Another library that only has the cache: the Hub says which file the reference means, the cache has it.
        Use-Hub | Out-Null
        Register-ModelSource -Name hfc -Type HuggingFaceCache -Uri $cache | Out-Null
        Start-ModelDownload hf.co/Qwen/Tiny-GGUF -WarningVariable w -WarningAction SilentlyContinue | Should -BeNullOrEmpty
        ($w -join "`n") | Should -Match "'hf.co/Qwen/Tiny-GGUF:Q4_K_M' is already local at '.*models--Qwen--Tiny-GGUF"
        (Get-TestHubStats $Hub).'resolve:tiny-Q4_K_M.gguf' | Should -BeNullOrEmpty
        $listed = Get-LibraryModel hf.co/Qwen/Tiny-GGUF | Where-Object Id -eq 'hf.co/Qwen/Tiny-GGUF:Q4_K_M'
        $listed.Status | Should -Be 'Local'
        $listed.ExternalStore | Should -Be 'Hugging Face cache'
        Remove-Item $cache -Recurse -Force
    }
}

Describe 'HF_HUB_OFFLINE' -Tag Hub {
    It 'asks nothing of the Hub: downloaded models still answer, others are NetworkFailure' {
        Use-Hub | Out-Null
        Start-ModelDownload hf.co/Qwen/Tiny-GGUF:Q4_K_M | Out-Null
        Set-TestHub $Hub -ResetStats
        $env:HF_HUB_OFFLINE = '1'
        (Get-LibraryModel hf.co/Qwen/Tiny-GGUF:Q4_K_M).Status | Should -Be 'Local'
        (Get-LibraryModel hf.co/Qwen/Tiny-GGUF).Id | Should -Be 'hf.co/Qwen/Tiny-GGUF:Q4_K_M'
        Start-ModelDownload hf.co/Qwen/Tiny-GGUF:Q4_K_M -WarningVariable w -WarningAction SilentlyContinue | Should -BeNullOrEmpty
        $w | Should -BeLike '*already local*'
        Get-LibraryModel hf.co/Solo/One-GGUF -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'NetworkFailure,*'
        $e[0].Exception.Message | Should -BeLike '*HF_HUB_OFFLINE*'
        Find-LibraryModel tiny -ErrorVariable e2 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e2[0].FullyQualifiedErrorId | Should -BeLike 'NetworkFailure,*'
        $stats = Get-TestHubStats $Hub
        $stats.info | Should -BeNullOrEmpty
        $stats.search | Should -BeNullOrEmpty
        $stats.resolve | Should -BeNullOrEmpty
    }
}

Describe 'Find-LibraryModel' -Tag Hub {
    It 'searches the Hub: one model per repository, of the format asked, most downloaded first' {
        Use-Hub | Out-Null
        $found = Find-LibraryModel tiny -Format gguf -First 10
        $found.Id | Should -Be @('hf.co/Qwen/Tiny-GGUF')
        $found[0] | Should -BeOfType ModelLibrary.ModelInfo
        $found[0].Format | Should -Be 'gguf'
        $found[0].Revision | Should -Be $Tiny.main
        (Find-LibraryModel tiny).Id | Should -Be @('hf.co/Qwen/Tiny-GGUF', 'hf.co/Org/Tiny-Transformers')
        (Find-LibraryModel -First 1).Count | Should -Be 1
        (Find-LibraryModel -Format gguf -First 100).Id | Should -Not -Contain 'hf.co/acme/Private-GGUF'
    }

    It 'feeds Get-LibraryModel and Start-ModelDownload through the pipeline' {
        Use-Hub | Out-Null
        $q8 = Find-LibraryModel Tiny-GGUF -First 1 | Get-LibraryModel | Where-Object Id -like '*:Q8_0'
        $q8.Id | Should -Be 'hf.co/Qwen/Tiny-GGUF:Q8_0'
        ($q8 | Start-ModelDownload).Status | Should -Be 'Completed'
    }
}

Describe 'Start-ModelDownload -Uri' -Tag Hub {
    It 'downloads one file, verified against the SHA-256 the Hub states (X-Linked-Etag)' {
        $lib = Use-Hub
        $task = Start-ModelDownload -Uri "$($Hub.Url)/Qwen/Tiny-GGUF/resolve/main/tiny-Q4_K_M.gguf"
        $task.Status | Should -Be 'Completed'
        $m = Get-LibraryModel tiny-q4_k_m
        $m.Checksum | Should -Be $StoriesSha
        $m.Source | Should -Be 'url'
        $m.LocalPath | Should -Be (Join-Path $lib 'llama-cpp/tiny-q4_k_m/tiny-Q4_K_M.gguf')
    }

    It 'takes -Id, -Checksum and -Provider, and refuses a file that does not match -Checksum' {
        $lib = Use-Hub
        $url = "$($Hub.Url)/Qwen/Tiny-GGUF/resolve/main/tiny-Q4_K_M.gguf"
        (Start-ModelDownload -Uri $url -Id mine -Checksum $StoriesSha -Provider my-runtime).Status | Should -Be 'Completed'
        (Get-LibraryModel mine).LocalPath | Should -Be (Join-Path $lib 'my-runtime/mine/tiny-Q4_K_M.gguf')
        Start-ModelDownload -Uri $url -Id other -Checksum ('sha256:' + '0' * 64) -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'ChecksumMismatch,*'
        Test-Path (Join-Path $lib 'llama-cpp/other') | Should -BeFalse
    }

    It 'says to use -Uri for a URL given as an id (InvalidModelSource)' {
        Use-Hub | Out-Null
        Start-ModelDownload 'https://example.invalid/x.gguf' -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'InvalidModelSource,*'
        $e[0].ErrorDetails.RecommendedAction | Should -BeLike '*Start-ModelDownload -Uri*'
        Get-ModelDownload | Should -BeNullOrEmpty
    }

    It 'refuses file:// and ftp:// with InsecureSource, before anything starts' {
        $lib = Use-Hub
        foreach ($url in "file://$(Join-Path $Fixtures 'gguf/stories260K.gguf')", 'ftp://127.0.0.1/x.gguf') {
            Start-ModelDownload -Uri $url -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $e[0].FullyQualifiedErrorId | Should -BeLike 'InsecureSource,*'
        }

        Get-ModelDownload | Should -BeNullOrEmpty
    }

    It '-Confirm that nobody can answer is ConfirmationRequired, asked after the plan and before anything starts' {
        $lib = Use-Hub
        # Start-ModelDownload makes one Core call, which asks the cmdlet's ShouldProcess (on the pipeline thread) between
        # resolving the reference and starting: the Hub was asked, the CDN was not, and no task exists.
        { Start-ModelDownload hf.co/Solo/One-GGUF -Confirm -ErrorAction Stop } | Should -Throw -ErrorId 'ConfirmationRequired,*'
        $stats = Get-TestHubStats $Hub
        $stats.info | Should -BeGreaterThan 0
        $stats.cdnRequests | Should -BeNullOrEmpty
        Get-ModelDownload | Should -BeNullOrEmpty
        $verbose = (Start-ModelDownload hf.co/Solo/One-GGUF -Confirm:$false -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message
        $verbose | Where-Object { $_ -like "*'hf.co/Solo/One-GGUF' from source*at revision*" } | Should -Not -BeNullOrEmpty
        (Get-LibraryModel hf.co/Solo/One-GGUF).Status | Should -Be 'Local'
    }

    It '-WhatIf shows the download and changes nothing' {
        $lib = Use-Hub
        Start-ModelDownload hf.co/Qwen/Tiny-GGUF -WhatIf -InformationVariable i 6>&1 | Out-Null
        Get-ModelDownload | Should -BeNullOrEmpty
        Test-Path (Join-Path $lib 'llama-cpp') | Should -BeFalse
    }
}

Describe 'Revisions with slashes (refs/pr/N)' -Tag Hub {
    It 'lists, downloads and records a refs/pr/1 revision, sent as one escaped segment as huggingface_hub sends it' {
        $lib = Use-Hub
        $phiSha = Sha256 (Join-Path $Fixtures 'gguf/ggml-vocab-phi-3.gguf')
        $listed = Get-LibraryModel 'hf.co/PR/Small-GGUF@refs/pr/1'
        $listed.Id | Should -Be 'hf.co/PR/Small-GGUF:Q4_K_M'
        $listed.Revision | Should -Be $PrRepo.'refs/pr/1'
        $listed.Checksum | Should -Be $phiSha
        $task = Start-ModelDownload 'hf.co/PR/Small-GGUF@refs/pr/1:Q4_K_M'
        $task.Status | Should -Be 'Completed'
        $m = Get-LibraryModel hf.co/PR/Small-GGUF:Q4_K_M -WarningAction SilentlyContinue
        $m.Status | Should -Be 'Local'
        $m.Revision | Should -Be $PrRepo.'refs/pr/1'
        Sha256 $m.LocalPath | Should -Be $phiSha
        # The same ref again names the commit that is Local: nothing is fetched.
        Set-TestHub $Hub -ResetStats
        Start-ModelDownload 'hf.co/PR/Small-GGUF:Q4_K_M@refs/pr/1' -WarningVariable w -WarningAction SilentlyContinue | Should -BeNullOrEmpty
        $w | Should -BeLike '*already local*'
        (Get-TestHubStats $Hub).cdnRequests | Should -BeNullOrEmpty
    }

    It 'takes a resolve URL whose revision is escaped (refs%2Fpr%2F1) for -Uri' {
        $lib = Use-Hub
        $task = Start-ModelDownload -Uri "$($Hub.Url)/PR/Small-GGUF/resolve/refs%2Fpr%2F1/pr-Q4_K_M.gguf" -Id pr-one
        $task.Status | Should -Be 'Completed'
        (Get-LibraryModel pr-one).Checksum | Should -Be (Sha256 (Join-Path $Fixtures 'gguf/ggml-vocab-phi-3.gguf'))
    }

    It 'refuses a revision that climbs out of refs/ or is rooted, before asking the Hub (InvalidModelId)' {
        $lib = Use-Hub
        foreach ($ref in 'hf.co/PR/Small-GGUF@refs/../../x', 'hf.co/PR/Small-GGUF@refs%2F..%2F..%2Fetc', 'hf.co/PR/Small-GGUF@%2Fetc%2Fpasswd', 'hf.co/PR/Small-GGUF@..:Q4_K_M') {
            Start-ModelDownload $ref -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $e[0].FullyQualifiedErrorId | Should -BeLike 'InvalidModelId,*'
        }

        Start-ModelDownload 'hf.co/PR/Small-GGUF@refs/pr/1/../../escaped.gguf' -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'UnsafeModelContent,*'
        (Get-TestHubStats $Hub).info | Should -BeNullOrEmpty
        Get-ModelDownload | Should -BeNullOrEmpty
    }
}

Describe 'Rate limits (429)' -Tag Hub {
    # The Hub's 429s carry the IETF draft RateLimit header ("<bucket>";r=<remaining>;t=<seconds to reset>), which
    # huggingface_hub's utils/_http.py parse_ratelimit_headers reads and http_backoff waits out, and Retry-After.
    It 'waits as the RateLimit header says when an API call gets 429 without Retry-After' {
        Use-Hub | Out-Null
        Set-TestHub $Hub -RateLimit 1 -RetryAfter 3 -RateLimitHeaders ratelimit
        (Get-LibraryModel hf.co/Solo/One-GGUF).Id | Should -Be 'hf.co/Solo/One-GGUF'
        $stats = Get-TestHubStats $Hub
        $stats.'rateLimited:api' | Should -Be 1
        $stats.'retryGapMs:api' | Should -BeGreaterOrEqual 2900
    }

    It 'waits as Retry-After says when a file download (resolve) gets 429, then downloads and verifies the file' {
        $lib = Use-Hub
        Set-TestHub $Hub -RateLimitResolve 1 -RetryAfter 3 -RateLimitHeaders retry-after
        $task = Start-ModelDownload hf.co/Solo/One-GGUF
        $task.Status | Should -Be 'Completed'
        Sha256 (Get-LibraryModel hf.co/Solo/One-GGUF).LocalPath | Should -Be $StoriesSha
        $stats = Get-TestHubStats $Hub
        $stats.'rateLimited:resolvers' | Should -Be 1
        $stats.'retryGapMs:resolvers' | Should -BeGreaterOrEqual 2900
    }

    It 'waits as the RateLimit header says ("resolvers";r=0;t=3) when a file download gets 429 without Retry-After' {
        $lib = Use-Hub
        Set-TestHub $Hub -RateLimitResolve 1 -RetryAfter 3 -RateLimitHeaders ratelimit
        (Start-ModelDownload hf.co/Solo/One-GGUF).Status | Should -Be 'Completed'
        $stats = Get-TestHubStats $Hub
        $stats.'rateLimited:resolvers' | Should -Be 1
        $stats.'retryGapMs:resolvers' | Should -BeGreaterOrEqual 2900
    }

    It 'asks -Uri''s probe again after a 429, so the download is still checked against the SHA-256 the Hub states' {
        $lib = Use-Hub
        # The first resolve request is the probe (HEAD, redirect not followed) that reads X-Linked-Etag.
        Set-TestHub $Hub -RateLimitResolve 1 -RetryAfter 1 -RateLimitHeaders retry-after
        $url = "$($Hub.Url)/Solo/One-GGUF/resolve/main/model.gguf"
        $verbose = Start-ModelDownload -Uri $url -Id probed -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        ($verbose.Message -join "`n") | Should -Match ([regex]::Escape("checked against $StoriesSha"))
        (Get-LibraryModel probed).Status | Should -Be 'Local'
        (Get-TestHubStats $Hub).'rateLimited:resolvers' | Should -Be 1
    }
}

Describe 'Source credentials' -Tag Hub {
    It 'never shows a registered token: not in output, verbose, debug, warnings, errors or exported objects' {
        $lib = Use-Hub
        $credential = [pscredential]::new('token', (ConvertTo-SecureString $SecretToken -AsPlainText -Force))
        $seen = [System.Collections.Generic.List[string]]::new()
        $export = Join-Path $lib 'sources.clixml'
        function Keep {
            param([Parameter(ValueFromPipeline)] $Item)
            process {
                if ($null -eq $Item) { return }
                $seen.Add(($Item | Format-List * -Force | Out-String -Width 1000))
                if ($Item -is [System.Management.Automation.ErrorRecord]) {
                    $seen.Add($Item.ToString())
                    $seen.Add($Item.Exception.ToString())
                    $seen.Add(($Item.Exception | Format-List * -Force | Out-String -Width 1000))
                    $seen.Add(($Item.ErrorDetails | Format-List * -Force | Out-String -Width 1000))
                    if ($Item.Exception.PSObject.Properties['ErrorInfo']) { $seen.Add(($Item.Exception.ErrorInfo | ConvertTo-Json -Depth 8)) }
                }
                elseif ($Item -isnot [System.Management.Automation.InformationalRecord]) {
                    $seen.Add(($Item | ConvertTo-Json -Depth 6 -WarningAction SilentlyContinue))
                }
                else { $seen.Add($Item.Message) }
            }
        }

        Register-ModelSource -Name hub -Type HuggingFace -Uri $Hub.Url -Credential $credential -Verbose -Debug *>&1 | Keep
        Get-ModelSource -Verbose -Debug *>&1 | Keep
        Get-ModelSource hub | Export-Clixml -LiteralPath $export
        $seen.Add((Get-Content -LiteralPath $export -Raw))
        Get-LibraryModel hf.co/Secret/Private-GGUF -Verbose -Debug *>&1 | Keep
        Start-ModelDownload hf.co/Secret/Private-GGUF -Verbose -Debug *>&1 | Keep
        Get-ModelDownload | Keep
        Get-LibraryModel -Status Local | Keep
        Get-ModelLibraryConfiguration | Keep
        # Failures with the token sent: a gated repository its account may not read, a missing repository, a missing file.
        foreach ($ref in 'hf.co/meta/Gated-GGUF', 'hf.co/Secret/Nothing', 'hf.co/Secret/Private-GGUF/missing.gguf') {
            Start-ModelDownload $ref -Verbose -Debug -ErrorAction Continue *>&1 | Keep
        }

        (Get-LibraryModel hf.co/Secret/Private-GGUF:Q4_K_M).Status | Should -Be 'Local' -Because 'the token was used'
        (Get-TestHubStats $Hub).hubAuthorized | Should -BeGreaterThan 0
        @($seen | Where-Object { $_ -like '*AuthenticationRequired*' }).Count | Should -BeGreaterThan 0 -Because 'the errors were seen'
        ($seen -join "`n") | Should -Not -BeLike "*$SecretToken*"
        # Stored where the documentation says: in registry.db, readable by this user only.
        if (-not $IsWindows) { (Get-Item (Join-Path $lib 'registry.db')).UnixFileMode | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite') }
    }

    It 'leaves no byte of a token in the library''s files once its source is unregistered' {
        $lib = Use-Hub
        $token = 'hf_unregistered_' + [guid]::NewGuid().ToString('n')
        $credential = [pscredential]::new('token', (ConvertTo-SecureString $token -AsPlainText -Force))
        Register-ModelSource -Name gone -Type HuggingFace -Uri $Hub.Url -Credential $credential | Out-Null
        Register-ModelSource -Name kept -Uri "$($Hub.Url)/none.json" -WarningAction SilentlyContinue | Out-Null
        $files = { Get-ChildItem $lib -Recurse -File | ForEach-Object { [Text.Encoding]::Latin1.GetString([IO.File]::ReadAllBytes($_.FullName)) } }
        (& $files) -join '' | Should -BeLike "*$token*" -Because 'the token is stored while its source is registered'

        Unregister-ModelSource gone -Confirm:$false
        # SQLite overwrites the deleted row (secure_delete) and the write-ahead log is emptied into the database.
        (& $files) -join '' | Should -Not -BeLike "*$token*"
        (Get-ModelSource).Name | Should -Contain 'kept'
    }
}

Describe 'Test-LibraryModel on a Hub model' -Tag Hub {
    It 'quarantines a damaged file under a folder named after the reference, and Remove-LibraryModel deletes it' {
        $lib = Use-Hub
        $id = 'hf.co/Qwen/Tiny-GGUF:Q4_K_M'
        (Start-ModelDownload $id).Status | Should -Be 'Completed'
        $file = (Get-LibraryModel $id).LocalPath
        $stream = [IO.File]::OpenWrite($file)
        try { $stream.Position = 4096; $stream.Write([byte[]]::new(64), 0, 64) } finally { $stream.Dispose() }

        # The reference has '/' and ':', which no folder name may hold: the quarantine folder is the model folder's name.
        $r = Test-LibraryModel $id -ErrorVariable e -ErrorAction SilentlyContinue
        $r.Passed | Should -BeFalse
        $e[0].FullyQualifiedErrorId | Should -BeLike 'ChecksumMismatch,*'
        $quarantined = Join-Path $lib 'quarantine/hf.co--Qwen--Tiny-GGUF--Q4_K_M' (Split-Path $file -Leaf)
        $r.QuarantinePath | Should -Be $quarantined
        Test-Path $quarantined | Should -BeTrue
        Test-Path $file | Should -BeFalse
        (Get-LibraryModel $id).Status | Should -Be 'Error'

        Remove-LibraryModel $id -Confirm:$false
        Test-Path (Join-Path $lib 'quarantine/hf.co--Qwen--Tiny-GGUF--Q4_K_M') | Should -BeFalse
    }
}
