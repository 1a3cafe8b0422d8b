//! Typed system calls and their register encoding.

use crate::{
    GRANT_SIZE, Handle, MAX_DEBUG_WRITE, MAX_GRANTS, MAX_SPAWN_ARGS, MAX_TRACE_READ, MSG_WORDS,
    MsgInfo, PAGE_SIZE, Perms, Rights, SysError, Sysno, USER_END, USER_MAP_END, UserPtr,
};
use core::fmt;

/// A system call with its arguments, as [`Syscall::decode`] accepts them.
/// Argument fields are in register order. Lengths are in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Syscall {
    AbiVersion,
    /// `len` may be 0; `buf` must be a user address even then.
    DebugWrite {
        console: Handle,
        buf: UserPtr,
        len: u64,
    },
    ProcessExit {
        code: u32,
    },
    /// `grants` points to `grant_count` [`crate::Grant`]s.
    ProcessSpawn {
        module: Handle,
        memory: Handle,
        args: UserPtr,
        args_len: u64,
        grants: UserPtr,
        grant_count: u64,
    },
    ProcessWait {
        process: Handle,
        timeout_ns: u64,
    },
    ThreadYield,
    ThreadSleep {
        ns: u64,
    },
    ClockMonotonic,
    /// `addr` 0: anywhere the kernel chooses. Otherwise exactly there, and
    /// never over an existing mapping ([`SysError::AlreadyMapped`]).
    MemMap {
        space: Handle,
        addr: UserPtr,
        len: u64,
        perms: Perms,
    },
    MemUnmap {
        space: Handle,
        addr: UserPtr,
        len: u64,
    },
    MemProtect {
        space: Handle,
        addr: UserPtr,
        len: u64,
        perms: Perms,
    },
    CapDelete {
        slot: Handle,
    },
    CapCopy {
        src: Handle,
        dest: Handle,
    },
    /// `badge` 0 keeps the source's badge.
    CapMint {
        src: Handle,
        dest: Handle,
        rights: Rights,
        badge: u64,
    },
    CapMove {
        src: Handle,
        dest: Handle,
    },
    CapRevoke {
        slot: Handle,
    },
    CapIdentify {
        slot: Handle,
    },
    /// `bytes`: whole pages, at least one.
    MemorySplit {
        memory: Handle,
        bytes: u64,
    },
    MemoryInfo {
        memory: Handle,
    },
    ThreadCreate {
        space: Handle,
        entry: UserPtr,
        stack_top: UserPtr,
        arg: u64,
    },
    ThreadExit {
        code: u32,
    },
    ThreadWait {
        thread: Handle,
        timeout_ns: u64,
    },
    ProcessKill {
        process: Handle,
    },
    EndpointCreate {
        memory: Handle,
    },
    NotificationCreate {
        memory: Handle,
    },
    IpcSend {
        endpoint: Handle,
        info: MsgInfo,
        words: [u64; MSG_WORDS],
    },
    IpcRecv {
        endpoint: Handle,
        info: MsgInfo,
    },
    IpcCall {
        endpoint: Handle,
        info: MsgInfo,
        words: [u64; MSG_WORDS],
    },
    /// `rdi` must be 0: the reply goes to the caller this thread received.
    IpcReply {
        info: MsgInfo,
        words: [u64; MSG_WORDS],
    },
    IpcReplyRecv {
        endpoint: Handle,
        info: MsgInfo,
        words: [u64; MSG_WORDS],
    },
    NotifySignal {
        notification: Handle,
        bits: u64,
    },
    NotifyWait {
        notification: Handle,
        timeout_ns: u64,
    },
    NotifyPoll {
        notification: Handle,
    },
    ThreadSetCpu {
        thread: Handle,
        cpu: u32,
    },
    TraceRead {
        trace: Handle,
        cpu: u32,
        cursor: u64,
        buf: UserPtr,
        len: u64,
    },
    MetricsRead {
        object: Handle,
        buf: UserPtr,
        len: u64,
    },
    TraceControl {
        trace: Handle,
        categories: u32,
    },
    /// `bytes`: whole pages, at least one.
    FrameCreate {
        memory: Handle,
        bytes: u64,
    },
    FrameMap {
        frame: Handle,
        space: Handle,
        addr: UserPtr,
        perms: Perms,
    },
}

