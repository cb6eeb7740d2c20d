//! The Windows checks of `cargo pkg check DIR`, each on the artifacts in DIR.
//! They run after the Linux packaging checks and end with their own summary
//! line:
//!
//! * `wine`: the .exe from the x86_64 zip under wine (`version`,
//!   Credential Manager round trips, every protocol case);
//! * `msi`: the x86_64 MSI's UpgradeCode and version, then install,
//!   upgrade and uninstall under `wine msiexec` with MSIs that wixl builds
//!   from the same `wix/main.wxs`;
//! * `windows-manifests`: the rendered winget, Scoop and Chocolatey files
//!   against the official schemas, and every hash in them against the
//!   SHA-256 of the artifact it names;
//! * `authenticode`: signing the .exe and the MSI with a certificate the
//!   check makes, and `osslsigncode verify`.

mod protocol_cases;
mod wine_helper;
mod wine_msi;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, ensure};

use crate::check::{Check, run_checks};
use crate::names::CHECKSUMS;
use crate::project::Project;
use crate::windows::{self, TEST_TARGET};
use crate::{checksums, msi, process, sign, windows_manifests};

/// Runs every Windows check on the artifacts in `dir`, even after one
/// fails, and fails when any of them did.
pub fn run(project: &Project, dir: &Path) -> Result<()> {
    let checks: [(&str, Check); 4] = [
        ("wine", check_wine),
        ("msi", check_msi),
        ("windows-manifests", check_manifests),
        ("authenticode", check_authenticode),
    ];
    run_checks("windows", project, dir, &checks)
}

/// Extracts `docker-credential-atcr.exe` from DIR's x86_64 zip into a
/// temporary folder, after checking the zip's hash against checksums.txt.
fn exe_from_zip(project: &Project, dir: &Path) -> Result<(tempfile::TempDir, PathBuf)> {
    let zip_path = verified_artifact(dir, &windows::zip_name(&project.version, &TEST_TARGET))?;
    let mut archive = zip::ZipArchive::new(fs::File::open(&zip_path)?)
        .with_context(|| format!("{} is not a zip file", zip_path.display()))?;
    let mut entry = archive
        .by_name("docker-credential-atcr.exe")
        .with_context(|| {
            format!(
                "{} has no docker-credential-atcr.exe at its root",
                zip_path.display()
            )
        })?;
    let mut data = Vec::new();
    entry.read_to_end(&mut data)?;
    let folder = tempfile::Builder::new().prefix("windows-exe-").tempdir()?;
    let exe = folder.path().join("docker-credential-atcr.exe");
    fs::write(&exe, data)?;
    Ok((folder, exe))
}

/// Returns DIR/name after checking that its SHA-256 equals checksums.txt's line for it.
fn verified_artifact(dir: &Path, name: &str) -> Result<PathBuf> {
    let listed = read_checksums(dir)?;
    let path = dir.join(name);
    let expected = listed.get(name).with_context(|| {
        format!(
            "{} does not list {name}: run `cargo pkg snapshot`",
            dir.join(CHECKSUMS).display()
        )
    })?;
    let actual = checksums::sha256_file(&path)?;
    ensure!(
        &actual == expected,
        "{} has SHA-256 {actual}, but checksums.txt lists {expected}",
        path.display()
    );
    Ok(path)
}

fn read_checksums(dir: &Path) -> Result<BTreeMap<String, String>> {
    let path = dir.join(CHECKSUMS);
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    checksums::parse(&path, &text)
}

/// `wine`: the zip's .exe under wine.
fn check_wine(project: &Project, dir: &Path) -> Result<()> {
    let (_folder, exe) = exe_from_zip(project, dir)?;
    let prefix = windows::wine_prefix(project)?;
    let helper = wine_helper::WineHelper::new(&prefix, &exe)?;
    wine_helper::check_version(&helper, &project.version)?;
    wine_helper::check_credential_manager_round_trip(&helper)?;
    wine_helper::check_protocol_cases(
        &helper,
        &project.root.join("tests/data/protocol-cases.json"),
    )
}

