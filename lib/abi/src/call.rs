//! Typed system calls and their register encoding.

use crate::{
    Handle, MAX_DEBUG_WRITE, MAX_SPAWN_ARGS, PAGE_SIZE, Perms, SysError, Sysno, USER_END,
    USER_MAP_END, UserPtr,
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
    ProcessSpawn {
        module: Handle,
        args: UserPtr,
        args_len: u64,
    },
    ProcessWait {
        child: Handle,
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
    HandleClose {
        handle: Handle,
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
                let args = a.user_ptr(1, false)?;
                let args_len = a.len(2, args, BYTES_SPAWN)?;
                Syscall::ProcessSpawn {
                    module,
                    args,
                    args_len,
                }
            }
            Sysno::ProcessWait => Syscall::ProcessWait {
                child: a.handle(0)?,
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
            Sysno::HandleClose => Syscall::HandleClose {
                handle: a.handle(0)?,
            },
        };
        a.unused_from(sysno.arg_count())?;
        Ok(call)
    }

    /// `(rax, argument registers)`, unused registers zero.
    pub fn encode(&self) -> (u64, [u64; 6]) {
        let h = |h: Handle| u64::from(h.0);
        let used: &[u64] = match *self {
            Syscall::AbiVersion | Syscall::ThreadYield | Syscall::ClockMonotonic => &[],
            Syscall::DebugWrite { console, buf, len } => &[h(console), buf.addr(), len],
            Syscall::ProcessExit { code } => &[u64::from(code)],
            Syscall::ProcessSpawn {
                module,
                args,
                args_len,
            } => &[h(module), args.addr(), args_len],
            Syscall::ProcessWait { child, timeout_ns } => &[h(child), timeout_ns],
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
            Syscall::HandleClose { handle } => &[h(handle)],
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
            Syscall::HandleClose { .. } => Sysno::HandleClose,
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
            Syscall::ProcessExit { code } => write!(f, "code={code}"),
            Syscall::ProcessSpawn {
                module,
                args,
                args_len,
            } => write!(f, "module={module}, args={args}, args_len={args_len}"),
            Syscall::ProcessWait { child, timeout_ns } => {
                write!(f, "child={child}, timeout_ns={timeout_ns}")
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
            Syscall::HandleClose { handle } => write!(f, "handle={handle}"),
        }?;
        f.write_str(")")
    }
}
