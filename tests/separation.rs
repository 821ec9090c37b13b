//! The harness and the reference server share `schemas/` and nothing else, so they can never agree
//! by construction. Only the binary's edge (`src/main.rs`, `src/cli/`) may know both.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn the_library_never_imports_the_reference_server() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let edge = [root.join("src/main.rs"), root.join("src/cli")];
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| !edge.iter().any(|e| f.starts_with(e)))
        .filter(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .contains("gws_reference")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "library modules import the reference server: {offenders:?}"
    );
    assert!(
        files.len() > 10,
        "the scan found too few files to mean anything"
    );
}

#[test]
fn the_reference_server_never_depends_on_the_harness() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("reference/Cargo.toml")).unwrap();
    assert!(
        !manifest.contains("gws-conform"),
        "reference/Cargo.toml depends on the harness"
    );
    let mut files = Vec::new();
    rust_files(&root.join("reference/src"), &mut files);
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(
            !text.contains("gws_conform"),
            "{} mentions the harness",
            f.display()
        );
    }
    assert!(!files.is_empty());
}
