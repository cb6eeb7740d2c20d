//! The Windows Installer package, built from `wix/main.wxs` and nothing else.
//!
//! On the release workflow's Windows runners cargo-wix (WiX Toolset 3)
//! compiles `main.wxs` as it is. On Linux, wixl 0.101 from msitools builds
//! the MSI that `cargo pkg check` installs under wine, but it cannot compile
//! everything WiX can. This module parses `main.wxs`, removes the elements
//! wixl lacks, runs wixl, and then adds the same rows WiX would have
//! written with `msibuild`:
//!
//! * `<Environment>` becomes an `Environment` table row plus the
//!   `WriteEnvironmentStrings` and `RemoveEnvironmentStrings` actions;
//! * `<SetProperty>` becomes a type 51 custom action, sequenced after the
//!   action it names;
//! * `<MajorUpgrade AllowSameVersionUpgrades='yes'>` sets
//!   `msidbUpgradeAttributesVersionMaxInclusive` on the upgrade row, and
//!   `Schedule='afterInstallInitialize'` moves `RemoveExistingProducts`.
//!
//! The WixUI dialogs (`<UI>`, `<WixVariable>`) have no wixl equivalent and
//! are left out. The checks install with `/qn`, which shows no dialog anyway.
//! An element this module does not know makes wixl fail loudly, so a
//! `main.wxs` change cannot silently drop out of the Linux build.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};

use crate::process;

/// The WiX source, relative to the workspace root.
pub const WXS: &str = "wix/main.wxs";

/// `msidbUpgradeAttributesVersionMaxInclusive` in the `Upgrade` table.
const VERSION_MAX_INCLUSIVE: u32 = 0x200;

/// Windows Installer's standard sequence numbers for the environment actions.
const REMOVE_ENVIRONMENT_STRINGS_SEQUENCE: u32 = 3300;
const WRITE_ENVIRONMENT_STRINGS_SEQUENCE: u32 = 5200;

/// Maps a SemVer version to the numeric ProductVersion that Windows
/// Installer compares: `1.2.3` stays `1.2.3`, and a pre-release whose last
/// identifier is a number, such as `1.2.3-rc.4`, becomes `1.2.3.4`.
///
/// Windows Installer ignores the fourth field when it compares versions, so
/// `main.wxs` allows same-version upgrades: each pre-release and the release
/// then replace one another in place.
pub fn msi_version(version: &str) -> Result<String> {
    let core = version.split_once('+').map_or(version, |(core, _)| core);
    let (release, pre_release) = match core.split_once('-') {
        Some((release, pre_release)) => (release, Some(pre_release)),
        None => (core, None),
    };

    let fields: Vec<&str> = release.split('.').collect();
    ensure!(
        fields.len() == 3,
        "version {version:?} is not MAJOR.MINOR.PATCH: set a SemVer version in Cargo.toml"
    );
    let limits = [("major", 255u32), ("minor", 255), ("patch", 65535)];
    let mut numbers = Vec::new();
    for (field, (name, limit)) in fields.iter().zip(limits) {
        let number: u32 = field.parse().with_context(|| {
            format!("the {name} version {field:?} of {version:?} is not a number")
        })?;
        ensure!(
            number <= limit,
            "the {name} version {number} of {version:?} is above {limit}, the maximum Windows Installer accepts"
        );
        numbers.push(number.to_string());
    }

    if let Some(pre_release) = pre_release {
        let last = pre_release.rsplit('.').next().unwrap_or(pre_release);
        let build: u32 = last.parse().map_err(|_| {
            anyhow::anyhow!("pre-release {pre_release:?} of {version:?} does not end in a number: name pre-releases like 1.2.0-rc.1 so the MSI version can be 1.2.0.1")
        })?;
        ensure!(
            build <= 65535,
            "the pre-release number {build} of {version:?} is above 65535, the maximum Windows Installer accepts"
        );
        numbers.push(build.to_string());
    }
    Ok(numbers.join("."))
}

