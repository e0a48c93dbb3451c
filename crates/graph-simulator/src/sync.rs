//! Locking that outlives a panicking request. A leaf.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// A poisoned lock only means another request panicked; the data (a map, a log) is still usable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
