//! The loader never panics on a hostile input: every shipped case file, `cases/variables.toml` and
//! `profiles/reference.toml`, mutated thousands of ways (truncated, bytes flipped, values swapped for
//! another type, lines deleted, duplicated or swapped), either loads or ends in diagnostics that name
//! the file and a line. Seeded, so a failure is reproducible by its seed and mutation.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use super::diagnostic::Diagnostic;
use super::vars::Env;
use super::{case_from_bytes, variable_file, LoadContext, Profile, SchemaSet};
use crate::secret::Redactor;

/// Mutations per file: 49 cases and 2 other files make about 10,000 inputs (a few seconds in debug).
const PER_FILE: usize = 200;

/// xorshift64*: deterministic, and enough to pick offsets and bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Values of every TOML type (and a few the loader must refuse) to swap in for a value.
const VALUES: &[&str] = &[
    "1",
    "-1",
    "1.5",
    "true",
    "\"s\"",
    "\"\"",
    "[]",
    "[1, \"a\", true]",
    "{}",
    "{ a = 1 }",
    "{ \"$regex\" = \"(\" }",
    "{ \"$one_of\" = 1 }",
    "99999999999999999999",
    "1979-05-27",
    "\"${nope}\"",
    "\"${env:NOPE}\"",
    "\"${\"",
    "\"\\u00e9\"",
];

/// One mutation of `bytes`, described for the failure message.
fn mutate(rng: &mut Rng, bytes: &[u8]) -> (String, Vec<u8>) {
    let mut out = bytes.to_vec();
    let lines: Vec<&[u8]> = bytes.split_inclusive(|&b| b == b'\n').collect();
    match rng.below(6) {
        0 => {
            let at = rng.below(bytes.len());
            out.truncate(at);
            (format!("truncated at byte {at}"), out)
        }
        1 => {
            let n = 1 + rng.below(4);
            for _ in 0..n {
                let at = rng.below(out.len());
                // Any byte, including ones that break UTF-8 or TOML syntax.
                out[at] = rng.next() as u8;
            }
            (format!("{n} byte(s) flipped"), out)
        }
        2 => {
            let candidates: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].windows(3).any(|w| w == b" = "))
                .collect();
            if candidates.is_empty() {
                return (String::from("unchanged"), out);
            }
            let i = candidates[rng.below(candidates.len())];
            let line = lines[i];
            let eq = line.windows(3).position(|w| w == b" = ").unwrap_or(0);
            let value = VALUES[rng.below(VALUES.len())];
            let mut swapped = line[..eq + 3].to_vec();
            swapped.extend_from_slice(value.as_bytes());
            swapped.push(b'\n');
            (
                format!("line {} value swapped for {value}", i + 1),
                splice(&lines, i, 1, &[&swapped]),
            )
        }
        3 => {
            let i = rng.below(lines.len());
            let n = 1 + rng.below(3);
            (
                format!("lines {}.. deleted ({n})", i + 1),
                splice(&lines, i, n, &[]),
            )
        }
        4 => {
            let i = rng.below(lines.len());
            let j = rng.below(lines.len());
            (
                format!("line {} copied before line {}", i + 1, j + 1),
                splice(&lines, j, 0, &[lines.get(i).copied().unwrap_or_default()]),
            )
        }
        _ => {
            let i = rng.below(lines.len());
            let j = rng.below(lines.len());
            let mut v = lines.clone();
            v.swap(i, j);
            (format!("lines {} and {} swapped", i + 1, j + 1), v.concat())
        }
    }
}

/// `lines` with `n` lines at `at` replaced by `with`.
fn splice(lines: &[&[u8]], at: usize, n: usize, with: &[&[u8]]) -> Vec<u8> {
    let at = at.min(lines.len());
    let end = (at + n).min(lines.len());
    let mut v: Vec<&[u8]> = lines[..at].to_vec();
    v.extend_from_slice(with);
    v.extend_from_slice(&lines[end..]);
    v.concat()
}

/// The problem with a load's outcome, if it has one: diagnostics must exist, and each must name this
/// file and a line.
fn judge(path: &Path, outcome: Result<(), Vec<Diagnostic>>) -> Option<String> {
    let diags = match outcome {
        Ok(()) => return None,
        Err(d) => d,
    };
    if diags.is_empty() {
        return Some("failed without a diagnostic".into());
    }
    diags
        .iter()
        .find(|d| d.file != path || d.line == 0)
        .map(|d| format!("a diagnostic without this file and a line: {d}"))
}

#[test]
fn mutated_inputs_load_or_end_in_located_diagnostics() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let env = Env::empty()
        .with("GWS_PASSWORD", "fuzz-pw")
        .with("GWS_AGENT_LOGIN_PASSWORD", "fuzz-lc");
    let redactor = Redactor::new();
    let schemas = SchemaSet::load(&root.join("schemas")).expect("the shipped schemas load");
    let profile_path = root.join("profiles/reference.toml");
    let profile = Profile::load(&profile_path, &env, &redactor).expect("the profile loads");
    let vars_path = root.join("cases/variables.toml");
    let (variables, problems) =
        variable_file::parse(&vars_path, std::fs::read(&vars_path).unwrap());
    assert!(problems.is_empty(), "{problems:?}");
    let ctx = LoadContext {
        env: &env,
        defaults: &variables.synthetic,
        lab: &variables.lab,
        case_vars: &Default::default(),
        profile: &profile,
        schemas: &schemas,
        redactor: &redactor,
        interner: &crate::intern::Interner::default(),
    };

    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files.push(profile_path.clone());
    assert!(
        files.len() > 50,
        "every shipped case, variables.toml and the profile"
    );

    let load = |path: &Path, bytes: Vec<u8>| -> Result<(), Vec<Diagnostic>> {
        if path == profile_path {
            let text = super::diagnostic::utf8_text(path, bytes).map_err(|d| vec![d])?;
            Profile::parse(path, &text, &env, &redactor).map(drop)
        } else if path == vars_path {
            let (_, problems) = variable_file::parse(path, bytes);
            if problems.is_empty() {
                Ok(())
            } else {
                Err(problems)
            }
        } else {
            case_from_bytes(path, bytes, &ctx).map(drop)
        }
    };

    let mut failures = Vec::new();
    let (mut inputs, mut refused) = (0, 0);
    for (k, path) in files.iter().enumerate() {
        let original = std::fs::read(path).unwrap();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (k as u64 + 1));
        for n in 0..PER_FILE {
            let (what, bytes) = mutate(&mut rng, &original);
            inputs += 1;
            let outcome = catch_unwind(AssertUnwindSafe(|| load(path, bytes.clone())));
            let problem = match outcome {
                Err(_) => Some("panicked".to_string()),
                Ok(o) => {
                    refused += usize::from(o.is_err());
                    judge(path, o)
                }
            };
            if let Some(p) = problem {
                failures.push(format!("{} #{n} ({what}): {p}", path.display()));
            }
        }
    }
    assert!(inputs >= 10_000, "{inputs} inputs");
    // The mutations bite, and not every one: both outcomes are exercised.
    assert!(
        refused > inputs / 2 && refused < inputs,
        "{refused} of {inputs} refused"
    );
    assert!(
        failures.is_empty(),
        "{} of {inputs} inputs:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