/// An `<Environment>` element with the `Component` that contains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentRow {
    pub id: String,
    /// The `Name` column: action, removal and scope prefixes, then the name.
    pub name: String,
    pub value: String,
    pub component: String,
}

/// A `<SetProperty>` element: a type 51 custom action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetPropertyRow {
    pub property: String,
    pub value: String,
    pub after: String,
}

/// The parts of `main.wxs` that wixl cannot compile, and the source without them.
#[derive(Debug, Clone)]
pub struct WxsSource {
    /// `Product/@UpgradeCode`, as written.
    pub upgrade_code: String,
    pub environment: Vec<EnvironmentRow>,
    pub set_properties: Vec<SetPropertyRow>,
    pub allow_same_version_upgrades: bool,
    /// `MajorUpgrade/@Schedule`, such as `afterInstallInitialize`.
    pub upgrade_schedule: Option<String>,
    /// `main.wxs` with the elements above and the WixUI elements removed.
    pub wixl_text: String,
}

/// Parses the WiX source text.
pub fn parse_wxs(text: &str) -> Result<WxsSource> {
    let document =
        roxmltree::Document::parse(text).context("wix/main.wxs is not well-formed XML")?;
    let product = document
        .descendants()
        .find(|node| node.has_tag_name("Product"))
        .context("wix/main.wxs has no <Product> element")?;
    let upgrade_code = product
        .attribute("UpgradeCode")
        .context("wix/main.wxs: <Product> has no UpgradeCode")?
        .to_owned();

    let mut removed = Vec::new();
    let mut environment = Vec::new();
    let mut set_properties = Vec::new();
    let mut allow_same_version_upgrades = false;
    let mut upgrade_schedule = None;

    for node in document.descendants().filter(|node| node.is_element()) {
        match node.tag_name().name() {
            "Environment" => {
                environment.push(environment_row(node)?);
                removed.push(node.range());
            }
            "SetProperty" => {
                let attribute = |name: &str| {
                    node.attribute(name).with_context(|| {
                        format!("wix/main.wxs: <SetProperty> has no {name} attribute")
                    })
                };
                set_properties.push(SetPropertyRow {
                    property: attribute("Id")?.to_owned(),
                    value: attribute("Value")?.to_owned(),
                    after: attribute("After")?.to_owned(),
                });
                removed.push(node.range());
            }
            "UI" | "WixVariable" => removed.push(node.range()),
            "MajorUpgrade" => {
                allow_same_version_upgrades =
                    node.attribute("AllowSameVersionUpgrades") == Some("yes");
                upgrade_schedule = node.attribute("Schedule").map(str::to_owned);
            }
            _ => {}
        }
    }

    let mut wixl_text = String::with_capacity(text.len());
    let mut position = 0;
    removed.sort_by_key(|range| range.start);
    for range in removed {
        if range.start < position {
            continue; // inside an element that is already removed
        }
        wixl_text.push_str(&text[position..range.start]);
        position = range.end;
    }
    wixl_text.push_str(&text[position..]);
    // wixl resolves file sources as Unix paths; WiX on Windows takes either separator.
    let wixl_text = wixl_text.replace("$(var.CargoTargetBinDir)\\", "$(var.CargoTargetBinDir)/");

    Ok(WxsSource {
        upgrade_code,
        environment,
        set_properties,
        allow_same_version_upgrades,
        upgrade_schedule,
        wixl_text,
    })
}

