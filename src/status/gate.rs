//! How many status pages are built at once, and where.
//!
//! Building a page is CPU work that grows with the tenants, and the page needs no login unless
//! the web config asks for one. So pages are built on tokio's blocking pool (never on the async
//! workers that answer `/metrics` and `/-/healthy`), at most half the cores at a time, so that a
//! client looping on the status page leaves the other half to scrapes. Requests beyond that wait
//! a little in a bounded queue; past it, or after waiting too long, they are told to come back.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// The queue is full, or a slot did not free up in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// Runs page builds on the blocking pool, a few at a time.
#[derive(Debug)]
pub struct Gate {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    max_wait: Duration,
}

impl Default for Gate {
    /// Half the cores (at least one) build pages; 32 requests wait, for up to 5 seconds each.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Gate::new((cores / 2).max(1), 32, Duration::from_secs(5))
    }
}

impl Gate {
    /// At most `concurrent` builds at once; `max_waiting` requests wait for a turn, each for at
    /// most `max_wait`.
    pub fn new(concurrent: usize, max_waiting: usize, max_wait: Duration) -> Gate {
        Gate {
            permits: Arc::new(Semaphore::new(concurrent.max(1))),
            waiting: AtomicUsize::new(0),
            max_waiting,
            max_wait,
        }
    }

    /// Runs `build` on the blocking pool once a slot is free. The slot stays taken until `build`
    /// returns, even if the request that asked for it has gone: the CPU is still in use.
    pub async fn run<T, F>(&self, build: F) -> Result<T, Busy>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                // Counted out on drop: a client that hangs up while waiting leaves the queue.
                let _queued = Queued::join(&self.waiting, self.max_waiting).ok_or(Busy)?;
                let waited =
                    tokio::time::timeout(self.max_wait, Arc::clone(&self.permits).acquire_owned())
                        .await;
                match waited {
                    Ok(Ok(permit)) => permit,
                    // Timed out (or the semaphore closed, which never happens).
                    _ => return Err(Busy),
                }
            }
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            build()
        })
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "building a status page failed");
            Busy
        })
    }
}

/// A place in the queue, given back when dropped.
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    /// A place, or `None` when `max` requests already wait.
    fn join(waiting: &'a AtomicUsize, max: usize) -> Option<Queued<'a>> {
        let place = Queued(waiting);
        // When the queue was full, dropping `place` gives the count back.
        (waiting.fetch_add(1, Ordering::AcqRel) < max).then_some(place)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn excess_requests_wait_then_are_refused() {
        let gate = Arc::new(Gate::new(1, 1, Duration::from_secs(5)));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let first = tokio::spawn({
            let gate = Arc::clone(&gate);
            async move { gate.run(move || hold.recv().is_ok()).await }
        });
        // The first build holds the only slot; wait until it has it.
        while gate.permits.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let second = tokio::spawn({
            let gate = Arc::clone(&gate);
            async move { gate.run(|| 2).await }
        });
        while gate.waiting.load(Ordering::Acquire) == 0 {
            tokio::task::yield_now().await;
        }
        // The queue holds one: a third is refused at once.
        assert_eq!(gate.run(|| 3).await, Err(Busy));
        // A waiter that gives up (its client hung up) leaves the queue.
        second.abort();
        assert!(second.await.unwrap_err().is_cancelled());
        assert_eq!(gate.waiting.load(Ordering::Acquire), 0);
        let third = tokio::spawn({
            let gate = Arc::clone(&gate);
            async move { gate.run(|| 3).await }
        });
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap(), Ok(true));
        assert_eq!(third.await.unwrap(), Ok(3));
    }
}
