//! `tenant_files`: files that each hold a YAML list of tenant entries, re-read when they change,
//! like Prometheus' `file_sd_configs`.
//!
//! The patterns are checked every [`REFRESH`]; a file is read again when it appeared or its
//! [`Stamp`] changed (size, modification and change times, device and inode: a file replaced by
//! one of the same size and time is still seen). A file that cannot be read (a dangling link,
//! a directory or FIFO matching the pattern, no permission), is invalid, or is empty or holds
//! only comments (a writer that truncates first leaves that for a moment) keeps its last good
//! tenants; the tenant-files health is 0 while any file is in that state. Each such problem is
//! logged once, summarised, when it appears or changes, not at every check. A file that
//! disappears takes its tenants with it; so does a file that says `[]`. Checking by polling
//! rather than inotify also sees Kubernetes ConfigMap updates, which swap a symlink.

use super::Origin;
use crate::config::{self, Auth, ConfigError, TenantConfig};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// How often the patterns are checked for new, changed and removed files.
pub const REFRESH: Duration = Duration::from_secs(5);

/// How often a refused file that did not change is read again anyway: what it refers to (a
/// secret file, an environment variable) may have been fixed instead.
const RETRY_REFUSED: Duration = Duration::from_secs(60);

/// Most problems of a refused file named in its log line; the count says how many there are.
const PROBLEMS_SHOWN: usize = 3;

/// Most characters of one problem in a log line.
const PROBLEM_CHARS: usize = 300;

/// What identifies one version of a file, following symlinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    /// Inode change time (seconds, nanoseconds): a rename over the file or a `chmod` moves it.
    changed: (i64, i64),
    device: u64,
    inode: u64,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        let (changed, device, inode) = {
            use std::os::unix::fs::MetadataExt;
            ((meta.ctime(), meta.ctime_nsec()), meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let (changed, device, inode) = ((0, 0), 0, 0);
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            changed,
            device,
            inode,
        }
    }
}

/// What is known of one matching file.
#[derive(Debug, Default)]
struct FileState {
    /// The stamp of the last read, good or refused; `None` when it could not be inspected.
    stamp: Option<Stamp>,
    /// When it was last read.
    read_at: Option<Instant>,
    /// The last good tenants (none before a first good read).
    tenants: Vec<TenantConfig>,
    /// Why the last read failed, as logged; `None` when it succeeded.
    problem: Option<String>,
}

/// The state of the tenant files between two checks.
#[derive(Debug)]
pub struct TenantFiles {
    patterns: Vec<PathBuf>,
    defaults: Option<Arc<Auth>>,
    files: BTreeMap<PathBuf, FileState>,
    /// Patterns whose folder cannot be listed, with the problem as logged.
    unlisted: BTreeMap<PathBuf, String>,
}

impl TenantFiles {
    /// Files matching `patterns`; entries without `auth` sign in with `defaults`.
    pub fn new(patterns: Vec<PathBuf>, defaults: Option<Arc<Auth>>) -> Self {
        Self {
            patterns,
            defaults,
            files: BTreeMap::new(),
            unlisted: BTreeMap::new(),
        }
    }

    /// Whether the patterns name any file at all.
    pub fn is_configured(&self) -> bool {
        !self.patterns.is_empty()
    }

    /// Checks the files; `Some(tenants)` when the set of tenants may have changed. Tenants are
    /// in file order, files sorted by path; a tenant listed in two files is kept once (the
    /// first) and logged.
    pub fn refresh(&mut self) -> Option<Vec<TenantConfig>> {
        let mut changed = false;
        let mut seen = BTreeMap::new();
        for pattern in &self.patterns {
            match config::expand_pattern(pattern) {
                Ok(paths) => {
                    if self.unlisted.remove(pattern).is_some() {
                        tracing::info!(pattern = %pattern.display(), "tenant files can be listed again");
                    }
                    for path in paths {
                        seen.insert(path, ());
                    }
                }
                Err(err) => {
                    // The files it named before are kept: a folder that cannot be listed for
                    // a moment must not drop their tenants.
                    for path in self.files.keys().filter(|p| p.parent() == pattern.parent()) {
                        seen.insert(path.clone(), ());
                    }
                    let problem = err.to_string();
                    if self.unlisted.get(pattern) != Some(&problem) {
                        tracing::warn!(pattern = %pattern.display(), error = %problem, "cannot list tenant files; keeping the last good tenants of its files");
                        self.unlisted.insert(pattern.clone(), problem);
                    }
                }
            }
        }
        let before = self.files.len();
        self.files.retain(|path, file| {
            let keep = seen.contains_key(path);
            if !keep {
                tracing::info!(file = %path.display(), tenants = file.tenants.len(), "tenant file removed; its tenants go with it");
            }
            keep
        });
        if self.files.len() != before {
            changed = true;
        }
        for path in seen.into_keys() {
            let file = self.files.entry(path.clone()).or_default();
            changed |= check(&path, file, self.defaults.as_ref());
        }
        changed.then(|| self.tenants())
    }

    /// Whether every file was read without error at its last read, and every folder listed.
    pub fn healthy(&self) -> bool {
        self.unlisted.is_empty() && self.files.values().all(|f| f.problem.is_none())
    }

