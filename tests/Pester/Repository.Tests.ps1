# The repository stands alone: a clone with nothing beside it builds, tests and demos. No tracked file may read the
# design folder that sits beside the repository on the team's machines (its fixtures live in tests/fixtures).

BeforeAll {
    $script:repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:tracked = @(& git -C $repoRoot ls-files 2>$null)
}

Describe 'A clone of the repository stands alone' -Tag 'Repository' {
    It 'lists its tracked files (git is present in every clone)' {
        $tracked.Count | Should -BeGreaterThan 100
    }

    It 'has no tracked file that reads the folder beside the repository' {
        # Markdown may tell where a file came from; code, scripts and project files may not reach outside.
        $pattern = '\.\.[\\/]+shared|\.\.[\\/]+\.\.[\\/]+shared|"shared"\s*,\s*"fixtures"'
        $offenders = foreach ($file in $tracked) {
            if ($file -match '\.(md|txt)$') { continue }
            $path = Join-Path $repoRoot $file
            if (-not (Test-Path -LiteralPath $path -PathType Leaf)) { continue }
            if ((Get-Item -LiteralPath $path -Force).Length -gt 2MB) { continue }
            $hits = Select-String -LiteralPath $path -Pattern $pattern -ErrorAction SilentlyContinue
            foreach ($hit in $hits) { "${file}:$($hit.LineNumber): $($hit.Line.Trim())" }
        }
        $offenders | Should -BeNullOrEmpty
    }

    It 'carries the fixtures the tests read, with their provenance' {
        Join-Path $repoRoot 'tests/fixtures/MANIFEST.md' | Should -Exist
        Join-Path $repoRoot 'tests/fixtures/gguf/stories260K.gguf' | Should -Exist
        (Get-FileHash (Join-Path $repoRoot 'tests/fixtures/gguf/stories260K.gguf') -Algorithm SHA256).Hash |
            Should -Be '270CBA1BD5109F42D03350F60406024560464DB173C0E387D91F0426D3BD256D'
    }
}

Describe 'The repository explains its layout' -Tag 'Repository' {
    It 'names every Core folder in the README''s layout table' {
        $readme = Get-Content (Join-Path $repoRoot 'README.md') -Raw
        $row = ($readme -split "`n" | Where-Object { $_.StartsWith('| `src/ModelLibrary.Core`') } | Select-Object -First 1)
        $row | Should -Not -BeNullOrEmpty
        $folders = $tracked | Where-Object { $_ -match '^src/ModelLibrary\.Core/[^/]+/' } | ForEach-Object { ($_ -split '/')[2] } | Sort-Object -Unique
        $folders.Count | Should -BeGreaterThan 5
        $missing = $folders | Where-Object { $row -notmatch [regex]::Escape("``$_/``") }
        $missing | Should -BeNullOrEmpty
    }

    It 'has an .editorconfig that build.ps1 Test checks the C# code against' {
        Join-Path $repoRoot '.editorconfig' | Should -Exist
        Get-Content (Join-Path $repoRoot 'build.ps1') -Raw | Should -Match 'verify-no-changes'
    }
}
