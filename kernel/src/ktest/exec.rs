//! Loading user programs (boot modules) into address spaces.

use super::{Outcome, ensure};
use crate::Boot;
use crate::arch;
use crate::exec::{self, LoadError, STACK_SIZE, STACK_TOP};
use crate::mm::frames;
use alloc::vec::Vec;
use ferrous_elfload::ElfError;

/// Sets PF_W on the first executable PT_LOAD of a copy of `elf`.
fn with_writable_text(elf: &[u8]) -> Option<Vec<u8>> {
    let mut k = elf.to_vec();
    let rd = |k: &[u8], at: usize, n: usize| -> Option<u64> {
        let b = k.get(at..at + n)?;
        let mut v = [0u8; 8];
        v[..n].copy_from_slice(b);
        Some(u64::from_le_bytes(v))
    };
    let phoff = rd(&k, 32, 8)? as usize;
    let phentsize = rd(&k, 54, 2)? as usize;
    let phnum = rd(&k, 56, 2)? as usize;
    let text = (0..phnum)
        .map(|i| phoff + i * phentsize)
        .find(|&p| rd(&k, p, 4) == Some(1) && rd(&k, p + 4, 4).is_some_and(|f| f & 1 != 0))?;
    k.get_mut(text + 4..text + 8)?
        .copy_from_slice(&7u32.to_le_bytes());
    Some(k)
}

fn check_program(boot: &Boot, name: &'static str) -> Outcome {
    let elf = boot.data.module(name).ok_or("boot module missing")?;
    let plan = ferrous_elfload::plan(elf, exec::USER_IMAGE_START..STACK_TOP - STACK_SIZE - 4096)
        .map_err(|_| "module is not a valid program")?;
    let free = frames::stats().free;
    let args = b"hello\0--verbose\0";
    let mut image = exec::load(elf, args, None).map_err(|e| {
        log::error!("exec: {name}: {e}");
        "load failed"
    })?;
    let t = image.space.translate(image.entry).ok_or("entry unmapped")?;
    ensure(
        t.flags.user && t.flags.executable && !t.flags.writable,
        "entry not in user r-x memory",
    )?;
    for seg in plan.segments() {
        for page in seg.pages().step_by(4096) {
            let t = image.space.translate(page).ok_or("segment page unmapped")?;
            ensure(
                t.flags.user
                    && t.flags.writable == seg.perms.write
                    && t.flags.executable == seg.perms.execute,
                "segment mapped with the wrong permissions",
            )?;
        }
    }
    // The first file byte of the first segment arrived.
    let first = plan.segments()[0];
    let t = image
        .space
        .translate(first.vaddr & !7)
        .ok_or("first segment unmapped")?;
    let want = u64::from_le_bytes(
        elf[first.file_offset as usize & !7..(first.file_offset as usize & !7) + 8]
            .try_into()
            .map_err(|_| "short")?,
    );
    ensure(
        arch::mm::read_phys_u64(t.phys) == want,
        "segment contents differ from the file",
    )?;
    let top = image
        .space
        .translate(image.stack_top - 8)
        .ok_or("stack unmapped")?;
    ensure(
        image.stack_top == STACK_TOP && image.stack_top.is_multiple_of(16),
        "stack top",
    )?;
    ensure(
        top.flags.user && top.flags.writable && !top.flags.executable,
        "stack not rw-",
    )?;
    ensure(
        image.space.translate(STACK_TOP - STACK_SIZE - 8).is_none(),
        "stack guard page mapped",
    )?;
    ensure(image.space.translate(0).is_none(), "page 0 mapped")?;
    let a = image
        .space
        .translate(image.args)
        .ok_or("args page unmapped")?;
    ensure(
        a.flags.user && !a.flags.writable && !a.flags.executable,
        "args page not r--",
    )?;
    ensure(
        arch::mm::read_phys_u64(a.phys)
            == u64::from_le_bytes(args[..8].try_into().map_err(|_| "short")?),
        "arguments not copied",
    )?;
    log::info!(
        "exec: {name}: entry {:#x}, {} segments in {} pages, stack {:#x}..{:#x} (guard below), {} argument bytes",
        image.entry,
        plan.segments().len(),
        image.image_pages,
        STACK_TOP - STACK_SIZE,
        STACK_TOP,
        image.args_len
    );
    image.space.destroy();
    ensure(
        frames::stats().free == free,
        "address space teardown leaked frames",
    )
}

pub fn elf_load(boot: &Boot) -> Outcome {
    for name in ["hello", "init"] {
        check_program(boot, name)?;
    }
    // Compare user and page-table frames: the W+X copy below grows the heap.
    let user = |st: frames::Stats| {
        (
            st.allocated(frames::FrameKind::User),
            st.allocated(frames::FrameKind::PageTable),
        )
    };
    let before = user(frames::stats());
    let hello = boot.data.module("hello").ok_or("boot module missing")?;
    ensure(
        matches!(
            exec::load(b"\x7fELF but not really", b"", None),
            Err(LoadError::Elf(ElfError::Malformed(_)))
        ),
        "garbage accepted",
    )?;
    let wx = with_writable_text(hello).ok_or("cannot patch")?;
    ensure(
        matches!(
            exec::load(&wx, b"", None),
            Err(LoadError::Elf(ElfError::WritableAndExecutable(_)))
        ),
        "W+X segment accepted",
    )?;
    ensure(
        matches!(
            exec::load(&hello[..hello.len() / 2], b"", None),
            Err(LoadError::Elf(_))
        ),
        "truncated program accepted",
    )?;
    ensure(
        matches!(
            exec::load(hello, &[0u8; 5000], None),
            Err(LoadError::ArgsTooLarge(5000))
        ),
        "oversized arguments accepted",
    )?;
    ensure(
        user(frames::stats()) == before,
        "a refused program leaked frames",
    )?;
    log::info!(
        "exec: garbage, truncated, W+X and oversized-argument programs refused with specific errors"
    );
    Ok(())
}