    fn tenants(&self) -> Vec<TenantConfig> {
        let mut out: Vec<TenantConfig> = Vec::new();
        let mut seen = BTreeMap::new();
        for (path, file) in &self.files {
            for t in &file.tenants {
                if let Some(first) = seen.insert(t.tenant_id.clone(), path.clone()) {
                    tracing::warn!(
                        tenant_id = %t.tenant_id,
                        file = %path.display(),
                        first = %first.display(),
                        "tenant listed in two tenant files; keeping the first"
                    );
                    seen.insert(t.tenant_id.clone(), first);
                    continue;
                }
                out.push(t.clone());
            }
        }
        out
    }
}

/// Reads `path` again if it changed (or was refused a while ago); says whether its tenants
/// changed. Problems are logged when they appear or change, not at every check.
fn check(path: &std::path::Path, file: &mut FileState, defaults: Option<&Arc<Auth>>) -> bool {
    let stamp = match std::fs::metadata(path) {
        Ok(meta) => Stamp::of(&meta),
        Err(err) => {
            // A dangling link, or a folder without search permission: unreadable like any
            // other file, so its last good tenants stay.
            file.stamp = None;
            refuse(path, file, format!("cannot read {}: {err}", path.display()));
            return false;
        }
    };
    let unchanged = file.stamp == Some(stamp);
    let retry =
        file.problem.is_some() && file.read_at.is_none_or(|at| at.elapsed() >= RETRY_REFUSED);
    if unchanged && !retry {
        return false;
    }
    file.stamp = Some(stamp);
    file.read_at = Some(Instant::now());
    match config::load_tenant_file(path, defaults, &config::process_env) {
        Ok(tenants) => {
            tracing::info!(file = %path.display(), tenants = tenants.len(), "read tenant file");
            file.problem = None;
            file.tenants = tenants;
            true
        }
        Err(err) => {
            refuse(path, file, summary(&err));
            false
        }
    }
}

/// Records why `file` was refused, logging it if it is news.
fn refuse(path: &std::path::Path, file: &mut FileState, problem: String) {
    if file.problem.as_ref() == Some(&problem) {
        return;
    }
    // A half-written file must not drop a customer's alerts: its last good tenants stay.
    tracing::warn!(
        file = %path.display(),
        kept_tenants = file.tenants.len(),
        error = %problem,
        "tenant file refused; keeping its last good tenants"
    );
    file.problem = Some(problem);
}

/// One bounded line for a refused file: how many problems, and the first few.
fn summary(err: &ConfigError) -> String {
    match err {
        ConfigError::Invalid { file, problems } => {
            let shown: Vec<String> = problems
                .iter()
                .take(PROBLEMS_SHOWN)
                .map(|p| shorten(&p.to_string()))
                .collect();
            let more = problems.len().saturating_sub(PROBLEMS_SHOWN);
            let tail = if more > 0 {
                format!("; and {more} more")
            } else {
                String::new()
            };
            format!(
                "{}: {} problem(s): {}{tail}",
                file.display(),
                problems.len(),
                shown.join("; ")
            )
        }
        other => shorten(&other.to_string()),
    }
}

fn shorten(text: &str) -> String {
    let one_line = text.replace('\n', " ");
    if one_line.chars().count() <= PROBLEM_CHARS {
        return one_line;
    }
    let cut: String = one_line.chars().take(PROBLEM_CHARS).collect();
    format!("{cut}...")
}

/// The `origin` these tenants get.
pub const ORIGIN: Origin = Origin::File;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SecretString;

    fn defaults() -> Option<Arc<Auth>> {
        Some(Arc::new(Auth::ClientSecret {
            client_id: "00000000-0000-0000-0000-0000000000aa".to_string(),
            secret: SecretString::new("s".to_string()),
            secret_file: None,
        }))
    }

    fn ids(tenants: &[TenantConfig]) -> Vec<&str> {
        tenants.iter().map(|t| t.tenant_id.as_str()).collect()
    }

    #[test]
    fn files_are_read_when_they_change_and_bad_files_keep_their_last_good_tenants() {
        let dir = std::env::temp_dir().join(format!("tenant-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let a = dir.join("a.yml");
        std::fs::write(
            &a,
            "- tenant_id: 00000000-0000-0000-0000-000000000001\n  labels: {customer: acme}\n",
        )
        .unwrap();
        std::fs::write(dir.join("ignored.txt"), "not yaml [").unwrap();
        let mut files = TenantFiles::new(vec![dir.join("*.yml")], defaults());
        let got = files.refresh().unwrap();
        assert_eq!(ids(&got), ["00000000-0000-0000-0000-000000000001"]);
        assert_eq!(got[0].labels["customer"], "acme");
        assert!(files.healthy());
        assert!(files.refresh().is_none(), "nothing changed");

        let b = dir.join("b.yml");
        std::fs::write(&b, "- tenant_id: Contoso.onmicrosoft.com\n").unwrap();
        let got = files.refresh().unwrap();
        assert_eq!(
            ids(&got),
            [
                "00000000-0000-0000-0000-000000000001",
                "contoso.onmicrosoft.com"
            ]
        );

        std::fs::write(&a, "- tenant_id: not a tenant\n").unwrap();
        assert!(files.refresh().is_none(), "a refused file changes nothing");
        assert!(!files.healthy());

        std::fs::remove_file(&a).unwrap();
        let got = files.refresh().unwrap();
        assert_eq!(ids(&got), ["contoso.onmicrosoft.com"]);
        assert!(files.healthy());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