/// Translates an `<Environment>` element the way WiX 3's compiler does: the
/// name gets `=` (set), `+` (create) or `!` (remove), then `-` when the value
/// is removed on uninstall, then `*` for the system environment; `Part`
/// wraps the value in `[~]` with the separator.
fn environment_row(node: roxmltree::Node) -> Result<EnvironmentRow> {
    let attribute = |name: &str| {
        node.attribute(name)
            .with_context(|| format!("wix/main.wxs: <Environment> has no {name} attribute"))
    };
    let id = attribute("Id")?.to_owned();
    let name = attribute("Name")?;
    let value = attribute("Value")?;
    let component = node
        .ancestors()
        .find(|ancestor| ancestor.has_tag_name("Component"))
        .and_then(|component| component.attribute("Id"))
        .with_context(|| {
            format!("wix/main.wxs: <Environment Id='{id}'> is not inside a <Component Id='…'>")
        })?
        .to_owned();

    let action = match node.attribute("Action").unwrap_or("set") {
        "set" => "=",
        "create" => "+",
        "remove" => "!",
        other => bail!(
            "wix/main.wxs: <Environment Id='{id}'> has Action='{other}'; use set, create or remove"
        ),
    };
    let uninstall = if node.attribute("Permanent") == Some("yes") {
        ""
    } else {
        "-"
    };
    let system = if node.attribute("System") == Some("yes") {
        "*"
    } else {
        ""
    };
    let separator = node.attribute("Separator").unwrap_or(";");
    let value = match node.attribute("Part").unwrap_or("all") {
        "all" => value.to_owned(),
        "first" => format!("{value}{separator}[~]"),
        "last" => format!("[~]{separator}{value}"),
        other => bail!(
            "wix/main.wxs: <Environment Id='{id}'> has Part='{other}'; use all, first or last"
        ),
    };
    Ok(EnvironmentRow {
        id,
        name: format!("{action}{uninstall}{system}{name}"),
        value,
        component,
    })
}

/// Builds an x64 MSI with wixl from `root/wix/main.wxs`, packaging the
/// `docker-credential-atcr.exe` in `exe_dir`, and adds what wixl cannot
/// compile. `version` is the SemVer version; the MSI gets [`msi_version`].
pub fn build_with_wixl(root: &Path, exe_dir: &Path, version: &str, output: &Path) -> Result<()> {
    let wxs_path = root.join(WXS);
    let text = fs::read_to_string(&wxs_path)
        .with_context(|| format!("cannot read {}", wxs_path.display()))?;
    let source = parse_wxs(&text)?;
    let msi_version = msi_version(version)?;

    let work = tempfile::Builder::new().prefix("wixl-").tempdir()?;
    let wixl_wxs = work.path().join("main.wxs");
    fs::write(&wixl_wxs, &source.wixl_text)?;
    if let Some(parent) = output.parent() {
        fs::create_dir_all(parent)?;
    }
    // wixl rejects absolute file sources, so the binary folder is given relative to the workspace root.
    let exe_dir = relative_to(
        &fs::canonicalize(exe_dir)
            .with_context(|| format!("{} does not exist", exe_dir.display()))?,
        &fs::canonicalize(root)?,
    )?;
    let _ = fs::remove_file(output);

    let captured = process::output_unchecked(
        Command::new("wixl")
            .current_dir(root)
            .args(["--arch", "x64", "-D"])
            .arg(format!("MsiVersion={msi_version}"))
            .arg("-D")
            .arg(format!("CargoTargetBinDir={}", exe_dir.display()))
            .arg("-o")
            .arg(output)
            .arg(&wixl_wxs),
    )?;
    // wixl warns about attributes it ignores (KeyPath, Schedule…) and still exits 0 on real errors such as a missing file.
    if !captured.status.success() || !output.is_file() {
        bail!(
            "wixl failed to build {} from {}:\n{}",
            output.display(),
            wxs_path.display(),
            String::from_utf8_lossy(&captured.stderr).trim()
        );
    }

    add_missing_rows(output, &source, work.path())
}

