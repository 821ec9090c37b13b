//! Where the suite's files come from: a folder on disk, or the copy built into the binary.
//!
//! The binary carries the shipped suite (`cases/`, `schemas/`, `profiles/reference.toml`, `spec/`),
//! so that it runs in any directory; a folder given on the command line (or found in the working
//! directory) replaces it. Both are read through [`Dir`], so the loader, the lazy rebuild of a large
//! suite's cases and `verify` do not care which it is. Embedded files keep their repository paths
//! (`cases/s4-partial-success.toml`), so a report lists the same inputs whichever way it was loaded.

use std::io;
use std::path::{Path, PathBuf};

mod table {
    include!(concat!(env!("OUT_DIR"), "/embedded_suite.rs"));
}

/// The version of the harness whose binary holds the embedded suite (it identifies that suite).
pub const HARNESS_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Every embedded file: its repository path and its bytes, sorted by path.
pub fn embedded_files() -> &'static [(&'static str, &'static [u8])] {
    table::FILES
}

/// The embedded file at a repository path (`schemas/error.schema.json`), if there is one.
pub fn embedded_file(path: &str) -> Option<&'static [u8]> {
    let path = path.strip_prefix("./").unwrap_or(path);
    table::FILES
        .binary_search_by(|(p, _)| (*p).cmp(path))
        .ok()
        .map(|i| table::FILES[i].1)
}

/// A folder of the suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dir {
    /// A folder on disk; its files are read when asked for.
    Folder(PathBuf),
    /// An embedded folder, by its repository name (`cases`).
    Embedded(&'static str),
}

impl Dir {
    /// The path of the file `name` in this folder (for embedded folders, its repository path).
    pub fn join(&self, name: &str) -> PathBuf {
        match self {
            Dir::Folder(d) => d.join(name),
            Dir::Embedded(d) => Path::new(d).join(name),
        }
    }

    /// The folder's path, as diagnostics name it.
    pub fn path(&self) -> PathBuf {
        match self {
            Dir::Folder(d) => d.clone(),
            Dir::Embedded(d) => PathBuf::from(d),
        }
    }

    pub fn is_embedded(&self) -> bool {
        matches!(self, Dir::Embedded(_))
    }

    /// The files directly in this folder whose names end with `ending`, sorted, so that runs are
    /// reproducible.
    pub fn files(&self, ending: &str) -> io::Result<Vec<PathBuf>> {
        let mut files: Vec<PathBuf> = match self {
            // The name first, then the directory entry's own type (no stat per file on the usual
            // file systems); a symbolic link is followed, as `Path::is_file` does.
            Dir::Folder(d) => std::fs::read_dir(d)?
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_str().is_some_and(|n| n.ends_with(ending)))
                .filter(|e| match e.file_type() {
                    Ok(t) if t.is_symlink() => e.path().is_file(),
                    Ok(t) => t.is_file(),
                    Err(_) => false,
                })
                .map(|e| e.path())
                .collect(),
            Dir::Embedded(d) => embedded_files()
                .iter()
                .filter_map(|(p, _)| p.strip_prefix(d)?.strip_prefix('/'))
                .filter(|n| !n.contains('/') && n.ends_with(ending))
                .map(|n| self.join(n))
                .collect(),
        };
        files.sort();
        Ok(files)
    }

    /// The bytes of a file this folder listed (or [`Dir::join`] named).
    pub fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        match self {
            Dir::Folder(_) => std::fs::read(path),
            Dir::Embedded(_) => embedded_file(&crate::load::display_path(path))
                .map(<[u8]>::to_vec)
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        format!(
                            "no such file in the suite built into gws-conform {HARNESS_VERSION}"
                        ),
                    )
                }),
        }
    }
}

/// Where the run's suite came from, as `report.json` records it (`run.suite`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SuiteOrigin {
    pub cases: Origin,
    pub schemas: Origin,
}

/// One folder's origin.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Built into the harness of this version.
    Embedded { harness_version: String },
    /// A folder, as the run named it.
    Folder(String),
}

impl Origin {
    pub fn of(dir: &Dir) -> Origin {
        match dir {
            Dir::Folder(d) => Origin::Folder(crate::load::display_path(d)),
            Dir::Embedded(_) => Origin::Embedded {
                harness_version: HARNESS_VERSION.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The repository's files of the embedded selection, by repository path.
    fn repository_files() -> Vec<(String, Vec<u8>)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for (folder, ending) in [
            ("cases", ".toml"),
            ("schemas", ".json"),
            ("profiles", "reference.toml"),
            ("spec", ".md"),
        ] {
            for p in Dir::Folder(root.join(folder)).files(ending).unwrap() {
                let name = p.file_name().unwrap().to_str().unwrap();
                out.push((format!("{folder}/{name}"), std::fs::read(&p).unwrap()));
            }
        }
        out.sort();
        out
    }

    #[test]
    fn the_embedded_suite_equals_the_repository_files() {
        let embedded: Vec<(String, Vec<u8>)> = embedded_files()
            .iter()
            .map(|(p, b)| (p.to_string(), b.to_vec()))
            .collect();
        let repo = repository_files();
        let names = |v: &[(String, Vec<u8>)]| v.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
        assert_eq!(names(&embedded), names(&repo), "the same files");
        for ((path, e), (_, r)) in embedded.iter().zip(&repo) {
            assert!(
                e == r,
                "{path}: the embedded copy differs from the repository's"
            );
        }
        assert!(embedded.iter().any(|(p, _)| p == "cases/variables.toml"));
        assert!(embedded.iter().any(|(p, _)| p == "profiles/reference.toml"));
    }

    #[test]
    fn an_embedded_folder_lists_and_reads_like_a_folder() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let folder = Dir::Folder(root.join("schemas"));
        let embedded = Dir::Embedded("schemas");
        let on_disk = folder.files(".json").unwrap();
        let built_in = embedded.files(".json").unwrap();
        assert_eq!(on_disk.len(), built_in.len());
        for (d, e) in on_disk.iter().zip(&built_in) {
            assert_eq!(d.file_name(), e.file_name());
            assert_eq!(folder.read(d).unwrap(), embedded.read(e).unwrap());
        }
        assert_eq!(
            embedded
                .read(Path::new("schemas/nope.json"))
                .unwrap_err()
                .kind(),
            io::ErrorKind::NotFound
        );
        assert!(embedded_file("./cases/variables.toml").is_some());
    }
}
