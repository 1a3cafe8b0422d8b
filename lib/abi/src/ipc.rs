//! IPC message layout: what travels in registers.
//!
//! A message is up to [`MSG_WORDS`] words plus, optionally, one capability.
//! The sender's registers: `rdi` the endpoint (0 for `ipc_reply`), `rsi` a
//! [`MsgInfo`], `rdx`, `r10`, `r8`, `r9` the words. A receiver gets `rdx`
//! the badge of the capability the sender used, `rsi` a [`RecvInfo`], and
//! the words in `rdi`, `r10`, `r8`, `r9`.

use core::fmt;

/// Words in one message.
pub const MSG_WORDS: usize = 4;

/// A message as a receiver sees it (and a caller its reply).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Received {
    /// The badge of the capability the sender used (0: unbadged).
    pub badge: u64,
    pub info: RecvInfo,
    pub words: [u64; MSG_WORDS],
}

/// Describes an outgoing message, or how to receive one.
///
/// Bits 0..3: word count (0 to 4); bit 4: do not block; bits 8..16: the
/// slot of a capability to send (0 = none), or for a receive the empty slot
/// where a received capability goes (0 = refuse capabilities); bits 32..64:
/// a timeout in microseconds for the blocking part (0 = none). Other bits
/// are reserved and must be zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct MsgInfo {
    pub words: u8,
    pub nonblocking: bool,
    pub cap_slot: u8,
    pub timeout_us: u32,
}

const WORDS_MASK: u64 = 0b111;
const NONBLOCK: u64 = 1 << 4;
const SLOT_SHIFT: u32 = 8;
const TIMEOUT_SHIFT: u32 = 32;
const INFO_DEFINED: u64 = WORDS_MASK | NONBLOCK | 0xff << SLOT_SHIFT | 0xffff_ffff << TIMEOUT_SHIFT;

impl MsgInfo {
    /// `words` words, blocking, no capability, no timeout.
    pub const fn words(words: u8) -> MsgInfo {
        MsgInfo {
            words,
            nonblocking: false,
            cap_slot: 0,
            timeout_us: 0,
        }
    }

    pub const fn to_raw(self) -> u64 {
        self.words as u64 & WORDS_MASK
            | if self.nonblocking { NONBLOCK } else { 0 }
            | (self.cap_slot as u64) << SLOT_SHIFT
            | (self.timeout_us as u64) << TIMEOUT_SHIFT
    }

    /// `None` if reserved bits are set or the word count exceeds
    /// [`MSG_WORDS`].
    pub const fn from_raw(raw: u64) -> Option<MsgInfo> {
        if raw & !INFO_DEFINED != 0 || (raw & WORDS_MASK) as usize > MSG_WORDS {
            return None;
        }
        Some(MsgInfo {
            words: (raw & WORDS_MASK) as u8,
            nonblocking: raw & NONBLOCK != 0,
            cap_slot: (raw >> SLOT_SHIFT) as u8,
            timeout_us: (raw >> TIMEOUT_SHIFT) as u32,
        })
    }

    /// The timeout of the blocking part in nanoseconds: 0 for a
    /// non-blocking call, `u64::MAX` for none.
    pub const fn timeout_ns(self) -> u64 {
        if self.nonblocking {
            0
        } else if self.timeout_us == 0 {
            u64::MAX
        } else {
            self.timeout_us as u64 * 1000
        }
    }
}

impl fmt::Display for MsgInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} words", self.words)?;
        if self.cap_slot != 0 {
            write!(f, ", cap h{}", self.cap_slot)?;
        }
        if self.nonblocking {
            f.write_str(", nonblocking")?;
        } else if self.timeout_us != 0 {
            write!(f, ", timeout {} us", self.timeout_us)?;
        }
        Ok(())
    }
}

/// What a receiver learns besides the badge and the words, in `rsi`.
///
/// Bits 0..3: word count; bit 5: a capability arrived in the receive slot;
/// bit 6: the message is a call (answer with `ipc_reply` or
/// `ipc_reply_recv`); bits 32..64: the low half of the message's causal ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct RecvInfo {
    pub words: u8,
    pub cap_received: bool,
    pub is_call: bool,
    pub causal: u32,
}

const CAP_RECEIVED: u64 = 1 << 5;
const IS_CALL: u64 = 1 << 6;

impl RecvInfo {
    pub const fn to_raw(self) -> u64 {
        self.words as u64 & WORDS_MASK
            | if self.cap_received { CAP_RECEIVED } else { 0 }
            | if self.is_call { IS_CALL } else { 0 }
            | (self.causal as u64) << TIMEOUT_SHIFT
    }

    pub const fn from_raw(raw: u64) -> RecvInfo {
        RecvInfo {
            words: (raw & WORDS_MASK) as u8,
            cap_received: raw & CAP_RECEIVED != 0,
            is_call: raw & IS_CALL != 0,
            causal: (raw >> TIMEOUT_SHIFT) as u32,
        }
    }
}
