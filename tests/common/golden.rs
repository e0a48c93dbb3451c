//! Golden files (`UPDATE_GOLDEN=1` rewrites them) and `promtool check metrics`.

use super::root;
use std::process::{Command, Stdio};

/// Compares `actual` with the golden file at `path` (relative to the repository root).
/// With `UPDATE_GOLDEN=1`, rewrites the file instead.
pub fn assert_golden(path: &str, actual: &str) {
    let file = root().join(path);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(file.parent().expect("golden files live in a folder"))
            .expect("create golden folder");
        std::fs::write(&file, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_GOLDEN=1 to create it",
            file.display()
        )
    });
    if expected != actual {
        panic!(
            "{} differs from the output (run with UPDATE_GOLDEN=1 to accept):\n{}",
            file.display(),
            diff(&expected, actual)
        );
    }
}

fn diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let mut out = String::new();
    for i in 0..e.len().max(a.len()) {
        match (e.get(i), a.get(i)) {
            (Some(x), Some(y)) if x == y => {}
            (x, y) => {
                out.push_str(&format!(
                    "line {}:\n- {}\n+ {}\n",
                    i + 1,
                    x.unwrap_or(&""),
                    y.unwrap_or(&"")
                ));
            }
        }
    }
    out
}

/// Runs `promtool check metrics` on an exposition and returns its combined output and whether
/// it passed. promtool comes from Debian's `prometheus` package; the README's test command
/// installs it.
pub fn promtool_check_metrics(exposition: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool not found: install Debian's prometheus package (the README's test command does)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(exposition.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool ran");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Asserts that `promtool check metrics` accepts an exposition without a single complaint.
pub fn assert_promtool_clean(exposition: &str, what: &str) {
    let (ok, out) = promtool_check_metrics(exposition);
    assert!(ok && out.trim().is_empty(), "{what}: promtool: {out}");
}
