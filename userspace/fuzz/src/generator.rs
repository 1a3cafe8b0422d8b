//! Random calls and the register values they are made of (about one step
//! in four, [`Fuzz::random`]).
//!
//! The number is mostly a defined one, else one just beyond, sometimes huge
//! or random ([`Fuzz::number`]); the six registers are biased towards
//! interesting values (zero, small numbers, handles from the pool and
//! forged ones, page-aligned addresses in the fuzz window
//! `0x5000_0000..0x5100_0000`, page multiples, kernel-half and
//! non-canonical addresses, `u64::MAX`, the program's own stack and code:
//! [`Fuzz::value`]), and for a known call the unused registers are usually
//! zeroed and the arguments usually shaped to pass decoding
//! ([`Fuzz::shape`]). Stateful calls borrow [`Fuzz::value`] for their
//! message words and for the one random register one stateful call in
//! twelve gets, to probe decoding next to real state.

use crate::taming::{MAX_MAP_PAGES, MAX_WRITE, SLEEP_ONE_IN, WINDOW, WINDOW_END, WINDOW_PAGES};
use crate::{Fuzz, Planned};
use ferrous_rt::abi::{MsgInfo, PAGE_SIZE, Sysno, USER_END, USER_MAP_END, initial};

const KERNEL_HALF: u64 = 0xffff_8000_0000_0000;
/// Handle-like values: empty slots, the initial handles, module and child
/// slots, reserved bits.
pub const HANDLES: [u64; 14] = [
    1,
    2,
    3,
    4,
    5,
    16,
    17,
    200,
    255,
    256,
    1024,
    5000,
    1 << 32 | 1,
    0xffff_ffff,
];
/// The highest defined call number.
pub const LAST_CALL: u64 = Sysno::ALL[Sysno::ALL.len() - 1] as u64;
const HUGE: [u64; 4] = [u64::MAX, u64::MAX - PAGE_SIZE + 1, i64::MAX as u64, 1 << 63];
/// Around the end of user space and of what `mem_*` may touch.
const USER_TOP: [u64; 4] = [
    USER_END,
    USER_END - 8,
    USER_MAP_END,
    USER_MAP_END - PAGE_SIZE,
];

fn canonical(addr: u64) -> bool {
    let top = (addr as i64) >> 47;
    top == 0 || top == -1
}

/// A message info: `words` words, a capability slot, non-blocking or with
/// a timeout of `timeout_us`.
pub fn info(words: u64, cap_slot: u32, nonblocking: bool, timeout_us: u32) -> u64 {
    MsgInfo {
        words: (words % 5) as u8,
        nonblocking,
        cap_slot: cap_slot as u8,
        timeout_us,
    }
    .to_raw()
}

impl Fuzz {
    /// A call number: mostly a defined one, often one beyond them,
    /// sometimes huge or random; never `process_exit` or `thread_exit`.
    fn number(&mut self) -> u64 {
        loop {
            let nr = match self.rng.below(100) {
                0..=74 => 1 + self.rng.below(LAST_CALL),
                75..=87 => self.rng.below(LAST_CALL + 5),
                88..=93 => {
                    let small = self.rng.below(LAST_CALL + 5);
                    let huge = self.rng.next();
                    let numbers = [
                        u64::MAX,
                        1 << 63,
                        1 << 32 | small,
                        0x8000_0000 | small,
                        huge,
                    ];
                    self.rng.pick(&numbers)
                }
                _ => self.rng.below(256),
            };
            if nr == Sysno::ProcessExit as u64 || nr == Sysno::ThreadExit as u64 {
                continue;
            }
            if nr == Sysno::ThreadSleep as u64 && !self.rng.one_in(SLEEP_ONE_IN) {
                continue;
            }
            return nr;
        }
    }

