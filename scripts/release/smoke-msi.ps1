# Installs the MSI from Dist with msiexec, runs `docker-credential-atcr
# version` by name through the PATH that the MSI set, uninstalls it, and
# checks that the helper is gone. The release workflow runs it on each
# Windows runner for the MSI of that runner's CPU.
param(
    [Parameter(Mandatory)] [string] $Dist,
    [Parameter(Mandatory)] [string] $Version
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$msi = @(Get-ChildItem -Path $Dist -Filter 'docker-credential-atcr-*.msi')
if ($msi.Count -ne 1) { throw "expected one docker-credential-atcr-<version>-<arch>.msi in $Dist, found $($msi.Count)" }
$msiPath = $msi[0].FullName
$log = Join-Path $env:RUNNER_TEMP 'msi-install.log'

function Invoke-Msiexec([string[]] $Arguments) {
    $process = Start-Process -FilePath msiexec.exe -ArgumentList $Arguments -Wait -PassThru
    if ($process.ExitCode -ne 0) {
        if (Test-Path $log) { Get-Content $log -Tail 50 }
        throw "msiexec $($Arguments -join ' ') exited with $($process.ExitCode)"
    }
}

# A new shell would read PATH from the registry; this one reads it by hand.
function Update-SessionPath {
    $env:Path = [Environment]::GetEnvironmentVariable('Path', 'Machine') + ';' + [Environment]::GetEnvironmentVariable('Path', 'User')
}

Invoke-Msiexec @('/i', "`"$msiPath`"", '/qn', '/norestart', '/l*v', "`"$log`"")
Update-SessionPath
$command = Get-Command docker-credential-atcr -ErrorAction SilentlyContinue
if (-not $command) { throw "docker-credential-atcr is not on PATH after installing $msiPath" }
$output = & docker-credential-atcr version
if ($LASTEXITCODE -ne 0) { throw "docker-credential-atcr version exited with $LASTEXITCODE" }
if ($output -notmatch [regex]::Escape("docker-credential-atcr $Version")) { throw "docker-credential-atcr version printed '$output', expected version $Version" }
Write-Host "smoke-msi.ps1: $($command.Source) printed: $output"

Invoke-Msiexec @('/x', "`"$msiPath`"", '/qn', '/norestart', '/l*v', "`"$log`"")
Update-SessionPath
if (Get-Command docker-credential-atcr -ErrorAction SilentlyContinue) { throw "docker-credential-atcr is still on PATH after uninstalling $msiPath" }
if (Test-Path $command.Source) { throw "$($command.Source) is still there after uninstalling $msiPath" }
Write-Host "smoke-msi.ps1: installed, ran and uninstalled $msiPath"
