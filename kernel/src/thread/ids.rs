//! Thread ids as one word (for atomics and the context switch's entry
//! argument), and back.

use super::ThreadId;

/// A thread id as one word (for atomics), and back.
pub fn id_to_u64(id: ThreadId) -> u64 {
    ((id.generation as u64) << 32) | id.index as u64
}

pub fn id_from_u64(v: u64) -> ThreadId {
    ThreadId {
        index: v as u32,
        generation: (v >> 32) as u32,
    }
}
