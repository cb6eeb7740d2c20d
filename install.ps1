# Installs docker-credential-atcr from a GitHub release on Windows.
#
#   irm https://github.com/atcr-io/docker-credential-atcr/releases/latest/download/install.ps1 | iex
#
# The script downloads the release zip for this CPU, checks its SHA-256
# against the release's checksums.txt, installs the .exe into INSTALL_DIR,
# adds INSTALL_DIR to the user's PATH and runs `docker-credential-atcr version`.
#
# Environment variables:
#   INSTALL_DIR            where the .exe goes
#                          (default: %LOCALAPPDATA%\Programs\docker-credential-atcr)
#   ATCR_VERSION           the release to install, such as 1.2.0 or v1.2.0
#                          (default: the newest release)
#   ATCR_RELEASE_BASE_URL  the releases URL, laid out as GitHub releases:
#                          <base>/latest/download/<file> and
#                          <base>/download/v<version>/<file>
#                          (default: https://github.com/atcr-io/docker-credential-atcr/releases);
#                          https only, except http for 127.0.0.1, localhost and [::1]

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Package = 'docker-credential-atcr'

function Fail([string] $Message) {
    Write-Error "install.ps1: error: $Message" -ErrorAction Continue
    exit 1
}

# The CPU as release archive names spell it. A 32-bit PowerShell on a 64-bit
# Windows reports the real CPU in PROCESSOR_ARCHITEW6432.
$cpu = if ($env:PROCESSOR_ARCHITEW6432) { $env:PROCESSOR_ARCHITEW6432 } else { $env:PROCESSOR_ARCHITECTURE }
switch ($cpu) {
    'AMD64' { $arch = 'x86_64' }
    'ARM64' { $arch = 'arm64' }
    default { Fail "unsupported CPU architecture '$cpu': releases are built for x86_64 (AMD64) and arm64 only; build from source with 'cargo install --locked docker-credential-atcr'" }
}

$baseUrl = if ($env:ATCR_RELEASE_BASE_URL) { $env:ATCR_RELEASE_BASE_URL.TrimEnd('/') } else { 'https://github.com/atcr-io/docker-credential-atcr/releases' }
# Plain http is accepted only for a server on this machine, as the helper's
# `update` command accepts it; everything else must use https.
if ($baseUrl -notmatch '^https://' -and $baseUrl -notmatch '^http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$)') {
    Fail "invalid ATCR_RELEASE_BASE_URL '$baseUrl': expected an https:// URL (http:// is accepted only for 127.0.0.1, localhost and [::1])"
}
$installDir = if ($env:INSTALL_DIR) { $env:INSTALL_DIR } else { Join-Path $env:LOCALAPPDATA "Programs\$Package" }

if ($env:ATCR_VERSION) {
    $version = $env:ATCR_VERSION -replace '^v', ''
    if ($version -notmatch '^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$') {
        Fail "invalid ATCR_VERSION '$($env:ATCR_VERSION)': expected MAJOR.MINOR.PATCH such as 1.2.0, optionally with a -PRERELEASE suffix"
    }
    $releaseUrl = "$baseUrl/download/v$version"
} else {
    $version = $null
    $releaseUrl = "$baseUrl/latest/download"
}

$work = Join-Path ([IO.Path]::GetTempPath()) ("$Package-" + [Guid]::NewGuid())
New-Item -ItemType Directory -Path $work | Out-Null
try {
    $checksumsUrl = "$releaseUrl/checksums.txt"
    Write-Host "install.ps1: downloading $checksumsUrl"
    try {
        $checksumsText = (Invoke-WebRequest -UseBasicParsing -Uri $checksumsUrl).Content
    } catch {
        Fail "cannot download ${checksumsUrl}: $($_.Exception.Message); check ATCR_VERSION and ATCR_RELEASE_BASE_URL"
    }
    if ($checksumsText -is [byte[]]) { $checksumsText = [Text.Encoding]::UTF8.GetString($checksumsText) }

    # checksums.txt lines are `<sha256>  <file>`, or `<sha256> *<file>`.
    $listed = @{}
    foreach ($line in $checksumsText -split "`r?`n") {
        if ($line -match '^([0-9a-f]{64}) [ *](.+)$') { $listed[$Matches[2]] = $Matches[1] }
    }

    $suffix = "_Windows_$arch.zip"
    if ($version) {
        $zip = "${Package}_$version$suffix"
        if (-not $listed.ContainsKey($zip)) { Fail "$checksumsUrl does not list ${zip}: release v$version has no binary for Windows $arch" }
    } else {
        $candidates = @($listed.Keys | Where-Object { $_.StartsWith("${Package}_") -and $_.EndsWith($suffix) })
        if ($candidates.Count -eq 0) { Fail "$checksumsUrl lists no archive for Windows $arch (expected a name like ${Package}_<version>$suffix)" }
        if ($candidates.Count -gt 1) { Fail "$checksumsUrl lists several archives for Windows ${arch}: set ATCR_VERSION to choose one" }
        $zip = $candidates[0]
    }
    $expected = $listed[$zip]

    $zipPath = Join-Path $work $zip
    Write-Host "install.ps1: downloading $releaseUrl/$zip"
    try {
        Invoke-WebRequest -UseBasicParsing -Uri "$releaseUrl/$zip" -OutFile $zipPath
    } catch {
        Fail "cannot download $releaseUrl/${zip}: $($_.Exception.Message)"
    }

    $actual = (Get-FileHash -Algorithm SHA256 -Path $zipPath).Hash.ToLowerInvariant()
    if ($actual -ne $expected) {
        Fail "checksum mismatch for ${zip}: $checksumsUrl lists $expected, the download has $actual; nothing was installed. Download it again, and report it if the mismatch persists"
    }
    Write-Host "install.ps1: verified the SHA-256 of $zip"

    $unpacked = Join-Path $work 'unpacked'
    Expand-Archive -Path $zipPath -DestinationPath $unpacked
    $exe = Join-Path $unpacked "$Package.exe"
    if (-not (Test-Path -PathType Leaf $exe)) { Fail "$zip contains no $Package.exe at its top level" }

    New-Item -ItemType Directory -Force -Path $installDir | Out-Null
    $target = Join-Path $installDir "$Package.exe"
    $staged = "$target.new"
    Copy-Item -Force -Path $exe -Destination $staged
    Move-Item -Force -Path $staged -Destination $target
    Write-Host "install.ps1: installed $target"
} finally {
    Remove-Item -Recurse -Force -Path $work -ErrorAction SilentlyContinue
}

# Add INSTALL_DIR to the user's PATH for new shells, and to this session's.
$userPath = [Environment]::GetEnvironmentVariable('Path', 'User')
$entries = @(if ($userPath) { $userPath -split ';' | Where-Object { $_ } })
if ($entries -notcontains $installDir) {
    [Environment]::SetEnvironmentVariable('Path', (@($entries) + $installDir) -join ';', 'User')
    Write-Host "install.ps1: added $installDir to your PATH; open a new terminal for other programs to see it"
}
if (($env:Path -split ';') -notcontains $installDir) { $env:Path = "$env:Path;$installDir" }

& $Package version
if ($LASTEXITCODE -ne 0) { Fail "$target was installed but does not run: check that the zip matches this Windows $arch machine" }
Write-Host "install.ps1: next: run '$Package configure-docker' to make Docker use the helper for atcr.io"
