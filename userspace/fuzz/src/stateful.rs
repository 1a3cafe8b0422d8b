//! Stateful calls (about three steps in four, [`Fuzz::stateful`]): their
//! handles come from the typed [`Pool`](crate::pool::Pool) of what earlier
//! calls returned, their other arguments are well formed, so sequences
//! such as create → map → send over IPC (to this process's own server
//! thread or to a peer) → move → revoke → use are common.
//!
//! Every call of the table is drawn (`abi_version` to `frame_map`),
//! weighted towards the ones that change state ([`OPS`]); deletes and
//! revokes weigh more when the table is crowded. A `thread_create` starts
//! a worker on a free stack ([`Fuzz::worker`]).

use crate::generator::{HANDLES, info};
use crate::taming::{
    MAX_MAP_PAGES, MAX_SLEEP_NS, MAX_WRITE, SERVED_WAIT_US, SLEEP_ONE_IN, UNMAPPED, window_addr,
};
use crate::threads::{STACK, STACKS, WORKERS, worker};
use crate::{Fuzz, Planned};
use ferrous_rt::abi::{ANY_CPU, ObjectType, PAGE_SIZE, Sysno, initial};

/// Above this many capabilities, deletes are drawn more often.
const CROWDED: usize = 64;

/// The kinds of stateful calls, with their weights.
#[derive(Clone, Copy)]
enum Op {
    Split,
    Endpoint,
    Notification,
    Frame,
    Copy,
    Mint,
    Move,
    Delete,
    Revoke,
    Identify,
    Info,
    Map,
    Unmap,
    Protect,
    FrameMap,
    Send,
    Call,
    Recv,
    Reply,
    ReplyRecv,
    Signal,
    Wait,
    Poll,
    Thread,
    ThreadWait,
    SetCpu,
    Trace,
    Misc,
}

const OPS: [(Op, u64); 28] = [
    (Op::Split, 3),
    (Op::Endpoint, 4),
    (Op::Notification, 4),
    (Op::Frame, 4),
    (Op::Copy, 5),
    (Op::Mint, 5),
    (Op::Move, 4),
    (Op::Delete, 7),
    (Op::Revoke, 2),
    (Op::Identify, 2),
    (Op::Info, 2),
    (Op::Map, 3),
    (Op::Unmap, 3),
    (Op::Protect, 2),
    (Op::FrameMap, 5),
    (Op::Send, 6),
    (Op::Call, 6),
    (Op::Recv, 4),
    (Op::Reply, 2),
    (Op::ReplyRecv, 2),
    (Op::Signal, 4),
    (Op::Wait, 2),
    (Op::Poll, 3),
    (Op::Thread, 3),
    (Op::ThreadWait, 3),
    (Op::SetCpu, 2),
    (Op::Trace, 3),
    (Op::Misc, 5),
];

/// The weight of `op`: deletes count double when the table is crowded.
fn weight(op: Op, w: u64, crowded: bool) -> u64 {
    match op {
        Op::Delete | Op::Revoke if crowded => 4 * w,
        _ => w,
    }
}

impl Fuzz {
    /// A handle of `kind` from the pool, else a random one.
    fn handle(&mut self, kind: ObjectType) -> u64 {
        match self.pool.pick(&mut self.rng, kind) {
            Some(h) if !self.rng.one_in(16) => u64::from(h),
            _ => self.rng.pick(&HANDLES) & 0xffff_ffff,
        }
    }

    /// A memory capability to make objects from.
    fn memory(&mut self) -> u64 {
        self.handle(ObjectType::Memory)
    }

    /// Any handle from the pool, or a random one.
    fn any(&mut self) -> u64 {
        match self.pool.pick_any(&mut self.rng) {
            Some(h) if !self.rng.one_in(16) => u64::from(h),
            _ => self.rng.pick(&HANDLES) & 0xffff_ffff,
        }
    }

    fn pages(&mut self) -> u64 {
        PAGE_SIZE * (1 + self.rng.below(MAX_MAP_PAGES))
    }

    fn words(&mut self) -> [u64; 4] {
        [self.value(), self.rng.next(), self.value(), self.rng.next()]
    }

    /// An endpoint to send to, and whether a server thread serves it.
    fn target(&mut self) -> (u64, bool) {
        match self.rng.below(8) {
            0..=2 => (u64::from(self.private), true),
            3..=4 => match self.shared {
                Some(s) => (u64::from(s), true),
                None => (self.handle(ObjectType::Endpoint), false),
            },
            _ => {
                let h = self.handle(ObjectType::Endpoint);
                (
                    h,
                    h == u64::from(self.private) || Some(h as u32) == self.shared,
                )
            }
        }
    }