/// How a length argument is checked against its address.
struct LenRule {
    /// Most bytes allowed.
    max: u64,
    /// Whole pages, at least one.
    pages: bool,
    /// The range must end at or below this.
    end: u64,
}

const BYTES_DEBUG: LenRule = LenRule {
    max: MAX_DEBUG_WRITE,
    pages: false,
    end: USER_END,
};
const BYTES_SPAWN: LenRule = LenRule {
    max: MAX_SPAWN_ARGS,
    pages: false,
    end: USER_END,
};
const BYTES_TRACE: LenRule = LenRule {
    max: MAX_TRACE_READ,
    pages: false,
    end: USER_END,
};
const GRANT_BYTES: LenRule = LenRule {
    max: MAX_GRANTS * GRANT_SIZE,
    pages: false,
    end: USER_END,
};
/// No limit beyond the range's end.
const PAGES: LenRule = LenRule {
    max: u64::MAX,
    pages: true,
    end: USER_MAP_END,
};

/// The raw argument registers, with one checker per argument type. Each
/// takes the argument's index, which every error carries.
struct Args([u64; 6]);

impl Args {
    fn handle(&self, i: usize) -> Result<Handle, SysError> {
        Ok(Handle(self.u32(i)?))
    }

    fn u32(&self, i: usize) -> Result<u32, SysError> {
        u32::try_from(self.0[i]).map_err(|_| SysError::ReservedBitsSet { arg: i as u8 })
    }

    /// Canonical and in the user half; `page`: also page-aligned.
    fn user_ptr(&self, i: usize, page: bool) -> Result<UserPtr, SysError> {
        let addr = self.0[i];
        let arg = i as u8;
        // Canonical: bits 63..47 are copies of bit 47.
        let top = (addr as i64) >> 47;
        if top != 0 && top != -1 {
            return Err(SysError::NonCanonicalPointer { arg });
        }
        if addr >= USER_END {
            return Err(SysError::KernelPointer { arg });
        }
        if page && !addr.is_multiple_of(PAGE_SIZE) {
            return Err(SysError::Misaligned { arg });
        }
        Ok(UserPtr::new(addr))
    }

    /// The length at `i` of a range starting at the already checked `start`.
    fn len(&self, i: usize, start: UserPtr, rule: LenRule) -> Result<u64, SysError> {
        let len = self.0[i];
        let arg = i as u8;
        if rule.pages && len == 0 {
            return Err(SysError::ZeroLength { arg });
        }
        if rule.pages && !len.is_multiple_of(PAGE_SIZE) {
            return Err(SysError::Misaligned { arg });
        }
        let Some(end) = start.addr().checked_add(len) else {
            return Err(SysError::LengthWraps { arg });
        };
        if len > rule.max {
            return Err(SysError::LengthTooLarge { arg });
        }
        if end > rule.end {
            return Err(SysError::RangeOutsideUser { arg });
        }
        Ok(len)
    }

    /// A count of [`crate::Grant`]s at `start`: checked as their byte range.
    fn grant_count(&self, i: usize, start: UserPtr) -> Result<u64, SysError> {
        let count = self.0[i];
        if count > MAX_GRANTS {
            return Err(SysError::LengthTooLarge { arg: i as u8 });
        }
        let bytes = Args([count * GRANT_SIZE; 6]);
        bytes.len(i, start, GRANT_BYTES)?;
        Ok(count)
    }

    /// A byte count: whole pages, at least one.
    fn pages(&self, i: usize) -> Result<u64, SysError> {
        let n = self.0[i];
        let arg = i as u8;
        if n == 0 {
            return Err(SysError::ZeroLength { arg });
        }
        if !n.is_multiple_of(PAGE_SIZE) {
            return Err(SysError::Misaligned { arg });
        }
        Ok(n)
    }

    fn info(&self, i: usize) -> Result<MsgInfo, SysError> {
        MsgInfo::from_raw(self.0[i]).ok_or(SysError::ReservedBitsSet { arg: i as u8 })
    }

