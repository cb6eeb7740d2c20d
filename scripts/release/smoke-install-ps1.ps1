# Runs install.ps1 against the zip in Dist served on 127.0.0.1, in GitHub's
# release layout, with INSTALL_DIR in a temporary directory, and checks that
# the installed helper runs by name.
param([Parameter(Mandatory)] [string] $Dist)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$root = Resolve-Path (Join-Path $PSScriptRoot '..\..')
$site = Join-Path $env:RUNNER_TEMP 'install-ps1-site'
$download = Join-Path $site 'latest\download'
New-Item -ItemType Directory -Force -Path $download | Out-Null
$zips = @(Get-ChildItem -Path $Dist -Filter 'docker-credential-atcr_*_Windows_*.zip')
if ($zips.Count -eq 0) { throw "$Dist holds no docker-credential-atcr_<version>_Windows_<arch>.zip" }
$lines = foreach ($zip in $zips) {
    Copy-Item $zip.FullName $download
    '{0}  {1}' -f (Get-FileHash -Algorithm SHA256 $zip.FullName).Hash.ToLowerInvariant(), $zip.Name
}
Set-Content -Path (Join-Path $download 'checksums.txt') -Value ($lines -join "`n") -NoNewline

$listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
$listener.Start()
$port = $listener.LocalEndpoint.Port
$listener.Stop()
$server = Start-Process -FilePath python -ArgumentList @('-m', 'http.server', $port, '--bind', '127.0.0.1', '--directory', $site) -PassThru -NoNewWindow
try {
    $ready = $false
    foreach ($attempt in 1..50) {
        try { Invoke-WebRequest -UseBasicParsing "http://127.0.0.1:$port/latest/download/checksums.txt" | Out-Null; $ready = $true; break } catch { Start-Sleep -Milliseconds 200 }
    }
    if (-not $ready) { throw "the server on 127.0.0.1:$port did not start" }

    $env:ATCR_RELEASE_BASE_URL = "http://127.0.0.1:$port"
    $env:INSTALL_DIR = Join-Path $env:RUNNER_TEMP 'install-ps1-bin'
    & pwsh -NoProfile -File (Join-Path $root 'install.ps1')
    if ($LASTEXITCODE -ne 0) { throw "install.ps1 exited with $LASTEXITCODE" }
    & (Join-Path $env:INSTALL_DIR 'docker-credential-atcr.exe') version
    if ($LASTEXITCODE -ne 0) { throw "the installed helper exited with $LASTEXITCODE" }
    Write-Host "smoke-install-ps1.ps1: install.ps1 installed and ran the helper from $Dist"
} finally {
    Stop-Process -Id $server.Id -ErrorAction SilentlyContinue
}
