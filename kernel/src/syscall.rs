//! The system-call dispatcher: decode through `ferrous-abi` (which checks
//! everything that needs no kernel state), act, encode the result. Every
//! refusal is logged with the call and the specific error, so a user
//! program's failures explain themselves.

use crate::arch::{self, user::SyscallFrame, usercopy};
use crate::process::{self, Process};
use crate::thread;
use alloc::sync::Arc;
use alloc::vec::Vec;
use ferrous_abi::{
    ABI_VERSION, ExitStatus, Handle, Perms, SysError, Syscall, USER_END, encode_result, initial,
};
use ferrous_paging::Flags;

/// Most bytes one `mem_map` call may map.
const MAX_MAP_LEN: u64 = 64 << 20;

pub fn dispatch(frame: &mut SyscallFrame) {
    let (nr, args) = frame.call();
    let result = match Syscall::decode(nr, args) {
        Ok(call) => {
            log::trace!("syscall {call}");
            perform(call)
        }
        Err(e) => Err(e),
    };
    if let Err(e) = &result {
        let who = thread::current_process().map_or("?", |p| p.name);
        log::debug!("syscall {nr} from {who} refused: {e}");
    }
    let (rax, rdx) = encode_result(result);
    frame.set_result(rax, rdx);
    if frame.rip >= USER_END {
        // SYSRET to a non-canonical RIP would fault in ring 0.
        process::exit_current(ExitStatus::Faulted { vector: 13 });
    }
}

fn me() -> Result<Arc<Process>, SysError> {
    thread::current_process().ok_or(SysError::EmptySlot { arg: 0 })
}

fn copy_in(addr: u64, len: u64, arg: u8) -> Result<Vec<u8>, SysError> {
    let mut buf = Vec::new();
    buf.try_reserve_exact(len as usize)
        .map_err(|_| SysError::OutOfMemory)?;
    buf.resize(len as usize, 0);
    usercopy::copy_from_user(&mut buf, addr).map_err(|e| match e {
        usercopy::UserCopyError::Fault { addr } => SysError::BadAddress { addr },
        usercopy::UserCopyError::NotUserMemory { .. } => SysError::RangeOutsideUser { arg },
        usercopy::UserCopyError::RangeWraps { .. } => SysError::LengthWraps { arg },
    })?;
    Ok(buf)
}

fn flags(p: Perms) -> Flags {
    if p.contains(Perms::WRITE) {
        Flags::USER_RW
    } else if p.contains(Perms::EXECUTE) {
        Flags::USER_RX
    } else {
        Flags::USER_RO
    }
}

/// `mem_unmap` and `mem_protect` act on whole mappings: every page of the
/// range must be mapped, else `BadAddress` at the first hole, and nothing
/// changes.
fn all_mapped(s: &mut crate::mm::kspace::UserSpace, addr: u64, len: u64) -> Result<(), SysError> {
    match (addr..addr + len)
        .step_by(4096)
        .find(|&va| s.translate(va).is_none())
    {
        Some(hole) => Err(SysError::BadAddress { addr: hole }),
        None => Ok(()),
    }
}

fn own_space(space: Handle) -> Result<(), SysError> {
    if space == initial::SELF_SPACE {
        Ok(())
    } else {
        Err(SysError::EmptySlot { arg: 0 })
    }
}