    /// The message words: any values, unused ones (beyond the word count)
    /// included.
    fn words(&self) -> [u64; MSG_WORDS] {
        [self.0[2], self.0[3], self.0[4], self.0[5]]
    }

    fn rights(&self, i: usize) -> Result<Rights, SysError> {
        let bits = self.u32(i)?;
        Rights::from_bits(bits).ok_or(SysError::ReservedBitsSet { arg: i as u8 })
    }

    fn perms(&self, i: usize) -> Result<Perms, SysError> {
        let arg = i as u8;
        let perms = Perms::from_bits(self.0[i]).ok_or(SysError::ReservedBitsSet { arg })?;
        if perms.contains(Perms::WRITE | Perms::EXECUTE) {
            return Err(SysError::WriteAndExecute { arg });
        }
        if !perms.contains(Perms::READ) {
            return Err(SysError::PermsWithoutRead { arg });
        }
        Ok(perms)
    }

    /// Registers `from..6` must be zero.
    fn unused_from(&self, from: usize) -> Result<(), SysError> {
        match (from..6).find(|&i| self.0[i] != 0) {
            Some(i) => Err(SysError::UnusedArgumentNotZero { arg: i as u8 }),
            None => Ok(()),
        }
    }
}

impl Syscall {
    /// The call for `rax` = `nr` and the argument registers, in
    /// [`crate::ARG_REGISTERS`] order. Checks run in argument order and the
    /// first failure is returned, so the result is deterministic. A call
    /// that decodes is in canonical form: [`Syscall::encode`] gives back
    /// exactly `(nr, args)`.
    pub fn decode(nr: u64, args: [u64; 6]) -> Result<Syscall, SysError> {
        let sysno = Sysno::from_raw(nr).ok_or(SysError::UnknownSyscall { nr })?;
        let a = Args(args);
        let call = match sysno {
            Sysno::AbiVersion => Syscall::AbiVersion,
            Sysno::DebugWrite => {
                let console = a.handle(0)?;
                let buf = a.user_ptr(1, false)?;
                let len = a.len(2, buf, BYTES_DEBUG)?;
                Syscall::DebugWrite { console, buf, len }
            }
            Sysno::ProcessExit => Syscall::ProcessExit { code: a.u32(0)? },
            Sysno::ProcessSpawn => {
                let module = a.handle(0)?;
                let memory = a.handle(1)?;
                let args = a.user_ptr(2, false)?;
                let args_len = a.len(3, args, BYTES_SPAWN)?;
                let grants = a.user_ptr(4, false)?;
                let grant_count = a.grant_count(5, grants)?;
                Syscall::ProcessSpawn {
                    module,
                    memory,
                    args,
                    args_len,
                    grants,
                    grant_count,
                }
            }
            Sysno::ProcessWait => Syscall::ProcessWait {
                process: a.handle(0)?,
                timeout_ns: args[1],
            },
            Sysno::ThreadYield => Syscall::ThreadYield,
            Sysno::ThreadSleep => Syscall::ThreadSleep { ns: args[0] },
            Sysno::ClockMonotonic => Syscall::ClockMonotonic,
            Sysno::MemMap => {
                let space = a.handle(0)?;
                let addr = a.user_ptr(1, true)?;
                let len = a.len(2, addr, PAGES)?;
                let perms = a.perms(3)?;
                Syscall::MemMap {
                    space,
                    addr,
                    len,
                    perms,
                }
            }
            Sysno::MemUnmap => {
                let space = a.handle(0)?;
                let addr = a.user_ptr(1, true)?;
                let len = a.len(2, addr, PAGES)?;
                Syscall::MemUnmap { space, addr, len }
            }
            Sysno::MemProtect => {
                let space = a.handle(0)?;
                let addr = a.user_ptr(1, true)?;
                let len = a.len(2, addr, PAGES)?;
                let perms = a.perms(3)?;
                Syscall::MemProtect {
                    space,
                    addr,
                    len,
                    perms,
                }
            }
            Sysno::CapDelete => Syscall::CapDelete { slot: a.handle(0)? },
            Sysno::CapCopy => Syscall::CapCopy {
                src: a.handle(0)?,
                dest: a.handle(1)?,
            },
            Sysno::CapMint => Syscall::CapMint {
                src: a.handle(0)?,
                dest: a.handle(1)?,
                rights: a.rights(2)?,
                badge: args[3],
            },
            Sysno::CapMove => Syscall::CapMove {
                src: a.handle(0)?,
                dest: a.handle(1)?,
            },
            Sysno::CapRevoke => Syscall::CapRevoke { slot: a.handle(0)? },
            Sysno::CapIdentify => Syscall::CapIdentify { slot: a.handle(0)? },
            Sysno::MemorySplit => Syscall::MemorySplit {
                memory: a.handle(0)?,
                bytes: a.pages(1)?,
            },
            Sysno::MemoryInfo => Syscall::MemoryInfo {
                memory: a.handle(0)?,
            },
            Sysno::ThreadCreate => Syscall::ThreadCreate {
                space: a.handle(0)?,
                entry: a.user_ptr(1, false)?,
                stack_top: a.user_ptr(2, false)?,
                arg: args[3],
            },
            Sysno::ThreadExit => Syscall::ThreadExit { code: a.u32(0)? },
            Sysno::ThreadWait => Syscall::ThreadWait {
                thread: a.handle(0)?,
                timeout_ns: args[1],
            },
            Sysno::ProcessKill => Syscall::ProcessKill {
                process: a.handle(0)?,
            },
            Sysno::EndpointCreate => Syscall::EndpointCreate {
                memory: a.handle(0)?,
            },
            Sysno::NotificationCreate => Syscall::NotificationCreate {
                memory: a.handle(0)?,
            },
            Sysno::IpcSend => Syscall::IpcSend {
                endpoint: a.handle(0)?,
                info: a.info(1)?,
                words: a.words(),
            },
            Sysno::IpcRecv => Syscall::IpcRecv {
                endpoint: a.handle(0)?,
                info: a.info(1)?,
            },
            Sysno::IpcCall => Syscall::IpcCall {
                endpoint: a.handle(0)?,
                info: a.info(1)?,
                words: a.words(),
            },
            Sysno::IpcReply => {
                if args[0] != 0 {
                    return Err(SysError::UnusedArgumentNotZero { arg: 0 });
                }
                let info = a.info(1)?;
                // Replies carry words only.
                if info.cap_slot != 0 {
                    return Err(SysError::ReservedBitsSet { arg: 1 });
                }
                Syscall::IpcReply {
                    info,
                    words: a.words(),
                }
            }
            Sysno::IpcReplyRecv => Syscall::IpcReplyRecv {
                endpoint: a.handle(0)?,
                info: a.info(1)?,
                words: a.words(),
            },
            Sysno::NotifySignal => Syscall::NotifySignal {
                notification: a.handle(0)?,
                bits: args[1],
            },
            Sysno::NotifyWait => Syscall::NotifyWait {
                notification: a.handle(0)?,
                timeout_ns: args[1],
            },
            Sysno::NotifyPoll => Syscall::NotifyPoll {
                notification: a.handle(0)?,
            },
            Sysno::ThreadSetCpu => Syscall::ThreadSetCpu {
                thread: a.handle(0)?,
                cpu: a.u32(1)?,
            },
            Sysno::TraceRead => {
                let trace = a.handle(0)?;
                let cpu = a.u32(1)?;
                let cursor = args[2];
                let buf = a.user_ptr(3, false)?;
                let len = a.len(4, buf, BYTES_TRACE)?;
                Syscall::TraceRead {
                    trace,
                    cpu,
                    cursor,
                    buf,
                    len,
                }
            }
            Sysno::MetricsRead => {
                let object = a.handle(0)?;
                let buf = a.user_ptr(1, false)?;
                let len = a.len(2, buf, BYTES_TRACE)?;
                Syscall::MetricsRead { object, buf, len }
            }
            Sysno::TraceControl => Syscall::TraceControl {
                trace: a.handle(0)?,
                categories: a.u32(1)?,
            },
            Sysno::FrameCreate => Syscall::FrameCreate {
                memory: a.handle(0)?,
                bytes: a.pages(1)?,
            },
            Sysno::FrameMap => Syscall::FrameMap {
                frame: a.handle(0)?,
                space: a.handle(1)?,
                addr: a.user_ptr(2, true)?,
                perms: a.perms(3)?,
            },
        };
        a.unused_from(sysno.arg_count())?;
        Ok(call)
    }

