//! The web config in force, re-read when it changes: on every new connection the web config
//! file and the certificate, key and CA files it names are looked at (one `stat` each), and
//! read again only when one of them changed, so a rotated certificate or a new password hash
//! takes effect without a restart, as with the exporter toolkit. A change that does not
//! validate is logged once and the last good configuration stays in force. Owns caching and
//! swapping; parsing is [`super::config`].

use super::auth::Users;
use super::config::{WebConfig, WebConfigError};
use super::tls;
use crate::files::Stamp;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One validated web config with what serving it needs built.
#[derive(Debug)]
pub struct Active {
    /// The settings.
    pub config: WebConfig,
    /// The TLS server configuration, when TLS is on.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Basic auth users.
    pub users: Arc<Users>,
}

impl Active {
    /// No web config: plain HTTP, no authentication.
    pub fn plain() -> Active {
        Active {
            config: WebConfig {
                http2: true,
                ..WebConfig::default()
            },
            tls: None,
            users: Users::new(Default::default()),
        }
    }

    fn build(path: &Path) -> Result<Active, WebConfigError> {
        let config = WebConfig::load(path)?;
        let tls = match &config.tls {
            None => None,
            Some(s) => Some(Arc::new(tls::server_config(s, config.http2).map_err(
                |problem| WebConfigError {
                    file: path.to_path_buf(),
                    problems: vec![problem],
                },
            )?)),
        };
        let users = Users::new(config.users.clone());
        Ok(Active { config, tls, users })
    }
}

#[derive(Debug)]
struct Cached {
    stamps: Vec<Option<Stamp>>,
    active: Arc<Active>,
    /// The stamps of a change that failed, so it is logged once, not on every connection.
    refused: Option<Vec<Option<Stamp>>>,
    /// A change is being read.
    rebuilding: bool,
}

/// How long the connection that noticed a change waits for it to be read before it is served
/// with the configuration in force. Reading takes milliseconds (no bcrypt runs then); this
/// bounds a file system that hangs.
const REBUILD_WAIT: Duration = Duration::from_secs(5);

/// The web config file, if any, and the configuration in force.
#[derive(Debug)]
pub struct WebConfigFile {
    path: Option<PathBuf>,
    tls: bool,
    cached: Mutex<Cached>,
}

impl WebConfigFile {
    /// Reads and validates the file at start; an error here stops the exporter.
    pub fn load(path: Option<&Path>) -> Result<WebConfigFile, WebConfigError> {
        let active = match path {
            Some(p) => Active::build(p)?,
            None => Active::plain(),
        };
        let stamps = path.map(|p| stamps(p, &active)).unwrap_or_default();
        Ok(WebConfigFile {
            path: path.map(Path::to_path_buf),
            tls: active.tls.is_some(),
            cached: Mutex::new(Cached {
                stamps,
                active: Arc::new(active),
                refused: None,
                rebuilding: false,
            }),
        })
    }

    /// Whether listeners speak TLS; fixed at start, as in the toolkit.
    pub fn tls(&self) -> bool {
        self.tls
    }

    /// The configuration for a new connection, re-read first if a file changed. The files are
    /// read on the blocking pool, one reading at a time; connections arriving meanwhile get
    /// the configuration in force rather than waiting.
    pub async fn current(self: &Arc<Self>) -> Arc<Active> {
        let active = Arc::clone(&self.lock().active);
        let Some(path) = self.path.clone() else {
            return active;
        };
        let now = stamps(&path, &active);
        {
            let mut cached = self.lock();
            if now == cached.stamps || cached.refused.as_ref() == Some(&now) || cached.rebuilding {
                return Arc::clone(&cached.active);
            }
            cached.rebuilding = true;
        }
        let this = Arc::clone(self);
        let rebuild = tokio::task::spawn_blocking(move || {
            let result = this.build(&path);
            this.settle(&path, now, result);
        });
        if tokio::time::timeout(REBUILD_WAIT, rebuild).await.is_err() {
            tracing::warn!(
                "reading the changed web config takes longer than {}s; serving with the one in force",
                REBUILD_WAIT.as_secs()
            );
        }
        Arc::clone(&self.lock().active)
    }

    /// Puts the outcome of reading a change in force, or remembers that it was refused.
    fn settle(&self, path: &Path, now: Vec<Option<Stamp>>, result: Result<Active, WebConfigError>) {
        let mut cached = self.lock();
        cached.rebuilding = false;
        match result {
            Ok(active) => {
                tracing::info!(file = %path.display(), "web config changed; using the new one");
                cached.stamps = stamps(path, &active);
                cached.active = Arc::new(active);
                cached.refused = None;
            }
            Err(err) => {
                tracing::error!(error = %err, "the changed web config is refused; the last good one stays in force");
                cached.refused = Some(now);
            }
        }
    }

    /// Reads and validates the file again (for a reload) without putting it in force; `None`
    /// when there is no web config file.
    pub fn load_new(&self) -> Result<Option<Active>, WebConfigError> {
        self.path.as_deref().map(|p| self.build(p)).transpose()
    }

    /// Puts a configuration from [`WebConfigFile::load_new`] in force.
    pub fn install(&self, active: Active) {
        let Some(path) = &self.path else {
            return;
        };
        let mut cached = self.lock();
        cached.stamps = stamps(path, &active);
        cached.active = Arc::new(active);
        cached.refused = None;
    }

    fn build(&self, path: &Path) -> Result<Active, WebConfigError> {
        let active = Active::build(path)?;
        if active.tls.is_some() != self.tls {
            return Err(WebConfigError {
                file: path.to_path_buf(),
                problems: vec![
                    "tls_server_config: switching TLS on or off needs a restart".to_string()
                ],
            });
        }
        Ok(active)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cached> {
        match self.cached.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

fn stamps(path: &Path, active: &Active) -> Vec<Option<Stamp>> {
    let mut v = vec![Stamp::of(path)];
    if let Some(t) = &active.config.tls {
        v.extend(t.files().into_iter().map(Stamp::of));
    }
    v
}