/// Adds the rows of [`WxsSource`] that wixl left out.
fn add_missing_rows(msi: &Path, source: &WxsSource, work: &Path) -> Result<()> {
    if !source.environment.is_empty() {
        let mut idt = String::from(
            "Environment\tName\tValue\tComponent_\r\ns72\tl255\tL255\ts72\r\nEnvironment\tEnvironment\r\n",
        );
        for row in &source.environment {
            writeln!(
                idt,
                "{}\t{}\t{}\t{}\r",
                row.id, row.name, row.value, row.component
            )?;
        }
        import_table(msi, work, "Environment", &idt)?;
        insert_action(
            msi,
            "InstallExecuteSequence",
            "RemoveEnvironmentStrings",
            REMOVE_ENVIRONMENT_STRINGS_SEQUENCE,
        )?;
        insert_action(
            msi,
            "InstallExecuteSequence",
            "WriteEnvironmentStrings",
            WRITE_ENVIRONMENT_STRINGS_SEQUENCE,
        )?;
    }

    for row in &source.set_properties {
        let action = format!("Set{}", row.property);
        query(
            msi,
            &format!(
                "INSERT INTO `CustomAction` (`Action`, `Type`, `Source`, `Target`) VALUES ('{action}', 51, '{}', '{}')",
                row.property, row.value
            ),
        )?;
        for table in ["InstallExecuteSequence", "InstallUISequence"] {
            let after = sequence_of(msi, table, &row.after)?.with_context(|| {
                format!(
                    "wix/main.wxs: <SetProperty Id='{}'> runs after {}, which {table} lacks",
                    row.property, row.after
                )
            })?;
            insert_action(msi, table, &action, after + 1)?;
        }
    }

    if source.allow_same_version_upgrades {
        let table = export_table(msi, "Upgrade")?;
        let mut lines: Vec<String> = table.lines().map(str::to_owned).collect();
        ensure!(
            lines.len() > 3,
            "wixl wrote no Upgrade rows for <MajorUpgrade> in {}",
            msi.display()
        );
        for line in lines.iter_mut().skip(3) {
            let mut columns: Vec<String> = line.split('\t').map(str::to_owned).collect();
            if columns.len() == 7 && columns[6] == "WIX_UPGRADE_DETECTED" {
                let attributes: u32 = columns[4]
                    .parse()
                    .with_context(|| format!("Upgrade row with non-numeric Attributes: {line}"))?;
                columns[4] = (attributes | VERSION_MAX_INCLUSIVE).to_string();
                *line = columns.join("\t");
            }
        }
        let idt: String = lines.iter().map(|line| format!("{line}\r\n")).collect();
        // Attributes is part of the Upgrade table's primary key, so the table is imported again instead of updated.
        import_table(msi, work, "Upgrade", &idt)?;
    }

    if source.upgrade_schedule.as_deref() == Some("afterInstallInitialize") {
        let initialize = sequence_of(msi, "InstallExecuteSequence", "InstallInitialize")?
            .context("the MSI has no InstallInitialize action")?;
        query(
            msi,
            &format!(
                "UPDATE `InstallExecuteSequence` SET `Sequence` = {} WHERE `Action` = 'RemoveExistingProducts'",
                initialize + 1
            ),
        )?;
    }
    Ok(())
}

fn import_table(msi: &Path, work: &Path, table: &str, idt: &str) -> Result<()> {
    let file = work.join(format!("{table}.idt"));
    fs::write(&file, idt)?;
    process::output(Command::new("msibuild").arg(msi).arg("-i").arg(&file)).map(drop)
}

fn query(msi: &Path, sql: &str) -> Result<()> {
    process::output(Command::new("msibuild").arg(msi).arg("-q").arg(sql)).map(drop)
}

fn insert_action(msi: &Path, table: &str, action: &str, sequence: u32) -> Result<()> {
    query(
        msi,
        &format!("INSERT INTO `{table}` (`Action`, `Sequence`) VALUES ('{action}', {sequence})"),
    )
}

fn sequence_of(msi: &Path, table: &str, action: &str) -> Result<Option<u32>> {
    let text = export_table(msi, table)?;
    Ok(text.lines().skip(3).find_map(|line| {
        let columns: Vec<&str> = line.split('\t').collect();
        (columns.first() == Some(&action))
            .then(|| columns.last()?.trim().parse().ok())
            .flatten()
    }))
}

/// Returns a table as `msiinfo export` prints it (IDT text).
pub fn export_table(msi: &Path, table: &str) -> Result<String> {
    let output = process::output(Command::new("msiinfo").arg("export").arg(msi).arg(table))?;
    Ok(String::from_utf8_lossy(&output.stdout).replace('\r', ""))
}

