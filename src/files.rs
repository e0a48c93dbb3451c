//! Reading the files an operator points the exporter at: the config file, secrets, certificates
//! and keys, the web config. Only regular files are read, and at most a given size, so that a
//! FIFO, `/dev/zero` or a runaway file is refused with a message instead of hanging the
//! exporter or filling its memory. Owns reading and change detection; never parses.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The largest config file (and web config) read: far above any real one, even with hundreds
/// of tenants, and small enough to parse in well under a second.
pub const CONFIG_MAX_BYTES: u64 = 4 << 20;
/// The largest secret or password file read.
pub const SECRET_MAX_BYTES: u64 = 64 << 10;
/// The largest certificate, key, CA bundle or PKCS#12 file read.
pub const PEM_MAX_BYTES: u64 = 1 << 20;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Opening, inspecting or reading it failed.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// It is a FIFO, a device, a socket or a directory.
    #[error("cannot read {}: not a regular file but a {kind}", path.display())]
    NotRegular {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// It is larger than the limit for its kind.
    #[error("cannot read {}: larger than {limit} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// A text file that is not UTF-8.
    #[error("cannot read {}: not UTF-8 text", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
}

/// Reads a regular file of at most `limit` bytes.
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    // Look before opening, for a clear message without touching a device.
    check_regular(path, &std::fs::metadata(path).map_err(io)?)?;
    // The path may be swapped for a FIFO between the look and the open: opened without
    // O_NONBLOCK, a FIFO blocks until a writer appears, and the thread with it. Opened
    // non-blocking it returns at once, and what was opened is checked below.
    let file = open_nonblocking(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    check_regular(path, &meta)?;
    if meta.len() > limit {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    let mut data = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // A file that grows while being read still stops at the limit.
    file.take(limit + 1).read_to_end(&mut data).map_err(io)?;
    if data.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(data)
}

/// Reads a regular UTF-8 text file of at most `limit` bytes, without a leading byte order mark.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    let data = read(path, limit)?;
    let text = String::from_utf8(data).map_err(|_| ReadError::NotUtf8 {
        path: path.to_path_buf(),
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        // Windows editors write a BOM; YAML and PEM readers do not expect one.
        Some(rest) => rest.to_string(),
        None => text,
    })
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK changes nothing for a regular file: reads of one never block on it.
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

fn check_regular(path: &Path, meta: &std::fs::Metadata) -> Result<(), ReadError> {
    let ft = meta.file_type();
    if ft.is_file() {
        return Ok(());
    }
    let kind = if ft.is_dir() {
        "directory"
    } else {
        special_kind(&ft)
    };
    Err(ReadError::NotRegular {
        path: path.to_path_buf(),
        kind,
    })
}

#[cfg(unix)]
fn special_kind(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "FIFO"
    } else if ft.is_char_device() {
        "character device"
    } else if ft.is_block_device() {
        "block device"
    } else if ft.is_socket() {
        "socket"
    } else {
        "special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "special file"
}

/// What identifies one version of a file cheaply: its size, modification time and (on Unix)
/// inode, so that an atomic replace (Kubernetes' secret symlink swap, `mv`) is seen even
/// within the same second. `None` when the file cannot be inspected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl Stamp {
    /// The stamp of `path` now, following symlinks.
    pub fn of(path: &Path) -> Option<Stamp> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode: inode(&meta),
        })
    }
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.ino()
}

#[cfg(not(unix))]
fn inode(_: &std::fs::Metadata) -> u64 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_directories_are_refused() {
        let err = read(Path::new("/dev/zero"), 10).unwrap_err().to_string();
        assert_eq!(
            err,
            "cannot read /dev/zero: not a regular file but a character device"
        );
        let err = read(Path::new("/"), 10).unwrap_err().to_string();
        assert_eq!(err, "cannot read /: not a regular file but a directory");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_opens_without_a_writer_and_is_refused() {
        let path = std::env::temp_dir().join(format!("files-fifo-{}", std::process::id()));
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(made.success());
        // What `read` does once the path passed its first look: this must not block.
        let file = open_nonblocking(&path).unwrap();
        let err = check_regular(&path, &file.metadata().unwrap()).unwrap_err();
        assert!(
            matches!(err, ReadError::NotRegular { kind: "FIFO", .. }),
            "{err}"
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn files_over_the_limit_are_refused_and_a_bom_is_dropped() {
        let path = std::env::temp_dir().join(format!("files-test-{}", std::process::id()));
        std::fs::write(&path, "\u{feff}abc").unwrap();
        assert_eq!(read_text(&path, 100).unwrap(), "abc");
        let err = read(&path, 4).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge { limit: 4, .. }), "{err}");
        std::fs::remove_file(&path).unwrap();
    }
}
