//! `cargo xtask readme [--check]`: the README's "Kill matrix" and "Conforming variants" sections are
//! the binary's own `mutants` and `variants` output. Written by hand they drifted whenever a case
//! changed; here they are regenerated, and `--check` (run by `.ci/run`) fails when they are stale.

use std::path::Path;
use std::process::Command;

const KILL_MATRIX: &str = "## Kill matrix";
const VARIANTS: &str = "## Conforming variants";

const KILL_MATRIX_PROSE: &str = "`gws-conform mutants` runs the suite against the clean reference server, then against the server with
each fault of its catalogue. It exits non-zero if the clean server fails or warns on any case, or any fault
is caught by no case. A fault is **caught** when a case fails; it is only **flagged** when the cases that
notice it are inferred (a warning): the sources do not settle that behaviour, so a conforming server
could show it too, and its row names the source that leaves it open (`Fault::left_open`; a flagged fault
that names none fails the command, since a documented rule must be caught by a failure). As of the last run (`cargo run --release -- mutants`; `cargo xtask readme` writes this
section, and `.ci/run` checks it with `cargo xtask readme --check`):";

const VARIANTS_PROSE: &str = "`gws-conform variants` is the twin of `mutants`: it runs the suite against the reference server with each
conforming variant of its catalogue (`serve --variant NAME`; `variants --list` gives each one's source): a
way a real deployment may differ where the page and the notes are silent or allow several answers. Every
variant must pass with zero failures; warnings are allowed, counted and listed. As of the last run
(`cargo run --release -- variants`; written and checked as above):";

/// Runs both commands (each must succeed), then writes or checks the two sections.
pub fn readme(root: &Path, check: bool) -> Result<(), String> {
    let mutants = gws_conform(root, "mutants")?;
    let variants = gws_conform(root, "variants")?;
    let path = root.join("README.md");
    let old = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let new = replace_section(&old, KILL_MATRIX, KILL_MATRIX_PROSE, &mutants)?;
    let new = replace_section(&new, VARIANTS, VARIANTS_PROSE, &variants)?;
    if new == old {
        eprintln!("xtask: README's kill matrix and variants table match the binary's output");
        return Ok(());
    }
    if check && settled(&old) == settled(&new) {
        eprintln!("xtask: README's kill matrix and variants table match the binary's output in every settled column (which cases caught a timing fault, and how many passed or warned under a slow variant, vary from run to run)");
        return Ok(());
    }
    if check {
        for (o, n) in old
            .lines()
            .zip(new.lines())
            .filter(|(o, n)| settled_line(o) != settled_line(n))
            .take(10)
        {
            eprintln!("- {o}\n+ {n}");
        }
        return Err("README's kill matrix or variants table is stale: run `cargo xtask readme` and commit README.md".into());
    }
    std::fs::write(&path, new).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("xtask: README.md updated");
    Ok(())
}

/// The README as `--check` compares it: each table row of the two sections reduced to what a run
/// settles. Under a timing fault (`notification-delayed`) or a slow variant (`slow-logout`), which
/// cases notice it first, and so how many passed or warned, depends on the machine's load (seen: 9,
/// 10 and 11 cases; 5 and 6 warnings on one commit), while what `mutants` and `variants` guarantee
/// does not: each fault's catcher (failure or warning only), each variant's failures (0) and skips,
/// and the tally lines. A check that compared the counts failed CI at random.
fn settled(readme: &str) -> Vec<String> {
    readme.lines().map(settled_line).collect()
}

fn settled_line(line: &str) -> String {
    let cells: Vec<&str> = line.split('|').map(str::trim).collect();
    // `| a | b | c | d |` splits into 6 cells, the first and last empty.
    match cells.len() {
        // Kill matrix: fault, area, by | cases.
        6 => cells[1..4].join(" | "),
        // Variants: variant, area, failed, skipped | passed, warned, failing cases.
        9 => [cells[1], cells[2], cells[4], cells[5]].join(" | "),
        _ => line.to_string(),
    }
}

/// `cargo run --release -- COMMAND`, its stdout, or why it failed.
fn gws_conform(root: &Path, command: &str) -> Result<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("xtask: cargo run --release -- {command}");
    let out = Command::new(cargo)
        .current_dir(root)
        .args(["run", "--release", "--quiet", "--", command])
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "`gws-conform {command}` failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(stdout)
}

/// The section from `heading` up to the next `## ` heading (or the end), rewritten as the prose, the
/// table lines of `output` and its last non-table line (the tally).
fn replace_section(
    readme: &str,
    heading: &str,
    prose: &str,
    output: &str,
) -> Result<String, String> {
    let start = readme
        .find(&format!("\n{heading}\n"))
        .map(|i| i + 1)
        .ok_or_else(|| format!("README.md has no `{heading}` heading"))?;
    let body_start = start + heading.len() + 1;
    let end = readme[body_start..]
        .find("\n## ")
        .map(|i| body_start + i + 1)
        .unwrap_or(readme.len());
    let table: Vec<&str> = output.lines().filter(|l| l.starts_with('|')).collect();
    let tally = output
        .lines()
        .rfind(|l| !l.trim().is_empty() && !l.starts_with('|'))
        .ok_or_else(|| format!("no tally line after `{heading}`'s table"))?;
    if table.is_empty() {
        return Err(format!("no table in the output for `{heading}`"));
    }
    let tail = if end < readme.len() { "\n" } else { "" };
    Ok(format!(
        "{}{heading}\n\n{prose}\n\n{}\n\n{tally}\n{tail}{}",
        &readme[..start],
        table.join("\n"),
        &readme[end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_is_replaced_up_to_the_next_heading() {
        let readme = "# T\n\n## Kill matrix\n\nold\n| a |\n\nold tally\n\n## Next\nkept\n";
        let out = "noise\n| x |\n|---|\n\n3/3 caught\n";
        let new = replace_section(readme, KILL_MATRIX, "prose", out).unwrap();
        assert_eq!(
            new,
            "# T\n\n## Kill matrix\n\nprose\n\n| x |\n|---|\n\n3/3 caught\n\n## Next\nkept\n"
        );
        assert_eq!(
            replace_section(&new, KILL_MATRIX, "prose", out).unwrap(),
            new
        );
    }

    #[test]
    fn a_check_ignores_what_timing_decides_and_not_what_a_run_settles() {
        let kill = "| notification-delayed | notifications | failure | 10 cases: a, b |";
        assert_eq!(
            settled_line(kill),
            settled_line("| notification-delayed | notifications | failure | 9 cases: a |")
        );
        assert_ne!(
            settled_line(kill),
            settled_line("| notification-delayed | notifications | warning only | 9 cases: a |")
        );
        let variant = "| slow-logout | session | 137 | 0 | 0 | 5 |  |";
        assert_eq!(
            settled_line(variant),
            settled_line("| slow-logout | session | 136 | 0 | 0 | 6 |  |")
        );
        assert_ne!(
            settled_line(variant),
            settled_line("| slow-logout | session | 136 | 1 | 0 | 5 | x |")
        );
        assert_eq!(settled_line("33/50 faults caught"), "33/50 faults caught");
    }

    #[test]
    fn the_last_section_runs_to_the_end() {
        let readme = "## Conforming variants\n\nold\n";
        let new = replace_section(
            &format!("x\n{readme}"),
            VARIANTS,
            "p",
            "| v |\n\n1/1 pass\n",
        )
        .unwrap();
        assert_eq!(new, "x\n## Conforming variants\n\np\n\n| v |\n\n1/1 pass\n");
        assert!(replace_section("x\n", VARIANTS, "p", "| v |\nt\n").is_err());
    }
}
