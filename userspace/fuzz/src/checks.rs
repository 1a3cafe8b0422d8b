//! Checks of each result: against the ABI ([`Fuzz::judge`]) and against
//! what the fuzzer knows of its state ([`Fuzz::expect`] and the
//! `check_*` calls).
//!
//! Each result is compared with the ABI: a call that `Syscall::decode`
//! refuses must fail with exactly that error; a call that decodes must not
//! fail with a decode error; no error is `Unrecognized`; `abi_version`
//! returns `ABI_VERSION`; `thread_yield`, `thread_sleep` and
//! `clock_monotonic` succeed; `clock_monotonic` never goes backwards; this
//! process holds no process, trace or module it may spawn, so
//! `process_spawn`, `process_wait`, `process_kill`, `trace_read`,
//! `trace_control` and `metrics_read` always fail. State-aware checks: a
//! slot just emptied by `cap_delete` or `cap_move` is empty
//! (`cap_identify`) and using it fails with `EmptySlot`; a new handle holds
//! the type that made it (or nothing, if a peer revoked its memory
//! meanwhile); a new memory capability holds the bytes it was split with;
//! a reply carries badge 0 and, from its own server in a lone fuzzer, the
//! words it sent XOR [`REPLY_XOR`]. The first few differences are printed
//! as `fuzz: MISMATCH ...`.

use crate::generator::info;
use crate::pool::RECV_BASE;
use crate::taming::perform;
use crate::threads::REPLY_XOR;
use crate::{Fuzz, Planned};
use core::fmt;
use ferrous_rt::abi::{ABI_VERSION, ErrorCode, Handle, ObjectType, SysError, Syscall, Sysno};
use ferrous_rt::{println, sys};

/// Most mismatches printed.
const MAX_REPORTS: u64 = 8;

impl Fuzz {
    /// The slot a create call returned holds that type (or nothing: a
    /// peer may have revoked the memory it came from).
    pub fn check_new(&mut self, index: u64, slot: u32, kind: ObjectType) {
        self.checks += 1;
        let got = sys::cap_identify(Handle(slot));
        self.count(Sysno::CapIdentify as u64, got.map(|_| 0));
        match got {
            Ok(Some(info)) if info.kind == kind => {}
            Err(SysError::EmptySlot { .. }) => self.pool.set(slot, None),
            other => {
                let r = other.map(|i| i.map_or(0, |i| i.to_raw()));
                let args = [u64::from(slot), 0, 0, 0, 0, 0];
                self.mismatch(
                    index,
                    Sysno::CapIdentify as u64,
                    args,
                    r,
                    Want::Text("the type of the object just made"),
                );
            }
        }
    }

    /// A new memory capability holds the bytes it was split with.
    pub fn check_split(&mut self, index: u64, slot: u32, bytes: u64) {
        self.checks += 1;
        let got = sys::memory_info(Handle(slot));
        self.count(Sysno::MemoryInfo as u64, got);
        match got {
            Ok(b) if b == bytes => {}
            // A split keeps its source's rights: without read, nothing to see.
            Err(SysError::MissingRight { .. }) => {}
            Err(SysError::EmptySlot { .. }) if self.shared.is_some() => {}
            r => self.mismatch(
                index,
                Sysno::MemoryInfo as u64,
                [u64::from(slot), 0, 0, 0, 0, 0],
                r,
                Want::Text("the bytes of the split"),
            ),
        }
    }

    /// A slot just emptied by this thread is empty, and using it fails
    /// with `EmptySlot` (only below the receive slots, which no server
    /// thread fills).
    pub fn check_empty(&mut self, index: u64, slot: u32) {
        if slot >= RECV_BASE || slot == 0 || !self.rng.one_in(2) {
            return;
        }
        self.checks += 1;
        let s = u64::from(slot);
        let (nr, args) = match self.rng.below(6) {
            0 => (Sysno::CapIdentify, [s, 0, 0, 0, 0, 0]),
            1 => (Sysno::CapRevoke, [s, 0, 0, 0, 0, 0]),
            2 => (Sysno::NotificationPoll, [s, 0, 0, 0, 0, 0]),
            3 => (Sysno::MemoryInfo, [s, 0, 0, 0, 0, 0]),
            4 => (Sysno::ThreadWait, [s, 0, 0, 0, 0, 0]),
            _ => (Sysno::IpcSend, [s, info(1, 0, true, 0), 1, 2, 3, 4]),
        };
        let (result, _) = perform(nr as u64, args);
        self.count(nr as u64, result);
        if result != Err(SysError::EmptySlot { arg: 0 }) {
            self.mismatch(index, nr as u64, args, result, Want::Text("an empty slot"));
        }
    }