    /// `(rax, argument registers)`, unused registers zero.
    pub fn encode(&self) -> (u64, [u64; 6]) {
        let h = |h: Handle| u64::from(h.0);
        let ipc: [u64; 6];
        let used: &[u64] = match *self {
            Syscall::AbiVersion | Syscall::ThreadYield | Syscall::ClockMonotonic => &[],
            Syscall::DebugWrite { console, buf, len } => &[h(console), buf.addr(), len],
            Syscall::ProcessExit { code } | Syscall::ThreadExit { code } => &[u64::from(code)],
            Syscall::ProcessSpawn {
                module,
                memory,
                args,
                args_len,
                grants,
                grant_count,
            } => &[
                h(module),
                h(memory),
                args.addr(),
                args_len,
                grants.addr(),
                grant_count,
            ],
            Syscall::ProcessWait {
                process: handle,
                timeout_ns,
            }
            | Syscall::ThreadWait {
                thread: handle,
                timeout_ns,
            } => &[h(handle), timeout_ns],
            Syscall::ThreadSleep { ns } => &[ns],
            Syscall::MemMap {
                space,
                addr,
                len,
                perms,
            }
            | Syscall::MemProtect {
                space,
                addr,
                len,
                perms,
            } => &[h(space), addr.addr(), len, perms.bits()],
            Syscall::MemUnmap { space, addr, len } => &[h(space), addr.addr(), len],
            Syscall::CapDelete { slot: one }
            | Syscall::CapRevoke { slot: one }
            | Syscall::CapIdentify { slot: one }
            | Syscall::MemoryInfo { memory: one }
            | Syscall::ProcessKill { process: one } => &[h(one)],
            Syscall::CapCopy { src, dest } | Syscall::CapMove { src, dest } => &[h(src), h(dest)],
            Syscall::CapMint {
                src,
                dest,
                rights,
                badge,
            } => &[h(src), h(dest), u64::from(rights.bits()), badge],
            Syscall::MemorySplit { memory, bytes } => &[h(memory), bytes],
            Syscall::ThreadCreate {
                space,
                entry,
                stack_top,
                arg,
            } => &[h(space), entry.addr(), stack_top.addr(), arg],
            Syscall::EndpointCreate { memory } | Syscall::NotificationCreate { memory } => {
                &[h(memory)]
            }
            Syscall::IpcSend {
                endpoint,
                info,
                words,
            }
            | Syscall::IpcCall {
                endpoint,
                info,
                words,
            }
            | Syscall::IpcReplyRecv {
                endpoint,
                info,
                words,
            } => {
                ipc = [
                    h(endpoint),
                    info.to_raw(),
                    words[0],
                    words[1],
                    words[2],
                    words[3],
                ];
                &ipc
            }
            Syscall::IpcReply { info, words } => {
                ipc = [0, info.to_raw(), words[0], words[1], words[2], words[3]];
                &ipc
            }
            Syscall::IpcRecv { endpoint, info } => &[h(endpoint), info.to_raw()],
            Syscall::NotifySignal {
                notification,
                bits: value,
            }
            | Syscall::NotifyWait {
                notification,
                timeout_ns: value,
            } => &[h(notification), value],
            Syscall::NotifyPoll { notification } => &[h(notification)],
            Syscall::ThreadSetCpu { thread, cpu } => &[h(thread), u64::from(cpu)],
            Syscall::TraceRead {
                trace,
                cpu,
                cursor,
                buf,
                len,
            } => {
                ipc = [h(trace), u64::from(cpu), cursor, buf.addr(), len, 0];
                &ipc[..5]
            }
            Syscall::MetricsRead { object, buf, len } => &[h(object), buf.addr(), len],
            Syscall::TraceControl { trace, categories } => &[h(trace), u64::from(categories)],
            Syscall::FrameCreate { memory, bytes } => &[h(memory), bytes],
            Syscall::FrameMap {
                frame,
                space,
                addr,
                perms,
            } => &[h(frame), h(space), addr.addr(), perms.bits()],
        };
        let mut args = [0; 6];
        args[..used.len()].copy_from_slice(used);
        (self.sysno() as u64, args)
    }