    /// An argument register, biased towards values that matter.
    pub fn value(&mut self) -> u64 {
        let r = &mut self.rng;
        match r.below(24) {
            0..=6 => 0,
            7..=8 => r.below(17),
            9 => match r.below(2) {
                0 => r.pick(&HANDLES),
                _ => self.pool.pick_any(r).map_or(0, u64::from),
            },
            10..=11 => WINDOW + r.below(WINDOW_PAGES) * PAGE_SIZE,
            12 => WINDOW + r.below(WINDOW_END - WINDOW),
            13..=14 => PAGE_SIZE * (1 + r.below(MAX_MAP_PAGES)),
            15 => KERNEL_HALF + r.below(1 << 46),
            16 => {
                let v = r.next();
                if canonical(v) { v ^ 1 << 50 } else { v }
            }
            17 => r.pick(&HUGE),
            18 => self.stack - r.below(512),
            19 => self.code + r.below(PAGE_SIZE),
            20 => r.pick(&USER_TOP),
            21 => 1 << r.below(64),
            _ => r.next(),
        }
    }

    /// A random call, as the original fuzzer made them.
    pub fn random(&mut self) -> Planned {
        let nr = self.number();
        let mut args = [0u64; 6];
        for a in &mut args {
            *a = self.value();
        }
        if let Some(sysno) = Sysno::from_raw(nr) {
            self.shape(sysno, &mut args);
        }
        Planned {
            nr,
            args,
            sanctioned: false,
        }
    }

    /// Usually gives a known call arguments that pass decoding: its own
    /// handle, addresses and lengths of the right kind, unused registers
    /// zero. The rest of the time the random values stay.
    fn shape(&mut self, sysno: Sysno, args: &mut [u64; 6]) {
        if !self.rng.one_in(8) {
            for a in &mut args[sysno.arg_count()..] {
                *a = 0;
            }
        }
        if self.rng.one_in(4) {
            return;
        }
        let r = &mut self.rng;
        match sysno {
            Sysno::DebugWrite => {
                args[0] = u64::from(initial::CONSOLE.0);
                args[2] = r.below(MAX_WRITE + 1);
            }
            Sysno::MemMap | Sysno::MemUnmap | Sysno::MemProtect => {
                args[0] = u64::from(initial::SELF_SPACE.0);
                args[1] = WINDOW + r.below(WINDOW_PAGES) * PAGE_SIZE;
                args[2] = PAGE_SIZE * (1 + r.below(MAX_MAP_PAGES));
                if sysno != Sysno::MemUnmap {
                    args[3] = r.pick(&[1, 3, 5, 1, 3, 5, 0, 2, 4, 6, 7, 8, 1 << 40]);
                }
            }
            // Random slots, real and forged, for every capability argument.
            Sysno::ProcessWait
            | Sysno::ProcessKill
            | Sysno::CapDelete
            | Sysno::CapRevoke
            | Sysno::CapIdentify
            | Sysno::MemoryInfo
            | Sysno::ThreadWait
            | Sysno::EndpointCreate
            | Sysno::NotificationCreate
            | Sysno::NotificationPoll
            | Sysno::NotificationWait
            | Sysno::NotificationSignal
            | Sysno::ThreadSetCpu => args[0] = r.pick(&HANDLES) & 0xffff_ffff,
            Sysno::CapCopy | Sysno::CapMove | Sysno::CapMint => {
                args[0] = r.below(8);
                args[1] = r.pick(&[0, 1, 3, 6, 7, 8, 9, 10, 255, 256]);
                if sysno == Sysno::CapMint {
                    args[2] = r.below(1 << 11);
                    args[3] = r.pick(&[0, 0, 1, 0xbad9e]);
                }
            }
            Sysno::MemorySplit | Sysno::FrameCreate => {
                args[0] = r.below(12);
                args[1] = PAGE_SIZE * r.below(MAX_MAP_PAGES + 1);
            }
            Sysno::ThreadCreate | Sysno::ProcessSpawn => {
                for a in args.iter_mut().take(2) {
                    *a = r.below(20);
                }
            }
            Sysno::IpcSend
            | Sysno::IpcRecv
            | Sysno::IpcCall
            | Sysno::IpcReplyRecv
            | Sysno::IpcReply => {
                if sysno != Sysno::IpcReply {
                    args[0] = r.below(20);
                }
                args[1] &= 0xffff_ffff_0000_ff17;
            }
            _ => {}
        }
    }
}