    /// State-aware expectations of a stateful call.
    pub fn expect(
        &mut self,
        plan: &Planned,
        result: Result<u64, SysError>,
        out: [u64; 6],
    ) -> Option<Want> {
        let call = Syscall::decode(plan.nr, plan.args).ok()?;
        if let (
            Syscall::IpcCall {
                endpoint,
                info,
                words,
            },
            Ok(badge),
        ) = (call, result)
        {
            self.replies += 1;
            if badge != 0 {
                return Some(Want::Text("a reply with badge 0"));
            }
            // Alone, only its server receives on its private endpoint.
            if endpoint.0 == self.private && self.shared.is_none() {
                let (sent, got) = (words, [out[1], out[3], out[4], out[5]]);
                let n = usize::from(info.words);
                if got[..n]
                    .iter()
                    .zip(&sent[..n])
                    .any(|(g, s)| *g != s ^ REPLY_XOR)
                {
                    return Some(Want::Echo(sent.map(|w| w ^ REPLY_XOR), got, out[2]));
                }
            }
        }
        None
    }

    /// `Some(what the ABI wanted)` if the result breaks a rule.
    pub fn judge(
        &mut self,
        nr: u64,
        args: [u64; 6],
        result: Result<u64, SysError>,
    ) -> Option<Want> {
        let call = match Syscall::decode(nr, args) {
            Err(e) => return (result != Err(e)).then_some(Want::Error(e)),
            Ok(call) => call,
        };
        let decode_error = result
            .err()
            .and_then(SysError::kind)
            .is_some_and(ErrorCode::is_decode_error);
        // Codes of the decode group that docs/ABI.md also lists for a state
        // the call found.
        let documented = matches!(
            (call, result),
            (
                Syscall::FrameMap { .. },
                Err(SysError::WriteAndExecute { arg: 3 } | SysError::RangeOutsideUser { arg: 2 })
            ) | (
                Syscall::FrameCreate { .. },
                Err(SysError::LengthTooLarge { arg: 1 })
            )
        );
        if decode_error && !documented {
            return Some(Want::Text("no decode error for a call that decodes"));
        }
        if let Err(SysError::Unrecognized(_)) = result {
            return Some(Want::Text("only codes the ABI defines"));
        }
        match (call, result) {
            (Syscall::AbiVersion {}, r) if r != Ok(u64::from(ABI_VERSION)) => {
                Some(Want::Text("ABI_VERSION"))
            }
            (
                Syscall::ThreadYield {} | Syscall::ThreadSleep { .. } | Syscall::ClockMonotonic {},
                Err(_),
            ) => Some(Want::Text("success: the call cannot fail")),
            (Syscall::ClockMonotonic {}, Ok(t)) => {
                let back = t < self.last_clock;
                self.last_clock = t;
                back.then_some(Want::Text("a clock that never goes backwards"))
            }
            (Syscall::ProcessSpawn { .. }, Ok(child)) => {
                let _ = sys::kill(Handle(child as u32));
                Some(Want::Text("an error: it holds no module it may spawn"))
            }
            (Syscall::ProcessWait { .. } | Syscall::ProcessKill { .. }, Ok(_)) => {
                Some(Want::Text("an error: this process holds no process"))
            }
            (
                Syscall::TraceRead { .. }
                | Syscall::TraceControl { .. }
                | Syscall::FaultInject { .. }
                | Syscall::MetricsRead { .. },
                Ok(_),
            ) => Some(Want::Text(
                "an error: this process holds no trace or process",
            )),
            (
                Syscall::HwSplit { .. }
                | Syscall::IoPortsEnable { .. }
                | Syscall::IrqBind { .. }
                | Syscall::IrqAck { .. },
                Ok(_),
            ) => Some(Want::Text(
                "an error: this process holds no hardware capability",
            )),
            _ => None,
        }
    }

    pub fn mismatch(
        &mut self,
        index: u64,
        nr: u64,
        args: [u64; 6],
        r: Result<u64, SysError>,
        w: Want,
    ) {
        self.mismatches += 1;
        if self.mismatches <= MAX_REPORTS {
            println!(
                "fuzz: MISMATCH call {index}: {}: got {}, {w}",
                Call(nr, args),
                Shown(r)
            );
        }
    }
}

/// What the ABI required instead of the result seen.
pub enum Want {
    Error(SysError),
    Text(&'static str),
    /// A reply's words: wanted, got, and the info register.
    Echo([u64; 4], [u64; 4], u64),
}

impl fmt::Display for Want {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Want::Error(e) => write!(f, "want {}", Shown(Err(*e))),
            Want::Text(t) => write!(f, "want {t}"),
            Want::Echo(want, got, info) => write!(
                f,
                "want the words sent XOR REPLY_XOR {want:x?}, got {got:x?} (info {info:#x})"
            ),
        }
    }
}

/// A call as registers: `nr 9 [0x2, 0x50000000, ...]`.
struct Call(u64, [u64; 6]);

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.1;
        write!(
            f,
            "nr {} [{:#x}, {:#x}, {:#x}, {:#x}, {:#x}, {:#x}]",
            self.0, a[0], a[1], a[2], a[3], a[4], a[5]
        )
    }
}

struct Shown(Result<u64, SysError>);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Ok(v) => write!(f, "Ok({v:#x})"),
            Err(e) => write!(f, "Err({}: {e})", e.name()),
        }
    }
}