/// `msi`: the released MSI's properties, the RTF licence, then the
/// install, upgrade and uninstall check.
fn check_msi(project: &Project, dir: &Path) -> Result<()> {
    let upgrade_code = windows_manifests::committed_upgrade_code(&project.root)?;
    check_metadata_upgrade_guid(project, &upgrade_code)?;
    check_license_rtf(project)?;

    let msi_path = verified_artifact(dir, &windows::msi_name(&project.version, &TEST_TARGET))?;
    let properties = msi::properties(&msi_path)?;
    let found = properties
        .get("UpgradeCode")
        .map(String::as_str)
        .unwrap_or("");
    ensure!(
        found
            .trim_matches(['{', '}'])
            .eq_ignore_ascii_case(&upgrade_code),
        "msiinfo reads UpgradeCode {found:?} from {}, but wix/main.wxs commits {upgrade_code}",
        msi_path.display()
    );
    let directories = msi::export_table(&msi_path, "Directory")?;
    ensure!(
        directories.contains("ProgramFiles64Folder"),
        "{} does not install under Program Files (no ProgramFiles64Folder)",
        msi_path.display()
    );
    let environment = msi::export_table(&msi_path, "Environment")?;
    ensure!(
        environment.contains("=-*PATH\t[~];[Bin]"),
        "{} has no Environment row appending its bin folder to the system PATH:\n{environment}",
        msi_path.display()
    );

    let (folder, _exe) = exe_from_zip(project, dir)?;
    let prefix = windows::wine_prefix(project)?;
    wine_msi::check_msi_lifecycle(
        &prefix,
        &project.root,
        folder.path(),
        &project.version,
        &upgrade_code,
    )
}

/// Cargo.toml's `[package.metadata.wix] upgrade-guid` must repeat the committed UpgradeCode.
fn check_metadata_upgrade_guid(project: &Project, upgrade_code: &str) -> Result<()> {
    let manifest = fs::read_to_string(project.root.join("Cargo.toml"))?;
    let value = manifest
        .lines()
        .skip_while(|line| line.trim() != "[package.metadata.wix]")
        .skip(1)
        .take_while(|line| !line.trim_start().starts_with('['))
        .find_map(|line| {
            line.trim().strip_prefix("upgrade-guid").map(|rest| {
                rest.trim_start_matches([' ', '='])
                    .trim()
                    .trim_matches('"')
                    .to_owned()
            })
        })
        .context("Cargo.toml has no upgrade-guid in [package.metadata.wix]")?;
    ensure!(
        value.eq_ignore_ascii_case(upgrade_code),
        "Cargo.toml's [package.metadata.wix] upgrade-guid is {value}, but wix/main.wxs commits {upgrade_code}: they must be equal and never change"
    );
    Ok(())
}

