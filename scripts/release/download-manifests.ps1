# Downloads the manifests that the draft job rendered from the published
# release Tag and unpacks them into .\manifests. Needs the GitHub CLI with
# GH_TOKEN set. The PowerShell twin of download-manifests.sh.
param(
    [Parameter(Mandatory)] [string] $Tag,
    [Parameter(Mandatory)] [string] $Version
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$asset = "docker-credential-atcr_${Version}_manifests.tar.gz"
gh release download $Tag --repo $env:GITHUB_REPOSITORY --pattern $asset --dir .
if ($LASTEXITCODE -ne 0) { throw "gh release download $Tag --pattern $asset exited with $LASTEXITCODE" }
New-Item -ItemType Directory -Force -Path manifests | Out-Null
tar -xzf $asset -C manifests
if ($LASTEXITCODE -ne 0) { throw "tar could not unpack $asset" }
Write-Host "download-manifests.ps1: unpacked $asset into manifests\"