    /// A stateful call: its handles from the pool, its other arguments
    /// well formed.
    pub fn stateful(&mut self) -> Planned {
        let crowded = self.pool.count() > CROWDED;
        let total: u64 = OPS.iter().map(|&(op, w)| weight(op, w, crowded)).sum();
        let mut x = self.rng.below(total);
        let mut op = Op::Misc;
        for &(o, w) in &OPS {
            let w = weight(o, w, crowded);
            if x < w {
                op = o;
                break;
            }
            x -= w;
        }
        let space = u64::from(initial::SELF_SPACE.0);
        match op {
            Op::Split => {
                let m = self.memory();
                let bytes = self.pages();
                Planned::new(Sysno::MemorySplit, [m, bytes, 0, 0, 0, 0])
            }
            Op::Endpoint => Planned::new(Sysno::EndpointCreate, [self.memory(), 0, 0, 0, 0, 0]),
            Op::Notification => {
                Planned::new(Sysno::NotificationCreate, [self.memory(), 0, 0, 0, 0, 0])
            }
            Op::Frame => {
                let m = self.memory();
                let bytes = self.pages();
                Planned::new(Sysno::FrameCreate, [m, bytes, 0, 0, 0, 0])
            }
            Op::Copy => {
                let src = self.any();
                let dest = u64::from(self.pool.free(&mut self.rng));
                Planned::new(Sysno::CapCopy, [src, dest, 0, 0, 0, 0])
            }
            Op::Mint => {
                let src = self.any();
                let dest = u64::from(self.pool.free(&mut self.rng));
                let rights = self.rng.below(1 << 8);
                let badge = self.rng.pick(&[0, 0, 1, 7, 0xbad9e, u64::MAX]);
                Planned::new(Sysno::CapMint, [src, dest, rights, badge, 0, 0])
            }
            Op::Move => {
                let src = match self.pool.pick_unprotected(&mut self.rng) {
                    Some(s) => u64::from(s),
                    None => self.any(),
                };
                let dest = self.pool.free(&mut self.rng);
                Planned::new(Sysno::CapMove, [src, u64::from(dest), 0, 0, 0, 0])
            }
            Op::Delete => {
                let slot = match self.pool.pick_unprotected(&mut self.rng) {
                    Some(s) => u64::from(s),
                    None => self.any(),
                };
                Planned::new(Sysno::CapDelete, [slot, 0, 0, 0, 0, 0])
            }
            Op::Revoke => Planned::new(Sysno::CapRevoke, [self.any(), 0, 0, 0, 0, 0]),
            Op::Identify => Planned::new(Sysno::CapIdentify, [self.any(), 0, 0, 0, 0, 0]),
            Op::Info => Planned::new(Sysno::MemoryInfo, [self.memory(), 0, 0, 0, 0, 0]),
            Op::Map | Op::Unmap | Op::Protect => {
                let pages = 1 + self.rng.below(MAX_MAP_PAGES);
                let addr = window_addr(&mut self.rng, pages);
                let perms = self.rng.pick(&[1, 3, 5, 1, 3, 5, 7]);
                let (nr, a) = match op {
                    Op::Map => (Sysno::MemMap, [space, addr, pages * PAGE_SIZE, perms, 0, 0]),
                    Op::Unmap => (Sysno::MemUnmap, [space, addr, pages * PAGE_SIZE, 0, 0, 0]),
                    _ => (
                        Sysno::MemProtect,
                        [space, addr, pages * PAGE_SIZE, perms, 0, 0],
                    ),
                };
                Planned::new(nr, a)
            }
            Op::FrameMap => {
                let frame = self.handle(ObjectType::Frame);
                let sp = if self.rng.one_in(8) {
                    self.handle(ObjectType::AddressSpace)
                } else {
                    space
                };
                let addr = window_addr(&mut self.rng, MAX_MAP_PAGES);
                let perms = self.rng.pick(&[1, 3, 5, 3]);
                Planned::new(Sysno::FrameMap, [frame, sp, addr, perms, 0, 0])
            }
            Op::Send | Op::Call => {
                let (ep, served) = self.target();
                let words = self.words();
                let n = self.rng.below(5);
                let cap = if self.rng.one_in(2) {
                    self.any() as u32 & 0xff
                } else {
                    0
                };
                let nonblocking = !served || self.rng.one_in(4);
                let i = info(n, cap, nonblocking, SERVED_WAIT_US);
                let nr = match op {
                    Op::Send => Sysno::IpcSend,
                    _ => Sysno::IpcCall,
                };
                Planned::new(nr, [ep, i, words[0], words[1], words[2], words[3]])
            }
            Op::Recv | Op::ReplyRecv => {
                let ep = if self.called != 0 && self.rng.one_in(2) {
                    u64::from(self.called)
                } else {
                    self.handle(ObjectType::Endpoint)
                };
                let slot = if self.rng.one_in(4) {
                    0
                } else {
                    self.pool.free(&mut self.rng)
                };
                let i = info(self.rng.below(5), slot, true, 0);
                let words = self.words();
                let nr = match op {
                    Op::Recv => Sysno::IpcRecv,
                    _ => Sysno::IpcReplyRecv,
                };
                Planned::new(nr, [ep, i, words[0], words[1], words[2], words[3]])
            }
            Op::Reply => {
                let words = self.words();
                let i = info(self.rng.below(5), 0, false, 0);
                Planned::new(
                    Sysno::IpcReply,
                    [0, i, words[0], words[1], words[2], words[3]],
                )
            }
            Op::Signal => {
                let n = self.handle(ObjectType::Notification);
                let bits = 1 << self.rng.below(64) | self.rng.pick(&[0, 0, 1, u64::MAX]);
                Planned::new(Sysno::NotificationSignal, [n, bits, 0, 0, 0, 0])
            }
            Op::Wait => {
                let n = self.handle(ObjectType::Notification);
                Planned::new(Sysno::NotificationWait, [n, 0, 0, 0, 0, 0])
            }
            Op::Poll => {
                let n = self.handle(ObjectType::Notification);
                Planned::new(Sysno::NotificationPoll, [n, 0, 0, 0, 0, 0])
            }
            Op::Thread => self.worker(),
            Op::ThreadWait => {
                let t = match self.workers[self.rng.below(WORKERS as u64) as usize] {
                    Some((t, _)) => u64::from(t),
                    None => self.handle(ObjectType::Thread),
                };
                Planned::new(Sysno::ThreadWait, [t, 0, 0, 0, 0, 0])
            }
            Op::SetCpu => {
                let t = self.handle(ObjectType::Thread);
                let cpu = self.rng.pick(&[0, 1, 2, 3, 4, 64, u64::from(ANY_CPU)]);
                Planned::new(Sysno::ThreadSetCpu, [t, cpu, 0, 0, 0, 0])
            }
            Op::Trace => {
                let h = self.any();
                let buf = window_addr(&mut self.rng, 1);
                let len = self.rng.below(PAGE_SIZE + 1);
                match self.rng.below(3) {
                    0 => {
                        let cpu = self.rng.below(5);
                        let cursor = self.rng.pick(&[0, 1, 100, u64::MAX]);
                        Planned::new(Sysno::TraceRead, [h, cpu, cursor, buf, len, 0])
                    }
                    1 => Planned::new(Sysno::MetricsRead, [h, buf, len, 0, 0, 0]),
                    _ => {
                        let cats = self.rng.below(1 << 16);
                        Planned::new(Sysno::TraceControl, [h, cats, 0, 0, 0, 0])
                    }
                }
            }
            Op::Misc => {
                let nr = match self.rng.below(10) {
                    0 => Sysno::AbiVersion,
                    1 => Sysno::ThreadYield,
                    2 | 3 => Sysno::ClockMonotonic,
                    4 => Sysno::DebugWrite,
                    5 => Sysno::ProcessWait,
                    6 => Sysno::ProcessKill,
                    7 => Sysno::ProcessSpawn,
                    8 => Sysno::ThreadSleep,
                    _ => Sysno::MemoryInfo,
                };
                let mut args = [0; 6];
                match nr {
                    Sysno::DebugWrite => {
                        args = [u64::from(initial::CONSOLE.0), UNMAPPED, 0, 0, 0, 0];
                        args[2] = self.rng.below(MAX_WRITE + 1);
                    }
                    Sysno::ProcessWait | Sysno::ProcessKill => args[0] = self.any(),
                    Sysno::ProcessSpawn => {
                        args[0] = self.any();
                        args[1] = self.memory();
                    }
                    Sysno::ThreadSleep => args[0] = self.rng.below(MAX_SLEEP_NS),
                    Sysno::MemoryInfo => args[0] = self.memory(),
                    _ => {}
                }
                if nr == Sysno::ThreadSleep && !self.rng.one_in(SLEEP_ONE_IN) {
                    return Planned::new(Sysno::ThreadYield, [0; 6]);
                }
                Planned::new(nr, args)
            }
        }
    }

