//! Bounds on what the parser accepts, so hostile or generated input gets a clear error instead of
//! exhausting memory or the stack.

/// Default longest query text, in bytes (64 KiB).
pub const MAX_QUERY_LEN: usize = 64 * 1024;

/// Default deepest nesting of parentheses, calls, `IN` lists, `NOT` and unary `-` inside each
/// other. Each level is a round of recursive parser calls (about 30 KiB of stack per level in an
/// unoptimised build), so this keeps the worst case well inside a 2 MiB thread stack (tokio's
/// default) even in debug builds; a test checks it.
pub const MAX_NESTING: usize = 32;

/// Default deepest expression tree, counting every node: `a OR b OR c` is three levels deep
/// although nothing is nested. Operator chains are parsed by loops, but printing, comparing and
/// dropping a tree recurse once per level, which is cheap but not free.
pub const MAX_DEPTH: usize = 128;

/// Limits for one parse; [`Limits::default`] uses [`MAX_QUERY_LEN`], [`MAX_NESTING`] and
/// [`MAX_DEPTH`].
///
/// ```
/// use tally_query::{parse_statement_with, Limits};
/// let tight = Limits { max_query_len: 10, ..Limits::default() };
/// assert!(parse_statement_with("SELECT a FROM m", tight).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted query text in bytes.
    pub max_query_len: usize,
    /// Deepest accepted nesting (see [`MAX_NESTING`]).
    pub max_nesting: usize,
    /// Deepest accepted expression tree (see [`MAX_DEPTH`]).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_query_len: MAX_QUERY_LEN,
            max_nesting: MAX_NESTING,
            max_depth: MAX_DEPTH,
        }
    }
}
