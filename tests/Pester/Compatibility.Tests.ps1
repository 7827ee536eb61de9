# End-to-end tests of the compatibility cmdlets against the built module: the provider registry (hashtable, JSON
# text and file, persistence, built-in overrides), compatibility checks on the real catalog, suggestion buckets,
# integration status against real loopback servers speaking Ollama's and the OpenAI-compatible APIs, a fake
# llama-server on PATH, the integration self-test, error ids, views and completion.

BeforeAll {
    Import-Module $env:MODELLIBRARY_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:Fixtures = Get-FixturesDirectory
    $script:Command = 'ModelLibrary.PowerShell.Compatibility'

    function script:Get-FreePort {
        $probe = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $probe.Start()
        try { $probe.LocalEndpoint.Port } finally { $probe.Stop() }
    }

    function script:Start-FakeProviderServer {
        <#
        A loopback HTTP server answering Ollama's GET /api/tags and the OpenAI-compatible GET /v1/models, in a thread
        job. The listener is started here, so it accepts connections before this returns. It stops after 200 requests
        or when Stop-FakeProviderServer closes it.
        #>
        $port = Get-FreePort
        $listener = [Net.HttpListener]::new()
        $listener.Prefixes.Add("http://127.0.0.1:$port/")
        $listener.Start()
        $job = Start-ThreadJob -ArgumentList $listener -ScriptBlock {
            param($listener)
            for ($served = 0; $served -lt 200 -and $listener.IsListening; $served++) {
                try { $context = $listener.GetContext() } catch { break }
                $status = 200
                $body = switch ($context.Request.Url.AbsolutePath) {
                    '/api/tags' { '{"models":[{"name":"tinyllama:latest","model":"tinyllama:latest","size":637700000}]}' }
                    '/v1/models' { '{"object":"list","data":[{"id":"TinyLlama/TinyLlama-1.1B-Chat-v1.0","object":"model"}]}' }
                    default { $status = 404; '{"error":"not found"}' }
                }
                $bytes = [Text.Encoding]::UTF8.GetBytes($body)
                $context.Response.StatusCode = $status
                $context.Response.ContentType = 'application/json'
                $context.Response.ContentLength64 = $bytes.Length
                $context.Response.OutputStream.Write($bytes, 0, $bytes.Length)
                $context.Response.Close()
            }
        }
        [pscustomobject]@{ Listener = $listener; Job = $job; Port = $port; Url = "http://127.0.0.1:$port" }
    }

    function script:Stop-FakeProviderServer($Server) {
        if (-not $Server) { return }
        $Server.Listener.Stop()
        $Server.Listener.Close()
        $Server.Job | Wait-Job -Timeout 10 | Out-Null
        $Server.Job | Remove-Job -Force
    }

    function script:New-FakeLlamaServer {
        <# A folder holding an executable 'llama-server' script, to put first on a child's PATH. #>
        $bin = Join-Path ([IO.Path]::GetTempPath()) ("ml-bin-" + [guid]::NewGuid().ToString('n').Substring(0, 12))
        New-Item -ItemType Directory $bin | Out-Null
        $exe = Join-Path $bin 'llama-server'
        Set-Content -Path $exe -Value "#!/bin/sh`necho 'version: 1 (fake)'`n"
        & chmod +x $exe
        $bin
    }

    function script:Add-LocalTinyLlama([string] $Library) {
        <# Makes the catalog's tinyllama-1.1b-chat-q4 Local: a real GGUF file where a download would put it. #>
        $dir = Join-Path $Library 'llama-cpp/tinyllama-1.1b-chat-q4'
        New-Item -ItemType Directory $dir -Force | Out-Null
        Copy-Item (Join-Path $Fixtures 'gguf/stories260K.gguf') (Join-Path $dir 'tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf')
    }
}