/// `wix/License.rtf` must say what LICENSE says, word for word.
fn check_license_rtf(project: &Project) -> Result<()> {
    let rtf = fs::read_to_string(project.root.join("wix/License.rtf"))
        .context("cannot read wix/License.rtf")?;
    let license =
        fs::read_to_string(project.root.join("LICENSE")).context("cannot read LICENSE")?;
    let words = |text: &str| {
        text.split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    ensure!(
        words(&rtf_text(&rtf)) == words(&license),
        "wix/License.rtf no longer matches LICENSE: regenerate it from LICENSE"
    );
    Ok(())
}

/// Extracts the plain text of a simple RTF document, without control words or the font table.
fn rtf_text(rtf: &str) -> String {
    let mut text = String::new();
    let mut depth = 0;
    let mut chars = rtf.chars().peekable();
    let mut skip_group_at = None;
    while let Some(c) = chars.next() {
        match c {
            '{' => depth += 1,
            '}' => {
                if skip_group_at == Some(depth) {
                    skip_group_at = None;
                }
                depth -= 1;
            }
            '\\' => match chars.peek().copied() {
                Some(escaped @ ('\\' | '{' | '}')) => {
                    chars.next();
                    text.push(escaped);
                }
                _ => {
                    let mut word = String::new();
                    while let Some(&next) = chars.peek() {
                        if next.is_ascii_alphanumeric() || next == '-' {
                            word.push(next);
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    if chars.peek() == Some(&' ') {
                        chars.next();
                    }
                    if word == "fonttbl" {
                        skip_group_at = Some(depth);
                    }
                    if word == "par" {
                        text.push('\n');
                    }
                }
            },
            '\r' | '\n' => {}
            other if skip_group_at.is_none() => text.push(other),
            _ => {}
        }
    }
    text
}

/// `windows-manifests`: renders the manifests from DIR and validates them.
fn check_manifests(project: &Project, dir: &Path) -> Result<()> {
    let out = tempfile::Builder::new()
        .prefix("windows-manifests-")
        .tempdir()?;
    let date = crate::project::civil_date(project.source_date_epoch);
    let files =
        windows_manifests::render_all(&project.root, &project.version, &date, dir, out.path())?;

    validate_schemas(project, out.path())?;
    let verified = check_hashes(dir, out.path())?;

    let mut unverified = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap_or_default();
        for token in hex_tokens(&text) {
            if !verified.contains(&token.to_lowercase()) {
                unverified.push(format!("{}: {token}", file.display()));
            }
        }
    }
    ensure!(
        unverified.is_empty(),
        "these hashes in the manifests name no artifact the check could compare:\n{}",
        unverified.join("\n")
    );

    let license = fs::read(project.root.join("LICENSE"))?;
    ensure!(
        fs::read(out.path().join("chocolatey/tools/LICENSE.txt"))? == license,
        "chocolatey/tools/LICENSE.txt differs from LICENSE"
    );
    Ok(())
}

fn check_jsonschema(project: &Project) -> Result<PathBuf> {
    // scripts/install-windows-deps.sh creates the virtual environment in the workspace's target/.
    for venv in [
        project.root.join("target/windows-venv"),
        project.target_dir.join("windows-venv"),
    ] {
        let program = venv.join("bin/check-jsonschema");
        if program.is_file() {
            return Ok(program);
        }
    }
    process::require_program(
        "check-jsonschema",
        "scripts/install-windows-deps.sh installs it in target/windows-venv",
    )?;
    Ok(PathBuf::from("check-jsonschema"))
}

fn validate_schemas(project: &Project, out: &Path) -> Result<()> {
    let schemas = project.root.join("pkg/schemas");
    let check_jsonschema = check_jsonschema(project)?;
    let id = windows_manifests::WINGET_ID;
    let pairs = [
        (
            format!("winget/{id}.yaml"),
            "winget/v1.12.0/manifest.version.1.12.0.json",
        ),
        (
            format!("winget/{id}.locale.en-US.yaml"),
            "winget/v1.12.0/manifest.defaultLocale.1.12.0.json",
        ),
        (
            format!("winget/{id}.installer.yaml"),
            "winget/v1.12.0/manifest.installer.1.12.0.json",
        ),
        (
            "scoop/docker-credential-atcr.json".to_owned(),
            "scoop/schema.json",
        ),
    ];
    for (manifest, schema) in pairs {
        process::output(
            Command::new(&check_jsonschema)
                .arg("--schemafile")
                .arg(schemas.join(schema))
                .arg(out.join(&manifest)),
        )
        .with_context(|| format!("{manifest} does not validate against pkg/schemas/{schema}"))?;
    }

    let nuspec = out.join("chocolatey/docker-credential-atcr.nuspec");
    let namespace = roxmltree::Document::parse(&fs::read_to_string(&nuspec)?)?
        .root_element()
        .tag_name()
        .namespace()
        .unwrap_or_default()
        .to_owned();
    ensure!(
        !namespace.is_empty(),
        "{} declares no XML namespace",
        nuspec.display()
    );
    let xsd = fs::read_to_string(schemas.join("chocolatey/nuspec.xsd"))?.replace("{0}", &namespace);
    let xsd_copy = out.join("nuspec.xsd");
    fs::write(&xsd_copy, xsd)?;
    process::output(
        Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&xsd_copy)
            .arg(&nuspec),
    )
    .context("the nuspec does not validate against pkg/schemas/chocolatey/nuspec.xsd")?;
    Ok(())
}

/// Compares every (artifact, hash) pair the manifests state with the
/// artifact's SHA-256 and with checksums.txt. Returns the verified hashes.
fn check_hashes(dir: &Path, out: &Path) -> Result<BTreeSet<String>> {
    let listed = read_checksums(dir)?;
    let mut pairs: Vec<(String, String, String)> = Vec::new();

    let installer = fs::read_to_string(out.join(format!(
        "winget/{}.installer.yaml",
        windows_manifests::WINGET_ID
    )))?;
    let mut url = None;
    for line in installer.lines() {
        if let Some(value) = yaml_value(line, "InstallerUrl") {
            url = Some(value);
        } else if let Some(hash) = yaml_value(line, "InstallerSha256") {
            let url = url.take().context(
                "winget installer manifest: InstallerSha256 without an InstallerUrl before it",
            )?;
            pairs.push((
                "winget installer".into(),
                windows_manifests::artifact_name_of(&url)?,
                hash,
            ));
        }
    }

    let scoop: serde_json::Value = serde_json::from_str(&fs::read_to_string(
        out.join("scoop/docker-credential-atcr.json"),
    )?)?;
    for (architecture, entry) in scoop["architecture"]
        .as_object()
        .context("the Scoop manifest has no architecture object")?
    {
        let url = entry["url"]
            .as_str()
            .with_context(|| format!("Scoop architecture {architecture} has no url"))?;
        let hash = entry["hash"]
            .as_str()
            .with_context(|| format!("Scoop architecture {architecture} has no hash"))?;
        pairs.push((
            format!("Scoop {architecture}"),
            windows_manifests::artifact_name_of(url)?,
            hash.to_owned(),
        ));
    }

    let install = fs::read_to_string(out.join("chocolatey/tools/chocolateyinstall.ps1"))?;
    let url = ps1_value(&install, "url64bit").context("chocolateyinstall.ps1 has no url64bit")?;
    let hash =
        ps1_value(&install, "checksum64").context("chocolateyinstall.ps1 has no checksum64")?;
    ensure!(
        ps1_value(&install, "checksumType64").as_deref() == Some("sha256"),
        "chocolateyinstall.ps1 must set checksumType64 = 'sha256'"
    );
    pairs.push((
        "chocolateyinstall.ps1".into(),
        windows_manifests::artifact_name_of(&url)?,
        hash,
    ));

    let verification = fs::read_to_string(out.join("chocolatey/tools/VERIFICATION.txt"))?;
    let file = verification
        .lines()
        .find_map(|line| line.trim().strip_prefix("file:"))
        .context("VERIFICATION.txt names no file")?
        .trim()
        .to_owned();
    let hash = verification
        .lines()
        .find_map(|line| line.trim().strip_prefix("sha256:"))
        .context("VERIFICATION.txt states no sha256")?
        .trim()
        .to_owned();
    pairs.push(("VERIFICATION.txt".into(), file, hash));

    let mut verified = BTreeSet::new();
    for (manifest, name, hash) in pairs {
        let listed_hash = listed.get(&name).with_context(|| {
            format!("{manifest} names {name}, which checksums.txt does not list")
        })?;
        let actual = checksums::sha256_file(&dir.join(&name)).with_context(|| {
            format!("{manifest} names {name}, which is not in {}", dir.display())
        })?;
        ensure!(
            hash.eq_ignore_ascii_case(&actual),
            "{manifest} states SHA-256 {hash} for {name}, but the file's SHA-256 is {actual}"
        );
        ensure!(
            listed_hash.eq_ignore_ascii_case(&actual),
            "checksums.txt states {listed_hash} for {name}, but the file's SHA-256 is {actual}"
        );
        verified.insert(actual.to_lowercase());
    }
    Ok(verified)
}

fn yaml_value(line: &str, key: &str) -> Option<String> {
    let rest = line
        .trim_start()
        .trim_start_matches("- ")
        .strip_prefix(key)?
        .strip_prefix(':')?;
    Some(rest.trim().trim_matches(['\'', '"']).to_owned())
}

fn ps1_value(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line
            .trim()
            .strip_prefix(key)?
            .trim_start()
            .strip_prefix('=')?;
        Some(rest.trim().trim_matches('\'').to_owned())
    })
}

