//! Authenticode signing of the .exe and the MSI with osslsigncode.
//!
//! Signing is on when `ATCR_AUTHENTICODE_PKCS12` names a PKCS#12 file with
//! the code-signing certificate and its key. `ATCR_AUTHENTICODE_PASSWORD_FILE`
//! names a file holding its password (a file, so the password never appears
//! in a command line). `ATCR_AUTHENTICODE_TIMESTAMP_URL` adds an RFC 3161
//! timestamp from that server. Without these variables the artifacts are
//! left unsigned.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::process;

const PKCS12_VARIABLE: &str = "ATCR_AUTHENTICODE_PKCS12";
const PASSWORD_FILE_VARIABLE: &str = "ATCR_AUTHENTICODE_PASSWORD_FILE";
const TIMESTAMP_VARIABLE: &str = "ATCR_AUTHENTICODE_TIMESTAMP_URL";

/// A configured code-signing certificate.
#[derive(Debug, Clone)]
pub struct Signer {
    pub pkcs12: PathBuf,
    pub password_file: Option<PathBuf>,
    pub timestamp_url: Option<String>,
}

impl Signer {
    /// Reads the signing settings from the environment; `None` when signing is off.
    pub fn from_env() -> Result<Option<Signer>> {
        let Some(pkcs12) = std::env::var_os(PKCS12_VARIABLE).filter(|value| !value.is_empty())
        else {
            return Ok(None);
        };
        let pkcs12 = PathBuf::from(pkcs12);
        if !pkcs12.is_file() {
            bail!(
                "{PKCS12_VARIABLE} names {}, which does not exist: point it at the code-signing PKCS#12 file or unset it",
                pkcs12.display()
            );
        }
        let password_file = std::env::var_os(PASSWORD_FILE_VARIABLE)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from);
        if let Some(file) = &password_file
            && !file.is_file()
        {
            bail!(
                "{PASSWORD_FILE_VARIABLE} names {}, which does not exist",
                file.display()
            );
        }
        let timestamp_url = std::env::var(TIMESTAMP_VARIABLE)
            .ok()
            .filter(|value| !value.is_empty());
        Ok(Some(Signer {
            pkcs12,
            password_file,
            timestamp_url,
        }))
    }

    /// Signs `file` (an .exe or an .msi) and replaces it with the signed copy.
    pub fn sign_in_place(&self, file: &Path) -> Result<()> {
        let signed = with_suffix(file, ".signed");
        let _ = fs::remove_file(&signed);

        let mut command = Command::new("osslsigncode");
        command.arg("sign").arg("-pkcs12").arg(&self.pkcs12);
        if let Some(password_file) = &self.password_file {
            command.arg("-readpass").arg(password_file);
        }
        command.args([
            "-h",
            "sha256",
            "-n",
            "docker-credential-atcr",
            "-i",
            "https://github.com/atcr-io/docker-credential-atcr",
        ]);
        if let Some(url) = &self.timestamp_url {
            command.arg("-ts").arg(url);
        }
        command.arg("-in").arg(file).arg("-out").arg(&signed);
        process::output(&mut command)
            .with_context(|| format!("cannot sign {} with osslsigncode", file.display()))?;

        fs::rename(&signed, file)
            .with_context(|| format!("cannot replace {} with its signed copy", file.display()))?;
        eprintln!("signed {}", file.display());
        Ok(())
    }
}

/// Runs `osslsigncode verify` on `file` against the CA certificates in
/// `ca_file` and fails unless the signature verifies.
pub fn verify(file: &Path, ca_file: &Path) -> Result<()> {
    let output = process::output_unchecked(
        Command::new("osslsigncode")
            .arg("verify")
            .arg("-CAfile")
            .arg(ca_file)
            .arg("-in")
            .arg(file),
    )?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || !stdout.contains("Signature verification: ok") {
        bail!(
            "osslsigncode verify rejected {}:\n{}\n{}",
            file.display(),
            stdout.trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}
