//! Graceful shutdown: waiting for SIGTERM/SIGINT, telling every task to stop, and knowing when
//! the tasks that were in flight have finished.

use tokio::sync::{mpsc, watch};

/// Tells every task that shutdown began. Cloned into each task that must stop.
#[derive(Debug, Clone)]
pub(crate) struct Shutdown {
    rx: watch::Receiver<bool>,
}

/// The sending side of [`Shutdown`].
#[derive(Debug)]
pub(crate) struct Trigger {
    tx: watch::Sender<bool>,
}

/// A new trigger and the signal it fires.
pub(crate) fn channel() -> (Trigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (Trigger { tx }, Shutdown { rx })
}

impl Trigger {
    /// Starts the shutdown; every [`Shutdown::wait`] returns.
    pub(crate) fn fire(&self) {
        self.tx.send_replace(true);
    }
}

impl Shutdown {
    /// Resolves once shutdown has begun (at once if it already has). Cancel-safe.
    pub(crate) async fn wait(&mut self) {
        // An error means the trigger is gone, which only happens when the server is ending.
        let _ = self.rx.wait_for(|stop| *stop).await;
    }

    /// Whether shutdown has begun.
    #[cfg(test)]
    pub(crate) fn is_fired(&self) -> bool {
        *self.rx.borrow()
    }
}

/// Counts live tasks: each holds a [`TaskGuard`]; [`Tracker::idle`] resolves once all are gone.
#[derive(Debug)]
pub(crate) struct Tracker {
    tx: mpsc::Sender<()>,
    rx: mpsc::Receiver<()>,
}

/// Held by a tracked task for as long as it runs.
#[derive(Debug, Clone)]
pub(crate) struct TaskGuard {
    _tx: mpsc::Sender<()>,
}

impl Tracker {
    /// A tracker with no tasks.
    pub(crate) fn new() -> Self {
        let (tx, rx) = mpsc::channel(1);
        Tracker { tx, rx }
    }

    /// A guard for one more task.
    pub(crate) fn guard(&self) -> TaskGuard {
        TaskGuard {
            _tx: self.tx.clone(),
        }
    }

    /// Resolves when every guard handed out has been dropped.
    pub(crate) async fn idle(self) {
        let Tracker { tx, mut rx } = self;
        drop(tx);
        // Nothing is ever sent; `recv` returns `None` once the last sender (guard) is dropped.
        let _ = rx.recv().await;
    }
}

/// Waits for SIGTERM or SIGINT (Ctrl-C) and returns its name.
pub(crate) async fn signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the server gracefully");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wait_returns_after_fire_and_tracker_after_last_guard() {
        let (trigger, shutdown) = channel();
        assert!(!shutdown.is_fired());
        let tracker = Tracker::new();
        let (done_tx, mut done_rx) = mpsc::channel::<()>(3);
        for _ in 0..3 {
            let mut s = shutdown.clone();
            let g = tracker.guard();
            let done = done_tx.clone();
            tokio::spawn(async move {
                s.wait().await;
                let _ = done.send(()).await;
                drop(g);
            });
        }
        drop(done_tx);
        trigger.fire();
        tracker.idle().await;
        let mut n = 0;
        while done_rx.recv().await.is_some() {
            n += 1;
        }
        assert_eq!(n, 3, "idle returned before every task finished");
        assert!(shutdown.is_fired());
    }
}