fn perform(call: Syscall) -> Result<u64, SysError> {
    match call {
        Syscall::AbiVersion => Ok(ABI_VERSION as u64),
        Syscall::DebugWrite { console, buf, len } => {
            if console != initial::CONSOLE {
                return Err(SysError::EmptySlot { arg: 0 });
            }
            let bytes = copy_in(buf.addr(), len, 1)?;
            let name = me()?.name;
            let text = core::str::from_utf8(&bytes).unwrap_or("<not UTF-8>");
            for line in text.lines() {
                log::info!("[{name}] {line}");
            }
            Ok(0)
        }
        Syscall::ProcessExit { code } => process::exit_current(ExitStatus::Exited { code }),
        Syscall::ThreadYield => {
            thread::yield_now();
            Ok(0)
        }
        Syscall::ThreadSleep { ns } => {
            thread::sleep_ns(ns);
            Ok(0)
        }
        Syscall::ClockMonotonic => Ok(arch::time::now_ns()),
        Syscall::ProcessSpawn {
            module,
            args,
            args_len,
        } => {
            let me = me()?;
            let boot = &crate::BOOT
                .get()
                .ok_or(SysError::EmptySlot { arg: 0 })?
                .data;
            let index = module
                .0
                .checked_sub(initial::FIRST_MODULE.0)
                .filter(|_| me.is_init)
                .ok_or(SysError::EmptySlot { arg: 0 })? as usize;
            let m = boot
                .modules
                .get(index)
                .ok_or(SysError::EmptySlot { arg: 0 })?;
            let elf = boot.module_bytes(m).ok_or(SysError::BadElf)?;
            let args = copy_in(args.addr(), args_len, 1)?;
            // A failed call changes nothing: no child without a handle for it.
            if !me.has_child_slot() {
                return Err(SysError::TableFull);
            }
            let name = m.name();
            let child = process::spawn(name, elf, &args, false).map_err(|e| {
                log::warn!("process_spawn of {name}: {e}");
                match e {
                    process::SpawnError::Load(crate::exec::LoadError::Elf(_)) => SysError::BadElf,
                    _ => SysError::OutOfMemory,
                }
            })?;
            me.adopt(child).map(u64::from).ok_or(SysError::TableFull)
        }
        Syscall::ProcessWait { child, timeout_ns } => {
            let c = me()?.child(child.0).ok_or(SysError::NotChild { arg: 0 })?;
            match c.wait(timeout_ns) {
                Some(status) => Ok(status.to_raw()),
                None if timeout_ns == 0 => Err(SysError::WouldBlock),
                None => Err(SysError::TimedOut),
            }
        }
        Syscall::HandleClose { handle } => {
            if me()?.close_child(handle.0) {
                Ok(0)
            } else {
                Err(SysError::EmptySlot { arg: 0 })
            }
        }
        Syscall::MemMap {
            space,
            addr,
            len,
            perms,
        } => {
            own_space(space)?;
            let addr = addr.addr();
            if addr == 0 {
                // Kernel-chosen placement arrives with the VM-object work.
                return Err(SysError::AddressSpaceFull);
            }
            // One call maps at most this much (memory quotas come with
            // resource groups); more is refused before any work is done.
            if len > MAX_MAP_LEN {
                return Err(SysError::LengthTooLarge { arg: 2 });
            }
            let me = me()?;
            me.with_space(|s| {
                let mut va = addr;
                while va < addr + len {
                    if s.translate(va).is_some() {
                        s.unmap_range(addr, va);
                        return Err(SysError::AlreadyMapped { addr: va });
                    }
                    if s.map_new(va, flags(perms)).is_err() {
                        s.unmap_range(addr, va);
                        return Err(SysError::OutOfMemory);
                    }
                    va += 4096;
                }
                Ok(addr)
            })
            .ok_or(SysError::EmptySlot { arg: 0 })?
        }
        Syscall::MemUnmap { space, addr, len } => {
            own_space(space)?;
            let addr = addr.addr();
            me()?
                .with_space(|s| {
                    all_mapped(s, addr, len)?;
                    s.unmap_range(addr, addr + len);
                    Ok(0)
                })
                .ok_or(SysError::EmptySlot { arg: 0 })?
        }
        Syscall::MemProtect {
            space,
            addr,
            len,
            perms,
        } => {
            own_space(space)?;
            let addr = addr.addr();
            me()?
                .with_space(|s| {
                    all_mapped(s, addr, len)?;
                    for va in (addr..addr + len).step_by(4096) {
                        s.protect(va, flags(perms))
                            .map_err(|_| SysError::BadAddress { addr: va })?;
                    }
                    Ok(0)
                })
                .ok_or(SysError::EmptySlot { arg: 0 })?
        }
    }
}
