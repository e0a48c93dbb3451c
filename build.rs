//! Records the git revision and the compiler version for `intune_exporter_build_info`.

use std::process::Command;

fn main() {
    let revision = std::env::var("INTUNE_EXPORTER_REVISION")
        .ok()
        .or_else(|| {
            Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .and_then(|o| String::from_utf8(o.stdout).ok())
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let rustc_version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.split_whitespace().nth(1).map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=INTUNE_EXPORTER_REVISION={revision}");
    println!("cargo:rustc-env=INTUNE_EXPORTER_RUSTC_VERSION={rustc_version}");
    println!("cargo:rerun-if-env-changed=INTUNE_EXPORTER_REVISION");
    // Run again when the checked-out commit changes. Git says where its files are: in a linked
    // worktree `.git` is a file and HEAD lives elsewhere, and a path that does not exist would
    // make cargo run this script on every build. Without git (a source tarball, a Docker
    // context without .git) nothing is watched but the variable above.
    for name in ["HEAD", "refs/heads", "packed-refs"] {
        if let Some(path) = git_path(name).filter(|p| std::path::Path::new(p).exists()) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

/// Where git keeps `name` for this checkout (`git rev-parse --git-path`), if git is here.
fn git_path(name: &str) -> Option<String> {
    Command::new("git")
        .args(["rev-parse", "--git-path", name])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
}
