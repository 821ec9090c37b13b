//! Builds the shipped suite into the binary, so that `gws-conform run` works in any directory.
//!
//! Writes `$OUT_DIR/embedded_suite.rs`: one `(path, include_bytes!(...))` entry per file of the
//! suite, sorted by path. Hand-written rather than the `include_dir` crate: the selection is four
//! folders and two extensions, and a table of `include_bytes!` is all `src/load/source.rs` needs.
//! `rerun-if-changed` on each folder makes Cargo rebuild when a file in it is added, removed or
//! edited, so the embedded copy cannot fall behind the repository (a unit test checks it anyway).

use std::fmt::Write as _;
use std::path::Path;

/// The folders embedded, and the file endings kept in each. The repository's own files stay the
/// source of truth; these are copied byte for byte.
const SELECTION: &[(&str, &[&str])] = &[
    ("cases", &[".toml"]),
    ("schemas", &[".json"]),
    ("profiles", &["reference.toml"]),
    ("spec", &[".md"]),
];

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&root);
    let mut files: Vec<(String, String)> = Vec::new();
    for (folder, endings) in SELECTION {
        let dir = root.join(folder);
        println!("cargo:rerun-if-changed={folder}");
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for entry in entries {
            let entry = entry.expect("a readable folder entry");
            let name = entry.file_name().into_string().expect("UTF-8 file names");
            if entry.path().is_file() && endings.iter().any(|e| name.ends_with(e)) {
                let absolute = entry.path().to_string_lossy().into_owned();
                files.push((format!("{folder}/{name}"), absolute));
            }
        }
    }
    files.sort();
    let mut code = String::from(
        "/// Every file of the shipped suite: its path in the repository, and its bytes.\n\
         pub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for (path, absolute) in &files {
        writeln!(code, "    ({path:?}, include_bytes!({absolute:?})),").expect("a String");
    }
    code.push_str("];\n");
    let out =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded_suite.rs");
    std::fs::write(&out, code).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
