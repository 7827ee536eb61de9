# Issue 9 (items 1-4, 8, 13, 16) through the built module: servers that never stop, answer with web pages, redirect
# in loops or to plain http elsewhere, catalogs that never end, sources that do not answer, passwords in URLs.
# "Another host" is a name under .invalid (never resolves): a redirect wrongly followed fails on DNS, nothing leaves
# the machine. The server is tests/ModelLibrary.TestServer (routes /endless, /loop, /redirect, faults by query).

BeforeAll {
    Import-Module $env:MODELLIBRARY_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:Fixtures = Get-FixturesDirectory
    $script:ServedRoot = Join-Path ([IO.Path]::GetTempPath()) ("ml-served-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
    New-Item -ItemType Directory $ServedRoot | Out-Null
    Copy-Item (Join-Path $Fixtures 'gguf/stories260K.gguf') $ServedRoot
    $script:Server = Start-TestServer -Root $ServedRoot
    $script:Port = ([uri]$Server.Url).Port
    $script:StoriesSha = 'sha256:270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d'
    $script:StoriesSize = 1185376

    function script:Use-TestCatalog([object[]] $Models) {
        $lib = New-TestLibrary
        $path = Join-Path $lib 'catalog.json'
        @{ models = $Models } | ConvertTo-Json -Depth 6 | Set-Content $path
        Register-ModelSource -Name test -Uri $path | Out-Null
        $lib
    }

    function script:Entry([string] $Id, [string] $Url, $Size = $StoriesSize, $Checksum = $StoriesSha) {
        @{ id = $Id; name = $Id; provider = 'llama-cpp'; format = 'gguf'; size = $Size; download_url = $Url
           checksum = $Checksum; filename = 'model.gguf' }
    }

    function script:Get-Failure([scriptblock] $Action) {
        try { & $Action; $null } catch { $_ }
    }
}

AfterAll {
    $Server | Stop-TestServer
    Remove-Item $ServedRoot -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Hostile download servers' -Tag Network {
    It 'stops a body without length that never ends at the declared size, fails the task and keeps nothing' {
        $lib = Use-TestCatalog @(Entry endless "$($Server.Url)/endless/a" -Size 2097152 -Checksum $null)
        $err = Get-Failure { Start-ModelDownload endless -ErrorAction Stop }
        $err.FullyQualifiedErrorId | Should -Be 'InvalidModelFile,ModelLibrary.PowerShell.Downloads.StartModelDownloadCommand'
        $err.Exception.Message | Should -Match 'more than the 2\.0 MB .*declares'
        $task = Get-ModelDownload -ModelId endless
        $task.Status | Should -Be 'Failed'
        $task.DownloadedSize | Should -BeLessOrEqual 2097152
        Get-ChildItem (Join-Path $lib 'downloads') -Filter *.partial* | Should -BeNullOrEmpty
    }

    It 'says a 200 with a web page is a web page, keeps no partial and does not advise resuming' {
        $lib = Use-TestCatalog @(Entry gated "$($Server.Url)/files/stories260K.gguf?htmlOnGet=1")
        $err = Get-Failure { Start-ModelDownload gated -ErrorAction Stop }
        $err.Exception.Message | Should -Match 'web page \(text/html\)'
        $err.Exception.Message | Should -Not -Match 'started over|changed on the server'
        $err.ErrorDetails.RecommendedAction | Should -Not -Match 'Resume-ModelDownload'
        $err.ErrorDetails.RecommendedAction | Should -Match 'browser'
        Get-ChildItem (Join-Path $lib 'downloads') -Filter *.partial* | Should -BeNullOrEmpty
    }

    It 'says a redirect loop is a loop, not "HTTP 302", and does not advise resuming' {
        $lib = Use-TestCatalog @(Entry looping "$($Server.Url)/loop/a")
        $err = Get-Failure { Start-ModelDownload looping -ErrorAction Stop }
        $err.FullyQualifiedErrorId | Should -Be 'NetworkFailure,ModelLibrary.PowerShell.Downloads.StartModelDownloadCommand'
        $err.Exception.Message | Should -Match 'redirects in a loop'
        $err.Exception.Message | Should -Not -Match '302'
        $err.ErrorDetails.RecommendedAction | Should -Not -Match 'Resume-ModelDownload'
    }

    It 'refuses a GET redirected to plain http on another host though the HEAD answered directly' {
        $elsewhere = [uri]::EscapeDataString("http://files.invalid:$Port/files/stories260K.gguf")
        $lib = Use-TestCatalog @(Entry redirected "$($Server.Url)/redirect?getOnly=1&to=$elsewhere")
        $err = Get-Failure { Start-ModelDownload redirected -ErrorAction Stop }
        $err.FullyQualifiedErrorId | Should -Be 'InsecureSource,ModelLibrary.PowerShell.Downloads.StartModelDownloadCommand'
        $err.Exception.Message | Should -Match "redirected to plain http at 'files\.invalid'"
        (Get-LibraryModel redirected).LocalPath | Should -BeNullOrEmpty
    }

    It 'says in -Verbose which source, URL, connections, retries and waits' {
        $lib = Use-TestCatalog @(Entry flaky "$($Server.Url)/files/stories260K.gguf?status=503&failFirst=1")
        $verbose = Start-ModelDownload flaky -Verbose 4>&1 | Where-Object { $_ -is [Management.Automation.VerboseRecord] } | ForEach-Object Message
        $text = $verbose -join "`n"
        $text | Should -Match "from source 'test'"
        $text | Should -Match ([regex]::Escape("$($Server.Url)/files/stories260K.gguf"))
        $text | Should -Match 'connection'
        $text | Should -Match 'HTTP 503.*retry 1 of \d+ in [\d.]+ s'
        $task = Get-ModelDownload -ModelId flaky
        $task.Status | Should -Be 'Completed'
    }

    It 'puts the retries of a background download in its job''s verbose stream' {
        $lib = Use-TestCatalog @(Entry flaky-job "$($Server.Url)/files/stories260K.gguf?status=503&failFirst=2")
        $job = Start-ModelDownload flaky-job -AsJob
        $job | Wait-Job -Timeout 60 | Out-Null
        $verbose = $job.Verbose.Message -join "`n"   # before Receive-Job, which drains the streams
        $task = $job | Receive-Job
        $task.Status | Should -Be 'Completed'
        $task.Retries | Should -BeGreaterOrEqual 1
        $verbose | Should -Match 'HTTP 503.*retry \d of \d+ in [\d.]+ s'
        $job | Remove-Job -Force
    }
}

Describe 'Passwords in URLs' -Tag Network {
    It 'sends them as basic auth and shows or stores them nowhere' {
        $auth = [uri]::EscapeDataString([Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes('alice:Sup3rS3cret')))
        $url = $Server.Url -replace '^http://', 'http://alice:Sup3rS3cret@'
        $lib = Use-TestCatalog @(Entry private "$url/files/stories260K.gguf?basicAuth=$auth")
        (Get-LibraryModel private).DownloadUrl | Should -Not -Match 'Sup3rS3cret'
        (Get-LibraryModel private).DownloadUrl | Should -Match '://\*\*\*@127\.0\.0\.1'
        $task = Start-ModelDownload private
        $task.Status | Should -Be 'Completed'
        $task.Url | Should -Not -Match 'Sup3rS3cret'
        (Get-ModelDownload -ModelId private).Url | Should -Not -Match 'Sup3rS3cret'
        (Get-LibraryModel private).DownloadUrl | Should -Not -Match 'Sup3rS3cret'
        foreach ($file in Get-ChildItem $lib -Filter 'registry.db*') {
            [IO.File]::ReadAllText($file.FullName) | Should -Not -Match 'Sup3rS3cret'
        }
    }

    It 'masks them in the error message, ErrorInfo details and the task' {
        $url = $Server.Url -replace '^http://', 'http://alice:Sup3rS3cret@'
        $lib = Use-TestCatalog @(Entry missing "$url/files/stories260K.gguf?status=404")
        $err = Get-Failure { Start-ModelDownload missing -ErrorAction Stop }
        $err.Exception.Message | Should -Match '404'
        $err.Exception.Message | Should -Not -Match 'Sup3rS3cret'
        $err.Exception.ErrorInfo.Details['url'] | Should -Not -Match 'Sup3rS3cret'
        $task = Get-ModelDownload -ModelId missing
        "$($task.Url) $($task.ErrorMessage)" | Should -Not -Match 'Sup3rS3cret'
    }

    It 'refuses credentials over plain http to another host with a clear error' {
        $lib = Use-TestCatalog @(Entry leaky 'http://alice:Sup3rS3cret@models.invalid/model.gguf')
        $err = Get-Failure { Start-ModelDownload leaky -ErrorAction Stop }
        $err.FullyQualifiedErrorId | Should -Be 'InsecureSource,ModelLibrary.PowerShell.Downloads.StartModelDownloadCommand'
        $err.Exception.Message | Should -Match 'user name and password'
        $err.Exception.Message | Should -Not -Match 'Sup3rS3cret'
    }

    It 'creates registry.db and the library folders for this user only' -Skip:$IsWindows {
        $lib = Use-TestCatalog @(Entry stories "$($Server.Url)/files/stories260K.gguf")
        Start-ModelDownload stories | Out-Null
        (Get-Item (Join-Path $lib 'registry.db')).UnixMode | Should -Be '-rw-------'
        (Get-Item (Join-Path $lib 'downloads')).UnixMode | Should -Be 'drwx------'
        (Get-Item (Join-Path $lib 'llama-cpp')).UnixMode | Should -Be 'drwx------'
    }
}

Describe 'Hostile and slow catalogs' -Tag Network {
    It 'refuses a loopback catalog that redirects to plain http elsewhere, as registering that URL would be' {
        $lib = New-TestLibrary
        $elsewhere = [uri]::EscapeDataString("http://catalogs.invalid:$Port/catalog.json")
        { Register-ModelSource -Name direct -Uri "http://catalogs.invalid:$Port/catalog.json" -ErrorAction Stop } | Should -Throw -ErrorId 'InsecureSource*'
        Register-ModelSource -Name hop -Uri "$($Server.Url)/redirect?to=$elsewhere" -WarningVariable w -WarningAction SilentlyContinue | Out-Null
        ($w -join "`n") | Should -Match "redirected to plain http at 'catalogs\.invalid'"
        Get-LibraryModel -Source hop -WarningVariable w2 -WarningAction SilentlyContinue | Should -BeNullOrEmpty
        ($w2 -join "`n") | Should -Match "read model source 'hop'"
    }

    It 'stops reading an endless chunked catalog at 32 MB, at registration and at listing' {
        $lib = New-TestLibrary
        Register-ModelSource -Name endless -Uri "$($Server.Url)/endless-catalog.json" -WarningVariable w -WarningAction SilentlyContinue | Out-Null
        ($w -join "`n") | Should -Match 'more than 32 MB'
        Get-LibraryModel -Source endless -WarningVariable w2 -WarningAction SilentlyContinue | Should -BeNullOrEmpty
        ($w2 -join "`n") | Should -Match 'more than 32 MB'
    }

    It 'says Unregister-ModelSource builtin cannot be done, not that it cannot be registered' {
        $lib = New-TestLibrary
        $err = Get-Failure { Unregister-ModelSource builtin -Confirm:$false -ErrorAction Stop }
        $err.Exception.Message | Should -Match 'built-in catalog .* cannot be unregistered'
        $err.Exception.Message | Should -Not -Match 'Cannot register'
        $err.ErrorDetails.RecommendedAction | Should -Not -Match '-Uri'
    }

    It 'completes -Id at once and lists the other sources when one source does not answer; it warns once' {
        $lib = New-TestLibrary
        $catalog = Join-Path $lib 'good.json'
        @{ models = @(Entry good-model "$($Server.Url)/files/stories260K.gguf") } | ConvertTo-Json -Depth 6 | Set-Content $catalog
        Register-ModelSource -Name good -Uri $catalog | Out-Null
        Register-ModelSource -Name silent -Uri "$($Server.Url)/catalog.json?hangMs=120000" -WarningAction SilentlyContinue | Out-Null
        $script = @'
$sw = [Diagnostics.Stopwatch]::StartNew()
$completion = TabExpansion2 -inputScript 'Get-LibraryModel -Id good-' -cursorColumn 26
"COMPLETION {0:0.0} {1}" -f $sw.Elapsed.TotalSeconds, (($completion.CompletionMatches | ForEach-Object CompletionText) -join ',')
$sw.Restart()
$first = Get-LibraryModel -WarningVariable w1 -WarningAction SilentlyContinue
"FIRST {0:0.0} {1} {2} WARN {3}" -f $sw.Elapsed.TotalSeconds, $first.Count, [bool]($first | Where-Object Id -eq 'good-model'), $w1.Count
$sw.Restart()
$second = Get-LibraryModel -WarningVariable w2 -WarningAction SilentlyContinue
"SECOND {0:0.0} {1} WARN {2}" -f $sw.Elapsed.TotalSeconds, [bool]($second | Where-Object Id -eq 'good-model'), $w2.Count
"WARNINGS $($w1 -join ' | ')"
'@
        $result = Invoke-ChildPwsh -Script $script -Environment @{ MODELS_DIR = $lib }
        $lines = $result.Output -split "`n"
        $completion = $lines | Where-Object { $_ -like 'COMPLETION *' }
        $completion | Should -Match 'good-model'
        [double]($completion -split ' ')[1] | Should -BeLessThan 4
        $first = $lines | Where-Object { $_ -like 'FIRST *' }
        $first | Should -Match 'True WARN 1$'
        [double]($first -split ' ')[1] | Should -BeLessThan 12
        $second = $lines | Where-Object { $_ -like 'SECOND *' }
        $second | Should -Match 'True WARN 0$'
        [double]($second -split ' ')[1] | Should -BeLessThan 4
        ($lines | Where-Object { $_ -like 'WARNINGS *' }) | Should -Match "silent"
    }
}

Describe 'Get-LibraryModel -Verbose' -Tag Network {
    It 'says which sources were read, from where and how long it took' {
        $url = $Server.Url -replace '^http://', 'http://alice:Sup3rS3cret@'
        $lib = New-TestLibrary
        Register-ModelSource -Name remote -Uri "$url/catalog.json" | Out-Null
        $verbose = Get-LibraryModel -Verbose 4>&1 | Where-Object { $_ -is [Management.Automation.VerboseRecord] } | ForEach-Object Message
        $text = $verbose -join "`n"
        $text | Should -Match "Source 'builtin'"
        $text | Should -Match "Source 'remote' \(http://\*\*\*@127\.0\.0\.1:\d+/catalog\.json\): \d+ models \(\d+ ms\)"
        $text | Should -Not -Match 'Sup3rS3cret'
        (Get-ModelSource remote).Uri | Should -Match '^http://\*\*\*@127\.0\.0\.1'
    }
}