    pub const fn sysno(&self) -> Sysno {
        match self {
            Syscall::AbiVersion => Sysno::AbiVersion,
            Syscall::DebugWrite { .. } => Sysno::DebugWrite,
            Syscall::ProcessExit { .. } => Sysno::ProcessExit,
            Syscall::ProcessSpawn { .. } => Sysno::ProcessSpawn,
            Syscall::ProcessWait { .. } => Sysno::ProcessWait,
            Syscall::ThreadYield => Sysno::ThreadYield,
            Syscall::ThreadSleep { .. } => Sysno::ThreadSleep,
            Syscall::ClockMonotonic => Sysno::ClockMonotonic,
            Syscall::MemMap { .. } => Sysno::MemMap,
            Syscall::MemUnmap { .. } => Sysno::MemUnmap,
            Syscall::MemProtect { .. } => Sysno::MemProtect,
            Syscall::CapDelete { .. } => Sysno::CapDelete,
            Syscall::CapCopy { .. } => Sysno::CapCopy,
            Syscall::CapMint { .. } => Sysno::CapMint,
            Syscall::CapMove { .. } => Sysno::CapMove,
            Syscall::CapRevoke { .. } => Sysno::CapRevoke,
            Syscall::CapIdentify { .. } => Sysno::CapIdentify,
            Syscall::MemorySplit { .. } => Sysno::MemorySplit,
            Syscall::MemoryInfo { .. } => Sysno::MemoryInfo,
            Syscall::ThreadCreate { .. } => Sysno::ThreadCreate,
            Syscall::ThreadExit { .. } => Sysno::ThreadExit,
            Syscall::ThreadWait { .. } => Sysno::ThreadWait,
            Syscall::ProcessKill { .. } => Sysno::ProcessKill,
            Syscall::EndpointCreate { .. } => Sysno::EndpointCreate,
            Syscall::NotificationCreate { .. } => Sysno::NotificationCreate,
            Syscall::IpcSend { .. } => Sysno::IpcSend,
            Syscall::IpcRecv { .. } => Sysno::IpcRecv,
            Syscall::IpcCall { .. } => Sysno::IpcCall,
            Syscall::IpcReply { .. } => Sysno::IpcReply,
            Syscall::IpcReplyRecv { .. } => Sysno::IpcReplyRecv,
            Syscall::NotifySignal { .. } => Sysno::NotifySignal,
            Syscall::NotifyWait { .. } => Sysno::NotifyWait,
            Syscall::NotifyPoll { .. } => Sysno::NotifyPoll,
            Syscall::ThreadSetCpu { .. } => Sysno::ThreadSetCpu,
            Syscall::TraceRead { .. } => Sysno::TraceRead,
            Syscall::MetricsRead { .. } => Sysno::MetricsRead,
            Syscall::TraceControl { .. } => Sysno::TraceControl,
            Syscall::FrameCreate { .. } => Sysno::FrameCreate,
            Syscall::FrameMap { .. } => Sysno::FrameMap,
        }
    }
}