/// Finds every run of exactly 64 hex digits in `text`.
fn hex_tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_hexdigit())
        .filter(|token| token.len() == 64)
        .map(str::to_owned)
        .collect()
}

/// `authenticode`: signs copies of the .exe and the MSI with a throwaway
/// certificate from a throwaway CA, verifies them, and checks that a
/// tampered file and a foreign CA are rejected.
fn check_authenticode(project: &Project, dir: &Path) -> Result<()> {
    let work = tempfile::Builder::new().prefix("authenticode-").tempdir()?;
    let certificate = make_test_certificate(work.path())?;
    let signer = sign::Signer {
        pkcs12: certificate.pkcs12.clone(),
        password_file: Some(certificate.password_file.clone()),
        timestamp_url: None,
    };

    let (_folder, exe) = exe_from_zip(project, dir)?;
    let msi = verified_artifact(dir, &windows::msi_name(&project.version, &TEST_TARGET))?;
    for source in [exe, msi] {
        let copy = work
            .path()
            .join(source.file_name().context("artifact without a name")?);
        fs::copy(&source, &copy)?;
        signer.sign_in_place(&copy)?;
        sign::verify(&copy, &certificate.ca)?;

        ensure!(
            sign::verify(&copy, &certificate.foreign_ca).is_err(),
            "osslsigncode verify accepted {} against an unrelated CA",
            copy.display()
        );
        let mut tampered = fs::read(&copy)?;
        let middle = tampered.len() / 2;
        tampered[middle] ^= 0xff;
        let tampered_path = work.path().join(format!(
            "tampered-{}",
            copy.file_name().unwrap_or_default().to_string_lossy()
        ));
        fs::write(&tampered_path, tampered)?;
        ensure!(
            sign::verify(&tampered_path, &certificate.ca).is_err(),
            "osslsigncode verify accepted a tampered copy of {}",
            copy.display()
        );
    }
    Ok(())
}