    /// `thread_create` of a worker on a free stack, or a wait for one
    /// that runs.
    fn worker(&mut self) -> Planned {
        let Some(i) = self.workers.iter().position(Option::is_none) else {
            let t = self.workers[self.rng.below(WORKERS as u64) as usize].map_or(0, |w| w.0);
            return Planned::new(Sysno::ThreadWait, [u64::from(t), 0, 0, 0, 0, 0]);
        };
        let n = self.handle(ObjectType::Notification) & 0xff;
        let ep = if self.rng.one_in(2) {
            self.handle(ObjectType::Endpoint) & 0xff
        } else {
            0
        };
        if ep != 0 {
            self.called = ep as u32;
        }
        // Unique to this worker (wrapping after 2^30 of them): its exit
        // code tells `thread_wait` it ended, whichever slot names it.
        let code = (self.workers_started << 2 | i as u64) & 0xffff_ffff;
        let space = if self.rng.one_in(4) {
            self.handle(ObjectType::AddressSpace)
        } else {
            u64::from(initial::SELF_SPACE.0)
        };
        let entry = worker as extern "C" fn(u64) -> ! as usize as u64;
        let top = STACKS + (i as u64 + 1) * STACK - 8;
        let mut p = Planned::new(
            Sysno::ThreadCreate,
            [space, entry, top, n | ep << 8 | code << 32, 0, 0],
        );
        p.sanctioned = true;
        p
    }
}
