//! The binary record: eight little-endian `u64` words (layout in the crate
//! docs). Decoding is strict: it accepts exactly what [`Record::encode`]
//! produces, so a garbled or foreign record is reported, never misread.

use crate::event::{EventType, MAX_ARGS};
use core::fmt;

/// The layout version in every header. Bumped when the meaning of a word,
/// a header field or an existing event's arguments changes; not for new
/// events or reason codes, which only take new numbers.
pub const FORMAT_VERSION: u8 = 1;
/// Words in a record.
pub const WORDS: usize = 8;
/// Bytes in a record.
pub const BYTES: usize = WORDS * 8;

/// Header bit positions (word 1).
const CPU_SHIFT: u32 = 16;
const VERSION_SHIFT: u32 = 32;
const ARG_COUNT_SHIFT: u32 = 40;
const FLAGS_SHIFT: u32 = 48;

/// One trace event. `args` past the event's argument count are not
/// recorded: [`Record::encode`] writes them as zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Record {
    /// The CPU's time-stamp counter when the event happened.
    pub timestamp: u64,
    pub cpu: u16,
    /// The thread running on `cpu` (0: none, e.g. before the first).
    pub thread: u64,
    pub event: EventType,
    /// Shared by the records of one causal chain, e.g. an IPC call, its
    /// receive, its reply and the wake-up; 0 for none.
    pub causal: u64,
    pub args: [u64; MAX_ARGS],
}

/// A zeroed `trace.lost` record (nothing lost): filler for read buffers.
impl Default for Record {
    fn default() -> Record {
        Record::new(EventType::TraceLost, [0; MAX_ARGS])
    }
}

/// The header word's fields, without checking them: what a tool can still
/// show of a record it cannot decode (say, an event newer than it knows).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    pub event: u16,
    pub cpu: u16,
    pub version: u8,
    pub arg_count: u8,
    /// None are defined in version 1; they must be zero.
    pub flags: u16,
}

impl Header {
    pub const fn pack(self) -> u64 {
        self.event as u64
            | (self.cpu as u64) << CPU_SHIFT
            | (self.version as u64) << VERSION_SHIFT
            | (self.arg_count as u64) << ARG_COUNT_SHIFT
            | (self.flags as u64) << FLAGS_SHIFT
    }

    pub const fn unpack(word: u64) -> Header {
        Header {
            event: word as u16,
            cpu: (word >> CPU_SHIFT) as u16,
            version: (word >> VERSION_SHIFT) as u8,
            arg_count: (word >> ARG_COUNT_SHIFT) as u8,
            flags: (word >> FLAGS_SHIFT) as u16,
        }
    }
}

/// Why words are not a record of this format version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Written by another format version (0: a zeroed, never written slot).
    UnknownVersion(u8),
    /// An event number this catalogue does not define (perhaps newer).
    UnknownEvent(u16),
    /// The header's argument count is not the event's.
    ArgCount { event: EventType, count: u8 },
    /// An argument past the event's count is not zero.
    UnusedArgNotZero { event: EventType, index: u8 },
    /// Reserved header flags are set.
    ReservedFlags(u16),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecodeError::UnknownVersion(v) => {
                write!(f, "trace format version {v}, expected {FORMAT_VERSION}")
            }
            DecodeError::UnknownEvent(e) => write!(f, "unknown trace event {e}"),
            DecodeError::ArgCount { event, count } => write!(
                f,
                "{event} has {} arguments, the header says {count}",
                event.args().len()
            ),
            DecodeError::UnusedArgNotZero { event, index } => {
                write!(f, "{event}: unused argument {index} is not zero")
            }
            DecodeError::ReservedFlags(flags) => {
                write!(f, "reserved header flags {flags:#x} are set")
            }
        }
    }
}

impl core::error::Error for DecodeError {}

impl Record {
    /// A record with the header fields zero, for the caller to fill in.
    pub const fn new(event: EventType, args: [u64; MAX_ARGS]) -> Record {
        Record {
            timestamp: 0,
            cpu: 0,
            thread: 0,
            event,
            causal: 0,
            args,
        }
    }

    pub const fn header(&self) -> Header {
        Header {
            event: self.event as u16,
            cpu: self.cpu,
            version: FORMAT_VERSION,
            arg_count: self.event.args().len() as u8,
            flags: 0,
        }
    }

    pub fn encode(&self) -> [u64; WORDS] {
        let used = self.event.args().len();
        let mut words = [
            self.timestamp,
            self.header().pack(),
            self.thread,
            self.causal,
            0,
            0,
            0,
            0,
        ];
        for (i, (word, arg)) in words[4..].iter_mut().zip(self.args).enumerate() {
            if i < used {
                *word = arg;
            }
        }
        words
    }

    pub fn decode(words: [u64; WORDS]) -> Result<Record, DecodeError> {
        let [timestamp, header, thread, causal, args @ ..] = words;
        let h = Header::unpack(header);
        if h.version != FORMAT_VERSION {
            return Err(DecodeError::UnknownVersion(h.version));
        }
        let event = EventType::from_raw(h.event).ok_or(DecodeError::UnknownEvent(h.event))?;
        let used = event.args().len();
        if usize::from(h.arg_count) != used {
            return Err(DecodeError::ArgCount {
                event,
                count: h.arg_count,
            });
        }
        if h.flags != 0 {
            return Err(DecodeError::ReservedFlags(h.flags));
        }
        if let Some(index) = (used..MAX_ARGS).find(|&i| args[i] != 0) {
            return Err(DecodeError::UnusedArgNotZero {
                event,
                index: index as u8,
            });
        }
        Ok(Record {
            timestamp,
            cpu: h.cpu,
            thread,
            event,
            causal,
            args,
        })
    }

    /// The words in order, each little-endian: the format of trace files
    /// and of buffers copied to user space.
    pub fn to_bytes(&self) -> [u8; BYTES] {
        let mut bytes = [0; BYTES];
        for (chunk, word) in bytes.chunks_exact_mut(8).zip(self.encode()) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        bytes
    }

    pub fn from_bytes(bytes: &[u8; BYTES]) -> Result<Record, DecodeError> {
        let mut words = [0; WORDS];
        for (word, chunk) in words.iter_mut().zip(bytes.as_chunks::<8>().0) {
            *word = u64::from_le_bytes(*chunk);
        }
        Record::decode(words)
    }
}

/// `TIMESTAMP cpuN` and then [`crate::describe`].
impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} cpu{} {}", self.timestamp, self.cpu, describe(self))
    }
}

/// The event by name with its arguments by name, reasons by name:
/// `sched.block thread=5 reason=endpoint_recv object=12`, then
/// `cause=ID` if the record has a causal id.
pub fn describe(record: &Record) -> Describe<'_> {
    Describe(record)
}

/// See [`describe`].
#[derive(Clone, Copy, Debug)]
pub struct Describe<'a>(&'a Record);

impl fmt::Display for Describe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        write!(f, "{} thread={}", r.event, r.thread)?;
        for (arg, value) in r.event.args().iter().zip(r.args) {
            write!(f, " {}=", arg.name)?;
            arg.kind.write(value, f)?;
        }
        if r.causal != 0 {
            write!(f, " cause={}", r.causal)?;
        }
        Ok(())
    }
}