Describe 'Get-ModelProvider' -Tag Compatibility {
    BeforeEach { $script:lib = New-TestLibrary }

    It 'lists the built-in providers as ProviderCapabilities, with wildcards' {
        $all = Get-ModelProvider
        $all.Name | Should -Be @('llama-cpp', 'transformers', 'ollama', 'vllm')
        $all | ForEach-Object { $_ | Should -BeOfType ([ModelLibrary.ProviderCapabilities]) }
        (Get-ModelProvider 'LLAMA*').Name | Should -Be 'llama-cpp'
        (Get-ModelProvider transformers).SupportedFormats | Should -Be @('safetensors', 'pytorch')
        Get-ModelProvider 'nothing*' | Should -BeNullOrEmpty
    }

    It 'writes ProviderNotFound for an exact name that matches nothing, and goes on with the others' {
        $found = Get-ModelProvider nope, ollama -ErrorVariable e -ErrorAction SilentlyContinue
        $found.Name | Should -Be 'ollama'
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -Be "ProviderNotFound,$Command.GetModelProviderCommand"
        $e[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $e[0].TargetObject | Should -Be 'nope'
        $e[0].ErrorDetails.RecommendedAction | Should -Match 'Get-ModelProvider'
    }
}

Describe 'Register-ModelProvider' -Tag Compatibility {
    BeforeEach { $script:lib = New-TestLibrary }

    It 'registers a hashtable with nested tables, arrays and pipeline-wrapped values' {
        # Write-Output wraps each value in a PSObject, as values from a pipeline are.
        $formats = Write-Output 'GGUF' 'ggml'
        $p = Register-ModelProvider -Definition @{
            Name                       = 'my-runtime'
            Description                = 'A test runtime'
            SupportedFormats           = $formats
            RequiredCapabilities       = @('text-generation')
            OptionalCapabilities       = 'chat', 'vision'
            MemoryRequirements         = @{ Min = 2GB }
            ModelSizeLimits            = [ordered]@{ MinSize = 100MB; MaxSize = '10GB' }
            PerformanceCharacteristics = [pscustomobject]@{ InferenceType = 'server'; QuantizationSupport = 'good' }
            HealthCheck                = @{ Endpoint = '127.0.0.1:9'; Path = 'api/tags'; ListProperty = 'models' }
        }
        $p | Should -BeOfType ([ModelLibrary.ProviderCapabilities])
        $p.Name | Should -Be 'my-runtime'
        $p.BuiltIn | Should -BeFalse
        $p.SupportedFormats | Should -Be @('gguf', 'ggml')
        $p.OptionalCapabilities | Should -Be @('chat', 'vision')
        $p.MemoryRequirements.Min | Should -Be 2GB
        $p.ModelSizeLimits.MinSize | Should -Be 100MB
        $p.ModelSizeLimits.MaxSize | Should -Be 10GB
        $p.PerformanceCharacteristics.InferenceType | Should -Be 'server'
        $p.HealthCheck.Method | Should -Be 'Http'
        $p.HealthCheck.Path | Should -Be '/api/tags'
        (Get-ModelProvider).Name | Should -Contain 'my-runtime'
        (Get-ModelProvider MY-RUNTIME).Description | Should -Be 'A test runtime'
    }

    It 'persists registrations for a new pwsh on the same library' {
        Register-ModelProvider @{ Name = 'kept'; SupportedFormats = 'onnx'; ModelSizeLimits = @{ MaxSize = '4GB' } } | Out-Null
        $r = Invoke-ChildPwsh -Environment @{ MODELS_DIR = $lib } -Script @'
Get-ModelProvider kept | ForEach-Object { "$($_.Name)|$($_.SupportedFormats -join ',')|$($_.ModelSizeLimits.MaxSize)|$($_.BuiltIn)" }
'@
        $r.Error | Should -BeNullOrEmpty
        $r.Output.Trim() | Should -Be "kept|onnx|$(4GB)|False"
    }

    It 'refuses a bad hashtable with InvalidProviderDefinition listing every problem' {
        { Register-ModelProvider @{ Name = 'bad name!'; Colour = 'red'; MemoryRequirements = @{ Min = 'lots' } } -ErrorAction Stop } |
            Should -Throw -ErrorId "InvalidProviderDefinition,$Command.RegisterModelProviderCommand"
        Register-ModelProvider @{ Name = 'bad name!'; Colour = 'red'; MemoryRequirements = @{ Min = 'lots' } } -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $problems = $e[0].Exception.ErrorInfo.Details['problems']
        $problems.Count | Should -BeGreaterOrEqual 4
        ($problems -join "`n") | Should -Match "'Colour' is not a known key"
        ($problems -join "`n") | Should -Match "'name' 'bad name!'"
        ($problems -join "`n") | Should -Match 'supported_formats'
        ($problems -join "`n") | Should -Match 'lots'
        $e[0].Exception.Message | Should -Match 'Colour'
        $e[0].ErrorDetails.RecommendedAction | Should -Match 'SupportedFormats'
        (Get-ModelProvider).Count | Should -Be 4
    }

    It 'registers the seed example from a JSON file, also piped from Get-Item, and as -Json text' {
        $file = Join-Path $lib 'new-provider.json'
        Set-Content -Path $file -Value @'
{
    "name": "new-provider",
    "supported_formats": ["custom-format"],
    "required_capabilities": ["text-generation"],
    "optional_capabilities": ["chat"],
    "memory_requirements": {"min": 1073741824},
    "performance_characteristics": {"inference_type": "local", "optimization": "gpu_optimized", "quantization_support": "good"},
    "model_size_limits": {"min_size": 104857600, "max_size": 10737418240}
}
'@
        $p = Register-ModelProvider -Path $file
        $p.Name | Should -Be 'new-provider'
        $p.SupportedFormats | Should -Be @('custom-format')
        $p.PerformanceCharacteristics.Optimization | Should -Be 'gpu_optimized'
        $p.ModelSizeLimits.MaxSize | Should -Be 10GB
        (Get-Item $file | Register-ModelProvider -Force).Name | Should -Be 'new-provider'
        (Register-ModelProvider -Json '{"Name": "from-text", "SupportedFormats": "gguf"}').SupportedFormats | Should -Be @('gguf')
    }

    It 'refuses a malformed JSON file and a missing file with InvalidProviderDefinition' {
        $bad = Join-Path $lib 'bad.json'
        Set-Content -Path $bad -Value '{ "name": "half", '
        Register-ModelProvider -Path $bad -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -Be "InvalidProviderDefinition,$Command.RegisterModelProviderCommand"
        $e[0].Exception.Message | Should -Match 'not valid JSON'
        $e[0].TargetObject | Should -Be $bad
        { Register-ModelProvider -Path (Join-Path $lib 'missing.json') -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidProviderDefinition,*'
        { Register-ModelProvider -Json '[1, 2]' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidProviderDefinition,*'
    }

    It 'refuses a taken or built-in name without -Force, replaces with -Force, and -WhatIf changes nothing' {
        Register-ModelProvider @{ Name = 'dup'; SupportedFormats = 'gguf' } | Out-Null
        { Register-ModelProvider @{ Name = 'DUP'; SupportedFormats = 'ggml' } -ErrorAction Stop } | Should -Throw -ErrorId "ProviderExists,$Command.RegisterModelProviderCommand"
        { Register-ModelProvider @{ Name = 'ollama'; SupportedFormats = 'safetensors' } -ErrorAction Stop } | Should -Throw -ErrorId 'ProviderExists,*'

        Register-ModelProvider @{ Name = 'ollama'; SupportedFormats = 'safetensors' } -Force -WhatIf | Should -BeNullOrEmpty
        Register-ModelProvider @{ Name = 'fresh'; SupportedFormats = 'gguf' } -WhatIf | Should -BeNullOrEmpty
        (Get-ModelProvider ollama).BuiltIn | Should -BeTrue
        Get-ModelProvider fresh -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

        $override = Register-ModelProvider @{ Name = 'Ollama'; SupportedFormats = 'gguf', 'safetensors' } -Force
        $override.Name | Should -Be 'ollama'
        $o = Get-ModelProvider ollama
        $o.BuiltIn | Should -BeFalse
        $o.SupportedFormats | Should -Be @('gguf', 'safetensors')
        (Get-ModelProvider).Count | Should -Be 5  # dup plus the four built-ins, one of them overridden
    }

    It 'Unregister-ModelProvider removes a registration, restores an overridden built-in and refuses built-ins' {
        Register-ModelProvider @{ Name = 'gone-soon'; SupportedFormats = 'gguf' } | Out-Null
        Register-ModelProvider @{ Name = 'vllm'; SupportedFormats = 'safetensors', 'gguf' } -Force | Out-Null
        Unregister-ModelProvider gone-soon -WhatIf
        (Get-ModelProvider).Name | Should -Contain 'gone-soon'
        Get-ModelProvider gone-soon | Unregister-ModelProvider -Confirm:$false
        (Get-ModelProvider).Name | Should -Not -Contain 'gone-soon'
        Unregister-ModelProvider VLLM -Confirm:$false
        (Get-ModelProvider vllm).BuiltIn | Should -BeTrue
        { Unregister-ModelProvider llama-cpp -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId "InvalidProviderDefinition,$Command.UnregisterModelProviderCommand"
        { Unregister-ModelProvider nope -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'ProviderNotFound,*'
    }
}

Describe 'Test-ProviderCompatibility' -Tag Compatibility {
    BeforeEach { $script:lib = New-TestLibrary }

    It 'finds a catalog GGUF model compatible with llama-cpp' {
        $r = Test-ProviderCompatibility -ModelId tinyllama-1.1b-chat-q4 -Provider llama-cpp
        $r | Should -BeOfType ([ModelLibrary.ModelCompatibility])
        $r.ModelId | Should -Be 'tinyllama-1.1b-chat-q4'
        $r.Provider | Should -Be 'llama-cpp'
        $r.Compatible | Should -BeTrue
        $r.CompatibilityScore | Should -BeGreaterThan 0.5
        $r.Requirements.Format | Should -Be 'gguf'
        ($r.Recommendations -join "`n") | Should -Match 'Start-ModelDownload -Id tinyllama-1.1b-chat-q4'
    }

    It 'finds it incompatible with transformers, giving the format as the reason and a way out' {
        $r = Test-ProviderCompatibility tinyllama-1.1b-chat-q4 -Provider transformers
        $r.Compatible | Should -BeFalse
        ($r.Reasons -join "`n") | Should -Match 'transformers cannot load gguf models'
        ($r.Factors | Where-Object Blocking).Name | Should -Be 'Format'
        ($r.Recommendations -join "`n") | Should -Match "tinyllama-1.1b-chat-safetensors"
    }

    It 'takes ModelInfo from the pipeline by Id and scores against -MaxMemory' {
        $results = Get-LibraryModel 'tinyllama-1.1b-chat-q*' | Test-ProviderCompatibility -Provider llama-cpp -MaxMemory 1GB
        $results.Count | Should -Be 5
        $q8 = $results | Where-Object ModelId -eq 'tinyllama-1.1b-chat-q8'
        $q8.Compatible | Should -BeFalse
        ($q8.Reasons -join "`n") | Should -Match 'given memory limit'
        $q8.Requirements.MemoryOverridden | Should -BeTrue
        ($results | Where-Object ModelId -eq 'tinyllama-1.1b-chat-q2').Compatible | Should -BeTrue
        (Test-ProviderCompatibility 'tinyllama-1.1b-chat-q[45]' -Provider ollama).ModelId | Should -Be @('tinyllama-1.1b-chat-q4', 'tinyllama-1.1b-chat-q5')
    }

    It 'checks a registered provider, including its size limits' {
        Register-ModelProvider @{ Name = 'small-only'; SupportedFormats = 'gguf'; ModelSizeLimits = @{ MaxSize = '700MB' } } | Out-Null
        (Test-ProviderCompatibility tinyllama-1.1b-chat-q4 -Provider small-only).Compatible | Should -BeTrue
        $big = Test-ProviderCompatibility tinyllama-1.1b-chat-q8 -Provider small-only
        $big.Compatible | Should -BeFalse
        ($big.Reasons -join "`n") | Should -Match "larger than small-only's limit"
    }

    It 'writes ModelNotFound per unknown model and goes on; an unknown provider stops with ProviderNotFound' {
        $r = Test-ProviderCompatibility no-such-model, tinyllama-1.1b-chat-q4 -Provider llama-cpp -ErrorVariable e -ErrorAction SilentlyContinue
        $r.ModelId | Should -Be 'tinyllama-1.1b-chat-q4'
        $e[0].FullyQualifiedErrorId | Should -Be "ModelNotFound,$Command.TestProviderCompatibilityCommand"
        $e[0].TargetObject | Should -Be 'no-such-model'
        { Test-ProviderCompatibility tinyllama-1.1b-chat-q4 -Provider no-such-runtime -ErrorAction Stop } |
            Should -Throw -ErrorId "ProviderNotFound,$Command.TestProviderCompatibilityCommand"
        { Test-ProviderCompatibility tinyllama-1.1b-chat-q4 -Provider llama-cpp -MaxMemory 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
    }

    It 'shows a table by default and every reason and recommendation on its own line in Format-List' {
        $r = Test-ProviderCompatibility tinyllama-1.1b-chat-q4 -Provider transformers
        $table = $r | Out-String -Width 200
        $table | Should -Match 'ModelId\s+Provider\s+Compatible\s+Score'
        $table | Should -Match 'transformers cannot load gguf'
        $list = $r | Format-List | Out-String -Width 1000
        foreach ($line in $r.Reasons + $r.Recommendations) { $list | Should -Match ([regex]::Escape($line)) }
        $list | Should -Not -Match '\{.*…\}'
    }
}

Describe 'Get-ProviderModelSuggestion' -Tag Compatibility {
    BeforeEach { $script:lib = New-TestLibrary }

    It 'buckets compatible models by score: Excellent >= 0.8, Good >= 0.6, Acceptable >= 0.4' {
        # A runtime that uses none of the chat models' further capabilities, sized to 2 GB: tight fits drop to Good.
        Register-ModelProvider @{ Name = 'narrow'; SupportedFormats = 'gguf'; OptionalCapabilities = 'vision' } | Out-Null
        $s = Get-ProviderModelSuggestion narrow -MaxMemory 2GB
        $s | Should -BeOfType ([ModelLibrary.ProviderSuggestions])
        $s.Provider | Should -Be 'narrow'
        $s.ProviderCapabilities.Name | Should -Be 'narrow'
        $s.MemoryBytes | Should -Be 2GB
        $s.TotalCompatibleModels | Should -Be $s.Models.Count
        $s.TotalCompatibleModels | Should -BeGreaterThan 0
        # Which buckets fill depends on this machine's measured memory bandwidth (speed is part of the score), so
        # only the thresholds are checked here; RankingTests (xunit) fixes the machine and checks the buckets.
        $bucketed = @($s.Recommendations.Excellent) + @($s.Recommendations.Good) + @($s.Recommendations.Acceptable)
        $bucketed.Count | Should -Be @($s.Models | Where-Object Rating -ne 'Poor').Count
        $score = @{}; $s.Models | ForEach-Object { $score[$_.ModelId] = $_.CompatibilityScore }
        $s.Recommendations.Excellent | ForEach-Object { $score[$_] | Should -BeGreaterOrEqual 0.8 }
        $s.Recommendations.Good | ForEach-Object { $score[$_] | Should -BeGreaterOrEqual 0.6; $score[$_] | Should -BeLessThan 0.8 }
        $s.Recommendations.Acceptable | ForEach-Object { $score[$_] | Should -BeGreaterOrEqual 0.4; $score[$_] | Should -BeLessThan 0.6 }
        $s.Models | ForEach-Object { $_.Compatibility.Compatible | Should -BeTrue }
        # Best first.
        $s.Models[0].CompatibilityScore | Should -Be ($s.Models.CompatibilityScore | Measure-Object -Maximum).Maximum
    }

    It 'suggests fewer models for less memory and leaves out downloads above -MaxSize' {
        $small = Get-ProviderModelSuggestion llama-cpp -MaxMemory 2GB
        $large = Get-ProviderModelSuggestion llama-cpp -MaxMemory 64GB
        $small.TotalCompatibleModels | Should -BeGreaterThan 0
        $large.TotalCompatibleModels | Should -BeGreaterThan $small.TotalCompatibleModels
        $small.Models.ModelId | Should -Not -Contain 'llama-3.1-8b-instruct-q4'
        $large.Models.ModelId | Should -Contain 'llama-3.1-8b-instruct-q4'
        $capped = Get-ProviderModelSuggestion llama-cpp -MaxMemory 64GB -MaxSize 700MB
        $capped.Models | Where-Object { $null -ne $_.Size -and $_.Size -gt 700MB } | Should -BeNullOrEmpty
        $capped.TotalCompatibleModels | Should -BeLessThan $large.TotalCompatibleModels
    }

    It 'marks models already downloaded, in the objects and in the list view' {
        Add-LocalTinyLlama $lib
        $s = Get-ProviderModelSuggestion llama-cpp -MaxMemory 16GB
        $local = $s.Models | Where-Object IsLocal
        $local.ModelId | Should -Be 'tinyllama-1.1b-chat-q4'
        ($s.Models | Where-Object ModelId -eq 'tinyllama-1.1b-chat-q8').IsLocal | Should -BeFalse
        ($s | Format-List | Out-String -Width 2000) | Should -Match 'tinyllama-1\.1b-chat-q4 \(local\)'
        ($s.Models | Out-String -Width 200) | Should -Match 'tinyllama-1\.1b-chat-q4\s+\S+\s+yes'
    }

    It 'takes providers from Get-ModelProvider and refuses unknown ones' {
        (Get-ModelProvider llama-cpp, vllm | Get-ProviderModelSuggestion -MaxMemory 32GB).Provider | Should -Be @('llama-cpp', 'vllm')
        { Get-ProviderModelSuggestion no-such-runtime -ErrorAction Stop } | Should -Throw -ErrorId "ProviderNotFound,$Command.GetProviderModelSuggestionCommand"
    }
}

Describe 'Recommendations that tell models apart' -Tag Compatibility {
    BeforeEach { $script:lib = New-TestLibrary }

    It 'rates the catalog for llama-cpp on this machine into more than one bucket, with speed and placement' {
        $s = Get-ProviderModelSuggestion llama-cpp
        ($s.Models.Rating | Sort-Object -Unique).Count | Should -BeGreaterThan 1
        $s.Recommendations.Excellent.Count | Should -BeLessThan $s.TotalCompatibleModels
        $s.Machine.MemoryBandwidth | Should -BeGreaterThan 0
        $s.Models | ForEach-Object { $_.TokensPerSecond | Should -BeGreaterThan 0 }
        $s.BestOfFamily.Count | Should -BeGreaterThan 0
        $s.BestOfFamily.Count | Should -BeLessThan $s.TotalCompatibleModels
        ($s.BestOfFamily.ModelId | Where-Object { $_ -like 'tinyllama-1.1b-chat-q*' }).Count | Should -Be 1
        ($s.Models | Out-String -Width 200) | Should -Match 'Tokens/s'
    }

    It 'sizes the cache for -ContextLength and says by how much a model does not fit' {
        $normal = Test-ProviderCompatibility llama-3.1-8b-instruct-q4 -Provider llama-cpp -MaxMemory 8GB
        $long = Test-ProviderCompatibility llama-3.1-8b-instruct-q4 -Provider llama-cpp -MaxMemory 8GB -ContextLength 131072
        $normal.Compatible | Should -BeTrue
        $long.Requirements.ContextLength | Should -Be 131072
        $long.Requirements.MemoryEstimate.ContextCache | Should -BeGreaterThan (16 * $normal.Requirements.MemoryEstimate.ContextCache)
        $long.Compatible | Should -BeFalse
        $long.CompatibilityScore | Should -BeLessThan 0.4
        $long.Requirements.MemoryShortfallBytes | Should -BeGreaterThan 0
        ($long.Reasons -join "`n") | Should -Match '131072 tokens'
        ($long.Reasons -join "`n") | Should -Match ([regex]::Escape([ModelLibrary.ByteSize]::Format($long.Requirements.MemoryShortfallBytes) + ' short'))
        (Get-ProviderModelSuggestion llama-cpp -MaxMemory 8GB -ContextLength 131072).Models.ModelId | Should -Not -Contain 'llama-3.1-8b-instruct-q4'
        { Test-ProviderCompatibility llama-3.1-8b-instruct-q4 -Provider llama-cpp -ContextLength 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
    }

    It 'shows the machine in Get-ProviderIntegrationStatus' {
        $status = Get-ProviderIntegrationStatus -Provider llama-cpp
        $status.Machine | Should -BeOfType ([ModelLibrary.MachineDescription])
        $status.Machine.TotalMemory | Should -BeGreaterThan 0
        $status.Machine.MemoryBandwidth | Should -BeGreaterThan 0
        , $status.Machine.Gpus | Should -BeOfType ([ModelLibrary.GpuDevice[]])
        ($status | Format-List | Out-String -Width 300) | Should -Match 'Gpus\s*:'
        ($status | Out-String -Width 300) | Should -Match 'RAM'
    }
}

Describe 'Measure-LibraryModel' -Tag Compatibility {
    BeforeEach { $script:lib = New-TestLibrary }

    It 'runs the real stories260K.gguf in the embedded llama.cpp: tokens come out, every number is positive' {
        $m = Measure-LibraryModel -Path (Join-Path $Fixtures 'gguf/stories260K.gguf') -MaxTokens 8 -ContextLength 128
        $m | Should -BeOfType ([ModelLibrary.InferenceMeasurement])
        $m.TokensGenerated | Should -Be 8
        $m.Text | Should -Not -BeNullOrEmpty
        $m.TokensPerSecond | Should -BeGreaterThan 0
        $m.LoadTime | Should -BeGreaterThan ([TimeSpan]::Zero)
        $m.PeakMemoryBytes | Should -BeGreaterThan 0
        $m.Engine | Should -Match '^llama\.cpp \(LLamaSharp 0\.30\.0'
        $m.Stored | Should -BeFalse
        ($m | Out-String -Width 200) | Should -Match 'Tokens/s'
    }

    It 'stores the measurement with a library model and later scores use it' {
        Import-LibraryModel -Path (Join-Path $Fixtures 'gguf/stories260K.gguf') -Id stories260k -Provider llama-cpp | Out-Null
        $before = Test-ProviderCompatibility stories260k -Provider llama-cpp
        $before.Requirements.Speed.Measured | Should -BeFalse
        ($before.Recommendations -join "`n") | Should -Match 'Measure-LibraryModel -Id stories260k'

        $m = Get-LibraryModel stories260k | Measure-LibraryModel -MaxTokens 8
        $m.Stored | Should -BeTrue
        $m.ModelId | Should -Be 'stories260k'
        $metrics = (Get-LibraryModel stories260k).Metadata.PerformanceMetrics
        [double]$metrics['measured_tokens_per_second'] | Should -BeGreaterThan 0
        $metrics['measured_on'] | Should -Be $m.MachineFingerprint

        $after = Test-ProviderCompatibility stories260k -Provider llama-cpp
        $after.Requirements.Speed.Measured | Should -BeTrue
        $after.Requirements.TokensPerSecond | Should -Be ([math]::Round([double]$metrics['measured_tokens_per_second'], 1))
        ($after.Reasons -join "`n") | Should -Match 'measured'
    }

    It 'refuses a non-GGUF, a vocabulary-only and a truncated file with InvalidModelFile' {
        $dir = Join-Path $lib 'bad'
        New-Item -ItemType Directory $dir | Out-Null
        Set-Content (Join-Path $dir 'notes.gguf') 'not a model'
        $bytes = [IO.File]::ReadAllBytes((Join-Path $Fixtures 'gguf/stories260K.gguf'))
        [IO.File]::WriteAllBytes((Join-Path $dir 'half.gguf'), $bytes[0..($bytes.Length / 2)])
        $paths = (Join-Path $dir 'notes.gguf'), (Join-Path $dir 'half.gguf'), (Join-Path $Fixtures 'gguf/ggml-vocab-gpt-2.gguf')
        $out = Measure-LibraryModel -Path $paths -ErrorVariable e -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $e.Count | Should -Be 3
        $e | ForEach-Object { $_.FullyQualifiedErrorId | Should -Be 'InvalidModelFile,ModelLibrary.PowerShell.ModelFiles.MeasureLibraryModelCommand' }
        ($e[1].Exception.Message) | Should -Match 'truncated'
    }

    It 'keeps the engine out of the import: LLamaSharp loads on first use, and without the companion module the error says so' {
        $r = Invoke-ChildPwsh -Script @"
`$before = [AppDomain]::CurrentDomain.GetAssemblies().GetName().Name -contains 'LLamaSharp'
`$null = Measure-LibraryModel -Path '$(Join-Path $Fixtures 'gguf/stories260K.gguf')' -MaxTokens 2
`$after = [AppDomain]::CurrentDomain.GetAssemblies().GetName().Name -contains 'LLamaSharp'
"before=`$before after=`$after"
"@ -Environment @{ MODELS_DIR = $lib }
        $r.Output | Should -Match 'before=False after=True'

        # The module alone, without ModelLibrary.Inference beside it or on PSModulePath.
        $alone = Join-Path $lib 'alone/ModelLibrary'
        New-Item -ItemType Directory (Split-Path $alone) | Out-Null
        Copy-Item (Split-Path $env:MODELLIBRARY_TEST_MODULE) $alone -Recurse
        $r = Invoke-ChildPwsh -NoImport -Script @"
Import-Module '$(Join-Path $alone 'ModelLibrary.psd1')'
Measure-LibraryModel -Path '$(Join-Path $Fixtures 'gguf/stories260K.gguf')' -ErrorVariable e -ErrorAction SilentlyContinue
`$e[0].FullyQualifiedErrorId
`$e[0].ErrorDetails.RecommendedAction
"@ -Environment @{ MODELS_DIR = $lib; PSModulePath = (Join-Path $lib 'nothing-here') }
        $r.Output | Should -Match 'InferenceEngineNotFound,ModelLibrary.PowerShell.ModelFiles.MeasureLibraryModelCommand'
        $r.Output | Should -Match 'ModelLibrary.Inference'
    }
}

Describe 'Get-ProviderIntegrationStatus' -Tag Compatibility {
    BeforeAll { $script:server = Start-FakeProviderServer }
    AfterAll { Stop-FakeProviderServer $server }
    BeforeEach { $script:lib = New-TestLibrary }

    It 'reports Ollama and an OpenAI-compatible server healthy when they answer on loopback' {
        Add-LocalTinyLlama $lib
        $r = Invoke-ChildPwsh -Environment @{ MODELS_DIR = $lib; OLLAMA_HOST = "127.0.0.1:$($server.Port)"; VLLM_ENDPOINT = $server.Url } -Script @'
$s = Get-ProviderIntegrationStatus -Refresh
$s.GetType().FullName
foreach ($p in $s.Providers) { "$($p.Name)|$($p.Healthy)|$($p.Status)|$($p.LocalModelsCount)|$($p.Health.ServedModels -join ',')|$($p.Message)" }
"overall=$($s.OverallStatus) healthy=$($s.HealthyProviders) total=$($s.TotalProviders) withModels=$($s.ProvidersWithModels) compatible=$($s.TotalCompatibleModels)"
'@
        $r.Error | Should -BeNullOrEmpty
        $r.Output | Should -Match 'ModelLibrary.IntegrationStatus'
        # Ollama answered and serves GGUF, and a compatible GGUF model is local: ready to serve.
        $r.Output | Should -Match '(?m)^ollama\|True\|Healthy\|1\|tinyllama:latest\|'
        # vLLM answered but no safetensors model is local: Degraded.
        $r.Output | Should -Match '(?m)^vllm\|True\|Degraded\|0\|TinyLlama/TinyLlama-1.1B-Chat-v1.0\|'
        $r.Output | Should -Match 'overall=Healthy'
        $r.Output | Should -Match 'total=4'
    }

    It 'reports a provider whose server is down as Unhealthy, filters with -Provider, checks a changed OLLAMA_HOST at once, and caches an unchanged one until -Refresh' {
        $closed = Get-FreePort
        $r = Invoke-ChildPwsh -Environment @{ MODELS_DIR = $lib; OLLAMA_HOST = "127.0.0.1:$closed" } -Script @"
`$down = Get-ProviderIntegrationStatus -Provider ollama
"down=`$(`$down.Providers[0].Healthy)|`$(`$down.Providers[0].Status)|`$(`$down.TotalProviders)|`$(`$down.Providers[0].Message)"
`$env:OLLAMA_HOST = '127.0.0.1:$($server.Port)'
`$moved = (Get-ProviderIntegrationStatus -Provider oll*).Providers[0]
"moved=`$(`$moved.Healthy)"
`$again = (Get-ProviderIntegrationStatus -Provider ollama).Providers[0]
"cached=`$(`$again.Health.CheckedAt -eq `$moved.Health.CheckedAt)"
`$refreshed = (Get-ProviderIntegrationStatus -Provider ollama -Refresh).Providers[0]
"refreshed=`$(`$refreshed.Healthy)|`$(`$refreshed.Health.CheckedAt -gt `$moved.Health.CheckedAt)"
"@
        $r.Error | Should -BeNullOrEmpty
        $r.Output | Should -Match 'down=False\|Unhealthy\|1\|.*refused'
        $r.Output | Should -Match 'moved=True'
        $r.Output | Should -Match 'cached=True'
        $r.Output | Should -Match 'refreshed=True\|True'
    }

    It 'finds llama-server on PATH' -Skip:$IsWindows {
        $bin = New-FakeLlamaServer
        $r = Invoke-ChildPwsh -Environment @{ MODELS_DIR = $lib; PATH = "$bin$([IO.Path]::PathSeparator)$env:PATH"; LLAMA_CPP_ENDPOINT = '' } -Script @'
$p = (Get-ProviderIntegrationStatus -Provider llama-cpp -Refresh).Providers[0]
"$($p.Healthy)|$($p.ProbeMethod)|$($p.Endpoint)"
'@
        $r.Output.Trim() | Should -Be "True|Executable|$(Join-Path $bin 'llama-server')"
        Remove-Item $bin -Recurse -Force
    }

    It 'writes ProviderNotFound for an unknown exact name and shows a default table' {
        Get-ProviderIntegrationStatus -Provider nope -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -Be "ProviderNotFound,$Command.GetProviderIntegrationStatusCommand"
        $text = Get-ProviderIntegrationStatus -Provider ollama | Out-String -Width 200
        $text | Should -Match 'Overall\s+Healthy\s+WithModels\s+Compatible\s+Machine\s+Providers'
        $text | Should -Match 'ollama: '
    }
}

Describe 'Test-ModelLibraryIntegration' -Tag Compatibility {
    BeforeEach { $script:lib = New-TestLibrary }

    It '-Quiet returns one bool and writes no errors' {
        $result = Test-ModelLibraryIntegration -Quiet -ErrorVariable e
        @($result).Count | Should -Be 1
        $result | Should -BeOfType ([bool])
        $e | Should -BeNullOrEmpty
    }

    It 'passes with a runtime on PATH, and fails with none' -Skip:$IsWindows {
        $bin = New-FakeLlamaServer
        $closed = Get-FreePort
        $vars = @{ MODELS_DIR = $lib; OLLAMA_HOST = "127.0.0.1:$closed"; VLLM_ENDPOINT = "http://127.0.0.1:$closed"; LLAMA_CPP_ENDPOINT = '' }
        $up = Invoke-ChildPwsh -Environment ($vars + @{ PATH = "$bin$([IO.Path]::PathSeparator)$env:PATH" }) -Script 'Test-ModelLibraryIntegration -Quiet'
        $up.Output.Trim() | Should -Be 'True'
        # Only an empty folder on PATH: no llama-server, no Python; both servers down.
        $empty = Join-Path $lib 'empty-bin'
        New-Item -ItemType Directory $empty | Out-Null
        $down = Invoke-ChildPwsh -Environment ($vars + @{ PATH = $empty }) -Script 'Test-ModelLibraryIntegration -Quiet'
        $down.Output.Trim() | Should -Be 'False'
        Remove-Item $bin -Recurse -Force
    }

    It 'outputs one step per check and an IntegrationStepFailed error per failed step, targeting the step' {
        $closed = Get-FreePort
        $saved = $env:OLLAMA_HOST
        try {
            $env:OLLAMA_HOST = "127.0.0.1:$closed"
            $steps = Test-ModelLibraryIntegration -Refresh -ErrorVariable e -ErrorAction SilentlyContinue
        }
        finally { $env:OLLAMA_HOST = $saved }
        $steps | ForEach-Object { $_ | Should -BeOfType ([ModelLibrary.IntegrationTestStep]) }
        $steps.Count | Should -Be (3 + 2 * 4)
        $steps[0].Name | Should -Be 'Discover models'
        $steps[0].Success | Should -BeTrue
        $steps[0].Duration | Should -BeOfType ([TimeSpan])
        ($steps | Where-Object Name -eq 'Check registry').Message | Should -Match 'schema version \d+'
        ($steps | Where-Object Name -eq 'Validate directories').Success | Should -BeTrue
        $failed = @($steps | Where-Object { -not $_.Success })
        $e.Count | Should -Be $failed.Count
        $e | ForEach-Object {
            $_.FullyQualifiedErrorId | Should -Be "IntegrationStepFailed,$Command.TestModelLibraryIntegrationCommand"
            $_.TargetObject | Should -BeOfType ([ModelLibrary.IntegrationTestStep])
            $_.TargetObject.Success | Should -BeFalse
        }
        $ollama = $e | Where-Object { $_.TargetObject.Name -eq 'Provider health (ollama)' }
        $ollama.Exception.Message | Should -Match 'refused'
        $ollama.ErrorDetails.RecommendedAction | Should -Match 'OLLAMA_HOST'
        ($steps | Out-String -Width 200) | Should -Match '(PASS|FAIL)\s+Discover models'
    }
}

Describe 'Compatibility views and completion' -Tag Compatibility {
    BeforeAll { $null = New-TestLibrary }

    It 'has a default table view for every output type' {
        foreach ($type in 'ProviderCapabilities', 'ModelCompatibility', 'ProviderSuggestions', 'ModelSuggestion', 'IntegrationStatus',
            'ProviderIntegrationStatus', 'IntegrationTestStep', 'ProviderHealth', 'CompatibilityFactor', 'InferenceMeasurement',
            'MachineDescription', 'GpuDevice') {
            $views = (Get-FormatData -TypeName "ModelLibrary.$type" -PowerShellVersion $PSVersionTable.PSVersion).FormatViewDefinition
            $views[0].Control | Should -BeOfType ([System.Management.Automation.TableControl]) -Because $type
        }
    }

    It 'exports the compatibility cmdlets' {
        $names = (Get-Command -Module ModelLibrary).Name
        foreach ($n in 'Get-ModelProvider', 'Register-ModelProvider', 'Unregister-ModelProvider', 'Test-ProviderCompatibility',
            'Get-ProviderModelSuggestion', 'Get-ProviderIntegrationStatus', 'Test-ModelLibraryIntegration') {
            $names | Should -Contain $n
        }
        (Get-Command Register-ModelProvider).Parameters.Keys | Should -Contain 'WhatIf'
        (Get-Command Register-ModelProvider).ParameterSets.Name | Sort-Object | Should -Be @('Definition', 'Json', 'Path')
    }

    It 'completes -Provider from the provider registry, registered names included' {
        Register-ModelProvider @{ Name = 'completion-rt'; SupportedFormats = 'gguf' } | Out-Null
        $line = 'Test-ProviderCompatibility -ModelId x -Provider tra'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain 'transformers'
        $line = 'Get-ProviderModelSuggestion completion-'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('completion-rt')
        $line = 'Get-ProviderIntegrationStatus -Provider oll'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('ollama')
    }

    It 'completes -ModelId from the catalog' {
        $line = 'Test-ProviderCompatibility -Provider llama-cpp -ModelId tinyllama-1.1b-chat-q'
        $c = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $c | Should -Contain 'tinyllama-1.1b-chat-q4'
        $c | Should -Not -Contain 'phi-3-mini-4k-instruct-q4'
    }
}