/// For traces: `mem_map(space=h2, addr=0x0, len=0x2000, perms=rw-)`.
impl fmt::Display for Syscall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.sysno())?;
        match *self {
            Syscall::AbiVersion | Syscall::ThreadYield | Syscall::ClockMonotonic => Ok(()),
            Syscall::DebugWrite { console, buf, len } => {
                write!(f, "console={console}, buf={buf}, len={len}")
            }
            Syscall::ProcessExit { code } | Syscall::ThreadExit { code } => {
                write!(f, "code={code}")
            }
            Syscall::ProcessSpawn {
                module,
                memory,
                args,
                args_len,
                grants,
                grant_count,
            } => write!(
                f,
                "module={module}, memory={memory}, args={args}, args_len={args_len}, \
                 grants={grants}, grant_count={grant_count}"
            ),
            Syscall::ProcessWait {
                process,
                timeout_ns,
            } => write!(f, "process={process}, timeout_ns={timeout_ns}"),
            Syscall::ThreadWait { thread, timeout_ns } => {
                write!(f, "thread={thread}, timeout_ns={timeout_ns}")
            }
            Syscall::ThreadSleep { ns } => write!(f, "ns={ns}"),
            Syscall::MemMap {
                space,
                addr,
                len,
                perms,
            }
            | Syscall::MemProtect {
                space,
                addr,
                len,
                perms,
            } => write!(f, "space={space}, addr={addr}, len={len:#x}, perms={perms}"),
            Syscall::MemUnmap { space, addr, len } => {
                write!(f, "space={space}, addr={addr}, len={len:#x}")
            }
            Syscall::CapDelete { slot }
            | Syscall::CapRevoke { slot }
            | Syscall::CapIdentify { slot } => {
                write!(f, "slot={slot}")
            }
            Syscall::CapCopy { src, dest } | Syscall::CapMove { src, dest } => {
                write!(f, "src={src}, dest={dest}")
            }
            Syscall::CapMint {
                src,
                dest,
                rights,
                badge,
            } => write!(
                f,
                "src={src}, dest={dest}, rights={rights}, badge={badge:#x}"
            ),
            Syscall::MemorySplit { memory, bytes } => {
                write!(f, "memory={memory}, bytes={bytes:#x}")
            }
            Syscall::MemoryInfo { memory } => write!(f, "memory={memory}"),
            Syscall::ThreadCreate {
                space,
                entry,
                stack_top,
                arg,
            } => write!(
                f,
                "space={space}, entry={entry}, stack_top={stack_top}, arg={arg:#x}"
            ),
            Syscall::ProcessKill { process } => write!(f, "process={process}"),
            Syscall::EndpointCreate { memory } | Syscall::NotificationCreate { memory } => {
                write!(f, "memory={memory}")
            }
            Syscall::IpcSend {
                endpoint,
                info,
                words,
            }
            | Syscall::IpcCall {
                endpoint,
                info,
                words,
            }
            | Syscall::IpcReplyRecv {
                endpoint,
                info,
                words,
            } => write!(f, "endpoint={endpoint}, info=[{info}], words={words:x?}"),
            Syscall::IpcReply { info, words } => write!(f, "info=[{info}], words={words:x?}"),
            Syscall::IpcRecv { endpoint, info } => write!(f, "endpoint={endpoint}, info=[{info}]"),
            Syscall::NotifySignal { notification, bits } => {
                write!(f, "notification={notification}, bits={bits:#x}")
            }
            Syscall::NotifyWait {
                notification,
                timeout_ns,
            } => write!(f, "notification={notification}, timeout_ns={timeout_ns}"),
            Syscall::NotifyPoll { notification } => write!(f, "notification={notification}"),
            Syscall::ThreadSetCpu { thread, cpu } => write!(f, "thread={thread}, cpu={cpu}"),
            Syscall::TraceRead {
                trace,
                cpu,
                cursor,
                buf,
                len,
            } => write!(
                f,
                "trace={trace}, cpu={cpu}, cursor={cursor}, buf={buf}, len={len}"
            ),
            Syscall::MetricsRead { object, buf, len } => {
                write!(f, "object={object}, buf={buf}, len={len}")
            }
            Syscall::TraceControl { trace, categories } => {
                write!(f, "trace={trace}, categories={categories:#x}")
            }
            Syscall::FrameCreate { memory, bytes } => {
                write!(f, "memory={memory}, bytes={bytes:#x}")
            }
            Syscall::FrameMap {
                frame,
                space,
                addr,
                perms,
            } => write!(
                f,
                "frame={frame}, space={space}, addr={addr}, perms={perms}"
            ),
        }?;
        f.write_str(")")
    }
}
