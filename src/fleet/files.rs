//! `tenant_files`: files that each hold a YAML list of tenant entries, re-read when they change,
//! like Prometheus' `file_sd_configs`.
//!
//! The patterns are checked every [`REFRESH`]; a file is read again only when its size or
//! modification time changed (or it appeared). A file that cannot be read or is invalid keeps
//! its last good tenants and is logged with every problem; a file that disappears takes its
//! tenants with it. Checking by polling rather than inotify also sees Kubernetes ConfigMap
//! updates, which swap a symlink.

use super::Origin;
use crate::config::{self, Auth, TenantConfig};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How often the patterns are checked for new, changed and removed files.
pub const REFRESH: Duration = Duration::from_secs(5);

/// What a file held when it was last read.
#[derive(Debug)]
struct FileState {
    stamp: (u64, Option<SystemTime>),
    tenants: Vec<TenantConfig>,
}

/// The state of the tenant files between two checks.
#[derive(Debug)]
pub struct TenantFiles {
    patterns: Vec<PathBuf>,
    defaults: Option<Arc<Auth>>,
    files: BTreeMap<PathBuf, FileState>,
    healthy: bool,
}

impl TenantFiles {
    /// Files matching `patterns`; entries without `auth` sign in with `defaults`.
    pub fn new(patterns: Vec<PathBuf>, defaults: Option<Arc<Auth>>) -> Self {
        Self {
            patterns,
            defaults,
            files: BTreeMap::new(),
            healthy: true,
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
        let mut healthy = true;
        let mut seen = BTreeMap::new();
        for pattern in &self.patterns {
            match config::expand_pattern(pattern) {
                Ok(paths) => {
                    for path in paths {
                        seen.insert(path, ());
                    }
                }
                Err(err) => {
                    healthy = false;
                    tracing::warn!(pattern = %pattern.display(), error = %err, "cannot list tenant files");
                }
            }
        }
        let before = self.files.len();
        self.files.retain(|path, _| seen.contains_key(path));
        if self.files.len() != before {
            changed = true;
        }
        for path in seen.into_keys() {
            let stamp = match std::fs::metadata(&path) {
                Ok(m) => (m.len(), m.modified().ok()),
                Err(err) => {
                    healthy = false;
                    tracing::warn!(file = %path.display(), error = %err, "cannot read tenant file");
                    continue;
                }
            };
            if self.files.get(&path).is_some_and(|f| f.stamp == stamp) {
                continue;
            }
            match config::load_tenant_file(&path, self.defaults.as_ref(), &config::process_env) {
                Ok(tenants) => {
                    tracing::info!(file = %path.display(), tenants = tenants.len(), "read tenant file");
                    self.files.insert(path, FileState { stamp, tenants });
                    changed = true;
                }
                Err(err) => {
                    healthy = false;
                    // Keep the file's last good tenants; a half-written file must not drop a
                    // customer's alerts. Retry on the next check even if the stamp is the same.
                    tracing::warn!(error = %err, "tenant file refused; keeping its last good tenants");
                    if let Some(f) = self.files.get_mut(&path) {
                        f.stamp = (u64::MAX, None);
                    }
                }
            }
        }
        self.healthy = healthy;
        changed.then(|| self.tenants())
    }

    /// Whether the last check read every file without error.
    pub fn healthy(&self) -> bool {
        self.healthy
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