/// Reads the `Property` table: ProductCode, UpgradeCode, ProductVersion…
pub fn properties(msi: &Path) -> Result<BTreeMap<String, String>> {
    let text = export_table(msi, "Property")?;
    Ok(text
        .lines()
        .skip(3)
        .filter_map(|line| line.split_once('\t'))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect())
}

/// Returns `path` relative to `base`, which must contain it.
fn relative_to(path: &Path, base: &Path) -> Result<PathBuf> {
    if let Ok(relative) = path.strip_prefix(base) {
        return Ok(relative.to_path_buf());
    }
    let mut up = PathBuf::new();
    let mut ancestor = base;
    loop {
        up.push("..");
        ancestor = ancestor.parent().with_context(|| {
            format!("{} and {} share no folder", path.display(), base.display())
        })?;
        if let Ok(rest) = path.strip_prefix(ancestor) {
            return Ok(up.join(rest));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msi_version_keeps_releases() {
        assert_eq!(msi_version("1.2.3").unwrap(), "1.2.3");
        assert_eq!(msi_version("0.1.0+build.7").unwrap(), "0.1.0");
    }

    #[test]
    fn msi_version_maps_pre_releases() {
        assert_eq!(msi_version("1.2.0-rc.3").unwrap(), "1.2.0.3");
        assert_eq!(msi_version("1.2.0-beta.12").unwrap(), "1.2.0.12");
        assert_eq!(msi_version("1.2.0-7").unwrap(), "1.2.0.7");
    }

    #[test]
    fn msi_version_rejects_unmappable() {
        assert!(msi_version("1.2.0-rc").is_err(), "no number at the end");
        assert!(msi_version("256.0.0").is_err(), "major above 255");
        assert!(msi_version("1.2").is_err(), "two fields");
        assert!(msi_version("1.2.0-rc.70000").is_err(), "build above 65535");
    }

    #[test]
    fn committed_wxs_translates_for_wixl() {
        let text = include_str!("../../wix/main.wxs");
        let source = parse_wxs(text).unwrap();

        assert_eq!(source.environment.len(), 1);
        let path = &source.environment[0];
        assert_eq!(path.name, "=-*PATH");
        assert_eq!(path.value, "[~];[Bin]");
        assert_eq!(path.component, "Path");
        assert_eq!(
            source.set_properties,
            [SetPropertyRow {
                property: "ARPINSTALLLOCATION".into(),
                value: "[APPLICATIONFOLDER]".into(),
                after: "CostFinalize".into()
            }]
        );
        assert!(source.allow_same_version_upgrades);
        assert_eq!(
            source.upgrade_schedule.as_deref(),
            Some("afterInstallInitialize")
        );

        for element in [
            "<Environment",
            "<SetProperty",
            "<UI>",
            "<UIRef",
            "<WixVariable",
        ] {
            assert!(
                !source.wixl_text.contains(element),
                "{element} left in the wixl source"
            );
        }
        assert!(
            source
                .wixl_text
                .contains("$(var.CargoTargetBinDir)/docker-credential-atcr.exe")
        );
        roxmltree::Document::parse(&source.wixl_text).expect("the wixl source stays well-formed");
    }

    #[test]
    fn environment_prefixes_follow_wix() {
        let text = "<Wix><Product UpgradeCode='X'><Component Id='C'><Environment Id='E' Name='P' Value='v' Action='create' Permanent='yes' Part='first'/></Component></Product></Wix>";
        let source = parse_wxs(text).unwrap();
        assert_eq!(source.environment[0].name, "+P");
        assert_eq!(source.environment[0].value, "v;[~]");
    }

    #[test]
    fn relative_path_climbs_out_of_base() {
        assert_eq!(
            relative_to(Path::new("/a/b/c"), Path::new("/a")).unwrap(),
            Path::new("b/c")
        );
        assert_eq!(
            relative_to(Path::new("/x/y"), Path::new("/a/b")).unwrap(),
            Path::new("../../x/y")
        );
    }
}
