//! A small OCI image layout, written by hand, for pushing to a test registry.
//!
//! The image has one gzip-compressed tar layer with a few files, an image
//! config and a manifest, laid out as the OCI Image Layout 1.0 specifies:
//! `oci-layout`, `index.json` and `blobs/sha256/<hex>`. Clients address it as
//! `oci:<dir>:<tag>`. Digests come from `sha256sum` and the layer from GNU
//! `tar` and `gzip`, so the test needs no hashing or archive crate.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::check_output;

pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
// A compressed layer, because clients push uncompressed ones gzipped, which
// would change the manifest that the test compares.
const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// An image layout on disk and the digest of its one manifest.
pub struct OciImage {
    pub layout: PathBuf,
    pub tag: String,
    /// `sha256:<hex>` of the manifest, as a registry reports it in `Docker-Content-Digest`.
    pub manifest_digest: String,
}

impl OciImage {
    /// Writes an image tagged `tag` into `dir/layout`, using `dir/rootfs` for the layer's files.
    pub fn write(dir: &Path, tag: &str) -> OciImage {
        let rootfs = dir.join("rootfs");
        fs::create_dir_all(rootfs.join("etc")).unwrap();
        fs::write(
            rootfs.join("hello.txt"),
            "hello from docker-credential-atcr's tests\n",
        )
        .unwrap();
        fs::write(rootfs.join("etc/os-release"), "ID=atcr-test\n").unwrap();

        let layout = dir.join("layout");
        fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
        fs::write(
            layout.join("oci-layout"),
            r#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .unwrap();

        // A reproducible tar: sorted names, root ownership, a fixed time.
        let layer_file = dir.join("layer.tar");
        check_output(
            Command::new("tar")
                .args([
                    "--sort=name",
                    "--owner=0",
                    "--group=0",
                    "--numeric-owner",
                    "--mtime=@0",
                    "-cf",
                ])
                .arg(&layer_file)
                .arg("-C")
                .arg(&rootfs)
                .arg("."),
        );
        let diff_id = sha256_digest(&layer_file);
        // -n leaves the name and time out of the gzip header.
        check_output(Command::new("gzip").args(["-n", "-k"]).arg(&layer_file));
        let layer = add_blob(&layout, &fs::read(dir.join("layer.tar.gz")).unwrap());

        let config = serde_json::json!({
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        });
        let config = add_blob(&layout, config.to_string().as_bytes());

        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": {"mediaType": CONFIG_MEDIA_TYPE, "digest": config.digest, "size": config.size},
            "layers": [{"mediaType": LAYER_MEDIA_TYPE, "digest": layer.digest, "size": layer.size}],
        });
        let manifest = add_blob(&layout, manifest.to_string().as_bytes());

        let index = serde_json::json!({
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": MANIFEST_MEDIA_TYPE,
                "digest": manifest.digest,
                "size": manifest.size,
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }],
        });
        fs::write(layout.join("index.json"), index.to_string()).unwrap();

        OciImage {
            layout,
            tag: tag.to_owned(),
            manifest_digest: manifest.digest,
        }
    }

    /// Returns the reference that skopeo and other containers/image clients read: `oci:<layout>:<tag>`.
    pub fn reference(&self) -> String {
        format!("oci:{}:{}", self.layout.display(), self.tag)
    }
}

struct Blob {
    digest: String,
    size: usize,
}

/// Stores `bytes` under `blobs/sha256/<hex>` and returns its descriptor fields.
fn add_blob(layout: &Path, bytes: &[u8]) -> Blob {
    let staging = layout.join("blob.tmp");
    fs::write(&staging, bytes).unwrap();
    let digest = sha256_digest(&staging);
    let hex = digest.strip_prefix("sha256:").unwrap();
    fs::rename(&staging, layout.join("blobs/sha256").join(hex)).unwrap();
    Blob {
        digest,
        size: bytes.len(),
    }
}

/// Returns `sha256:<hex>` of the file at `path`.
fn sha256_digest(path: &Path) -> String {
    let output = check_output(Command::new("sha256sum").arg(path));
    let hex = String::from_utf8(output.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        hex.len(),
        64,
        "sha256sum printed an unexpected digest {hex:?}"
    );
    format!("sha256:{hex}")
}
