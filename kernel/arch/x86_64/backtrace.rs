//! Stack walking through the frame-pointer chain (the kernel is built with
//! `-C force-frame-pointers=yes`). Every step is checked against the known
//! stack bounds, so a corrupt chain ends the walk instead of faulting.

use core::fmt::Write;

const MAX_FRAMES: usize = 24;

/// Return addresses from frame `rbp` upwards, innermost first.
pub fn walk(mut rbp: u64, mut visit: impl FnMut(u64)) {
    let Some(stack) = stack_containing(rbp) else {
        return;
    };
    for _ in 0..MAX_FRAMES {
        // A frame record is [saved rbp, return address]; both must lie on
        // the stack we know about.
        if !rbp.is_multiple_of(8) || rbp < stack.start || rbp + 16 > stack.end {
            return;
        }
        // SAFETY: rbp..rbp+16 lies inside a known stack, mapped and
        // readable while we run on it.
        let (next, ret) = unsafe {
            let p = rbp as *const u64;
            (p.read(), p.add(1).read())
        };
        if ret == 0 {
            return;
        }
        visit(ret);
        if next <= rbp {
            return; // frames must move towards the stack base
        }
        rbp = next;
    }
}

/// The known stack `addr` lies on: the boot stack, an IST stack, or a
/// guarded kernel stack.
fn stack_containing(addr: u64) -> Option<core::ops::Range<u64>> {
    [super::entry::boot_stack(), super::gdt::ist_stacks()]
        .into_iter()
        .find(|s| s.contains(&addr))
        .or_else(|| crate::mm::stacks::bounds_of(addr))
}

/// The caller's frame pointer.
#[inline(always)]
pub fn current_frame() -> u64 {
    let rbp: u64;
    // SAFETY: reads a register only.
    unsafe { core::arch::asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack)) };
    rbp
}

/// Prints `backtrace:` and one return address per line (symbolise with
/// `addr2line -e target/x86_64-unknown-none/<profile>/ferrous-kernel`).
pub fn print(out: &mut impl Write, pc: u64, rbp: u64) {
    let _ = writeln!(out, "backtrace:");
    if pc != 0 {
        let _ = writeln!(out, "  #0 {pc:#018x}");
    }
    let mut n = if pc != 0 { 1 } else { 0 };
    walk(rbp, |ret| {
        let _ = writeln!(out, "  #{n} {ret:#018x}");
        n += 1;
    });
}
