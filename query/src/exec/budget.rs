//! The limits a running statement stays within: a deadline, a memory allowance and a row cap.
//! Checked as work proceeds, so a runaway query stops with a clear error instead of taking the
//! server down.

use super::{ExecLimits, QueryError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// What a statement may still use.
#[derive(Debug)]
pub(crate) struct Budget {
    started: Instant,
    limits: ExecLimits,
    used: AtomicUsize,
}

impl Budget {
    pub(crate) fn new(limits: ExecLimits) -> Budget {
        Budget {
            started: Instant::now(),
            limits,
            used: AtomicUsize::new(0),
        }
    }

    /// Fails once the deadline has passed.
    pub(crate) fn check_time(&self) -> Result<(), QueryError> {
        if self.started.elapsed() > self.limits.timeout {
            return Err(QueryError::Budget(format!(
                "query stopped after {:.1} s, its time budget; narrow the time range, filter on \
                 tags, or group by a coarser interval (the budget is [query] timeout_s)",
                self.limits.timeout.as_secs_f64()
            )));
        }
        Ok(())
    }

    /// Takes `bytes` from the memory allowance.
    pub(crate) fn charge(&self, bytes: usize) -> Result<(), QueryError> {
        let now = self.used.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if now > self.limits.max_memory_bytes {
            return Err(QueryError::Budget(format!(
                "query stopped: it needed more than {} MiB of memory, its budget; narrow the \
                 time range, select fewer fields, or aggregate with coarser groups (the budget \
                 is [query] max_memory_mb)",
                self.limits.max_memory_bytes >> 20
            )));
        }
        Ok(())
    }

    /// Gives back `bytes` taken with [`Budget::charge`].
    pub(crate) fn release(&self, bytes: usize) {
        self.used.fetch_sub(
            bytes.min(self.used.load(Ordering::Relaxed)),
            Ordering::Relaxed,
        );
    }

    /// Fails when a result would have more than the row cap.
    pub(crate) fn check_rows(&self, rows: usize) -> Result<(), QueryError> {
        if rows > self.limits.max_rows {
            return Err(QueryError::Budget(format!(
                "query stopped: more than {} result rows, its budget; add LIMIT, a coarser \
                 time(...) interval or a shorter range (the budget is [query] max_rows)",
                self.limits.max_rows
            )));
        }
        Ok(())
    }
}
