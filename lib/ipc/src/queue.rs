//! Queue memory in proportion to the queue: what an endpoint or a
//! notification keeps once its waiters are gone.
//!
//! A `VecDeque` never gives memory back by itself, so without this an
//! endpoint that once held a thousand waiters would keep room for a
//! thousand, paid for by nobody, and one set of threads could leave such
//! a queue behind on every endpoint in turn (issue 14). After every
//! removal [`trim`] keeps a queue's room at most [`KEEP`] entries when it
//! is empty and at most four times its length otherwise, so the kernel can
//! charge an idle object for [`KEEP`] entries and each waiting thread for
//! four.

use alloc::collections::VecDeque;

/// Entries of room a queue may keep however short it gets.
pub const KEEP: usize = 4;

/// Gives room back after a removal, if the queue uses a quarter of its room
/// or less and holds room for more than [`KEEP`]: an empty queue frees its
/// buffer (no allocation); a shorter one moves to a buffer of its own size
/// if the heap has one (a failed allocation leaves it as it was, to be
/// tried again at the next removal). O(1) unless it moves, and a move of
/// `n` entries follows at least `3n` removals, so O(1) amortised.
pub(crate) fn trim<T>(q: &mut VecDeque<T>) {
    if q.capacity() <= KEEP || q.len() > q.capacity() / 4 {
        return;
    }
    if q.is_empty() {
        *q = VecDeque::new();
        return;
    }
    let mut smaller = VecDeque::new();
    if smaller.try_reserve_exact(q.len().max(KEEP)).is_ok() {
        smaller.extend(q.drain(..));
        *q = smaller;
    }
}

/// The bound [`trim`] keeps (while the heap does not fail it): room for at
/// most [`KEEP`] entries, or four per entry.
pub(crate) fn in_proportion<T>(q: &VecDeque<T>) -> bool {
    q.capacity() <= KEEP.max(4 * q.len())
}
