//! The only code that touches user memory. Every user pointer is an
//! allegation: the range is checked to lie in the user half without
//! wrapping, then copied with SMAP opened (`stac`) for exactly one
//! `rep movsb`. If the copy faults (unmapped, or writing a read-only page),
//! the page-fault handler resumes at a fix-up that reports the error
//! instead of panicking.

use ferrous_paging::USER_END;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserCopyError {
    /// Part of the range lies outside the user half.
    NotUserMemory { addr: u64 },
    /// `addr + len` wraps around.
    RangeWraps { addr: u64, len: u64 },
    /// The range is not (fully) mapped with the needed permission.
    Fault { addr: u64 },
}

// Two variants: `stac`/`clac` raise #UD on CPUs without SMAP, so those
// get the plain one. rdi = destination, rsi = source, rdx = length;
// returns rax = bytes not copied and rdx = the faulting address (the
// page-fault handler puts CR2 in rdx when it resumes at the fix-up), so
// the answer cannot mix with another CPU's or thread's copy.
core::arch::global_asm!(
    ".section .text",
    "ferrous_usercopy_smap:",
    "    mov rcx, rdx",
    "    stac",
    "ferrous_usercopy_smap_copy:",
    "    rep movsb",
    "    clac",
    "    xor eax, eax",
    "    xor edx, edx",
    "    ret",
    "ferrous_usercopy_smap_fixup:",
    "    clac",
    "    mov rax, rcx",
    "    ret",
    "ferrous_usercopy_plain:",
    "    mov rcx, rdx",
    "ferrous_usercopy_plain_copy:",
    "    rep movsb",
    "    xor eax, eax",
    "    xor edx, edx",
    "    ret",
    "ferrous_usercopy_plain_fixup:",
    "    mov rax, rcx",
    "    ret",
    ".section .rodata",
    ".balign 8",
    // Global: the Rust code that reads it may be in another codegen unit
    // (release builds), where a local label would not resolve.
    ".globl FERROUS_USERCOPY_SITES",
    "FERROUS_USERCOPY_SITES:",
    ".quad ferrous_usercopy_smap_copy, ferrous_usercopy_smap_fixup",
    ".quad ferrous_usercopy_plain_copy, ferrous_usercopy_plain_fixup",
    ".quad ferrous_usercopy_smap, ferrous_usercopy_plain",
    ".section .text",
);

unsafe extern "C" {
    /// (copy instruction, fix-up) for each variant, then the two entry points.
    static FERROUS_USERCOPY_SITES: [u64; 6];
}

/// What the copy routine returns in rax:rdx.
#[repr(C)]
struct CopyResult {
    left: u64,
    fault_addr: u64,
}

type CopyFn = unsafe extern "C" fn(*mut u8, *const u8, usize) -> CopyResult;

fn copy_routine() -> CopyFn {
    // SAFETY: an immutable table defined above; entries 4 and 5 are the
    // addresses of the two routines, which have exactly this signature.
    unsafe {
        let sites = &FERROUS_USERCOPY_SITES;
        let entry = if super::cpu::features().smap_enabled {
            sites[4]
        } else {
            sites[5]
        };
        core::mem::transmute::<u64, CopyFn>(entry)
    }
}

/// Called by the page-fault handler: if `rip` is the user-copy instruction,
/// returns where to resume (the handler also sets rdx to CR2).
pub(super) fn fixup_for(rip: u64) -> Option<u64> {
    // SAFETY: an immutable table of code addresses defined above.
    let sites = unsafe { &FERROUS_USERCOPY_SITES };
    let fixup = if rip == sites[0] {
        sites[1]
    } else if rip == sites[2] {
        sites[3]
    } else {
        return None;
    };
    Some(fixup)
}

fn check(addr: u64, len: usize) -> Result<(), UserCopyError> {
    let len = len as u64;
    let end = addr
        .checked_add(len)
        .ok_or(UserCopyError::RangeWraps { addr, len })?;
    if end > USER_END {
        return Err(UserCopyError::NotUserMemory {
            addr: addr.max(USER_END),
        });
    }
    Ok(())
}

fn outcome(r: CopyResult) -> Result<(), UserCopyError> {
    if r.left == 0 {
        Ok(())
    } else {
        Err(UserCopyError::Fault { addr: r.fault_addr })
    }
}

/// Copies `dst.len()` bytes from user address `src`.
pub fn copy_from_user(dst: &mut [u8], src: u64) -> Result<(), UserCopyError> {
    check(src, dst.len())?;
    // SAFETY: `dst` is a valid kernel buffer; `src..src+len` lies in the user
    // half (checked), where a missing or forbidden page faults into the
    // fix-up instead of touching kernel memory.
    outcome(unsafe { copy_routine()(dst.as_mut_ptr(), src as *const u8, dst.len()) })
}

/// Copies `src` to user address `dst`.
pub fn copy_to_user(dst: u64, src: &[u8]) -> Result<(), UserCopyError> {
    check(dst, src.len())?;
    // SAFETY: as in `copy_from_user`, with the roles swapped; writes land only
    // in user pages the hardware lets us write.
    outcome(unsafe { copy_routine()(dst as *mut u8, src.as_ptr(), src.len()) })
}