struct TestCertificate {
    ca: PathBuf,
    foreign_ca: PathBuf,
    pkcs12: PathBuf,
    password_file: PathBuf,
}

fn make_test_certificate(dir: &Path) -> Result<TestCertificate> {
    let openssl = |args: &[&str]| {
        process::output(Command::new("openssl").current_dir(dir).args(args)).map(drop)
    };
    for name in ["ca", "foreign-ca"] {
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-subj",
            &format!("/CN=docker-credential-atcr test {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ])?;
    }
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "signer.key",
        "-out",
        "signer.csr",
        "-subj",
        "/CN=docker-credential-atcr test signer",
    ])?;
    fs::write(
        dir.join("signer.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n",
    )?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        "signer.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "signer.ext",
        "-out",
        "signer.pem",
    ])?;
    fs::write(dir.join("password"), "test-only-password\n")?;
    openssl(&[
        "pkcs12",
        "-export",
        "-inkey",
        "signer.key",
        "-in",
        "signer.pem",
        "-certfile",
        "ca.pem",
        "-passout",
        "file:password",
        "-out",
        "signer.p12",
    ])?;
    Ok(TestCertificate {
        ca: dir.join("ca.pem"),
        foreign_ca: dir.join("foreign-ca.pem"),
        pkcs12: dir.join("signer.p12"),
        password_file: dir.join("password"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtf_text_drops_control_words() {
        let rtf =
            "{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}\\pard MIT License\\par\nA \\{b\\} c\\par\n}";
        assert_eq!(rtf_text(rtf), "MIT License\nA {b} c\n");
    }

    #[test]
    fn committed_rtf_matches_license() {
        let rtf = rtf_text(include_str!("../../../wix/License.rtf"));
        let license = include_str!("../../../LICENSE");
        assert_eq!(
            rtf.split_whitespace().collect::<Vec<_>>(),
            license.split_whitespace().collect::<Vec<_>>()
        );
    }

    #[test]
    fn manifest_values_parse() {
        assert_eq!(
            yaml_value("  InstallerSha256: ABC", "InstallerSha256").as_deref(),
            Some("ABC")
        );
        assert_eq!(
            yaml_value("- Architecture: x64", "Architecture").as_deref(),
            Some("x64")
        );
        assert_eq!(
            ps1_value("  checksum64     = 'abc'", "checksum64").as_deref(),
            Some("abc")
        );
        assert_eq!(ps1_value("  checksumType64 = 'sha256'", "checksum64"), None);
    }

    #[test]
    fn hex_tokens_are_exactly_64_digits() {
        let hash = "ab".repeat(32);
        assert_eq!(
            hex_tokens(&format!("x {hash} y")),
            std::slice::from_ref(&hash)
        );
        assert!(hex_tokens(&format!("{hash}0")).is_empty());
    }
}
