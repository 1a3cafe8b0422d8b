//! Loading a user program (a boot module) into a fresh user address space:
//! the ELF is validated completely by `ferrous-elfload` first, then each
//! segment is mapped with exactly its permissions (W^X), a stack with an
//! unmapped guard page below it, and a read-only page with the arguments.
//! `process::create` then gives the image a thread that enters ring 3.

use crate::arch;
use crate::memory::Memory;
use crate::mm::uspace::UserSpace;
use alloc::sync::Arc;
use ferrous_abi::{PAGE_SIZE, SysError, USER_MAP_END};
use ferrous_elfload::{ElfError, Perms};
use ferrous_paging::Flags;

/// Lowest address a program may use: page 0 stays unmapped so null
/// dereferences fault.
pub const USER_IMAGE_START: u64 = PAGE_SIZE;
/// The stack's top, its size, and the page of arguments above it (with an
/// unmapped page in between).
pub const STACK_TOP: u64 = 0x0000_7fff_ff00_0000;
pub const STACK_SIZE: u64 = 64 * 1024;
pub const ARGS_PAGE: u64 = STACK_TOP + PAGE_SIZE;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The file is not a loadable program (the reason is specific).
    Elf(ElfError),
    /// Building the address space failed: its budget could not pay
    /// (`QuotaExceeded`) or the machine is out of memory.
    Space(SysError),
    ArgsTooLarge(usize),
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LoadError::Elf(e) => write!(f, "bad ELF: {e}"),
            LoadError::Space(e) => write!(f, "cannot build the address space: {e}"),
            LoadError::ArgsTooLarge(n) => write!(f, "{n} bytes of arguments exceed a page"),
        }
    }
}

/// A program laid out in its address space, ready for its first thread.
pub struct Image {
    pub space: UserSpace,
    pub entry: u64,
    /// 16-byte aligned top of the stack.
    pub stack_top: u64,
    pub args: u64,
    pub args_len: u64,
    /// Pages mapped for segments (for reports and tests).
    pub image_pages: usize,
}

fn flags(p: Perms) -> Flags {
    match (p.write, p.execute) {
        (true, _) => Flags::USER_RW, // W+X never gets here (elfload refuses it)
        (false, true) => Flags::USER_RX,
        (false, false) => Flags::USER_RO,
    }
}

/// Loads `elf` with argument bytes `args` into a new address space whose
/// frames and tables are charged to `budget` as they are made.
pub fn load(elf: &[u8], args: &[u8], budget: Option<Arc<Memory>>) -> Result<Image, LoadError> {
    // Segments stay below the stack's guard page.
    let plan = ferrous_elfload::plan(elf, USER_IMAGE_START..STACK_TOP - STACK_SIZE - PAGE_SIZE)
        .map_err(LoadError::Elf)?;
    if args.len() as u64 > PAGE_SIZE {
        return Err(LoadError::ArgsTooLarge(args.len()));
    }
    let mut space = UserSpace::new(budget).map_err(LoadError::Space)?;
    match fill(&mut space, elf, &plan, args) {
        Ok(image_pages) => Ok(Image {
            space,
            entry: plan.entry,
            stack_top: STACK_TOP,
            // The ABI: no arguments means rdi = 0 and rsi = 0.
            args: if args.is_empty() { 0 } else { ARGS_PAGE },
            args_len: args.len() as u64,
            image_pages,
        }),
        Err(e) => {
            space.destroy();
            Err(e)
        }
    }
}

fn fill(
    space: &mut UserSpace,
    elf: &[u8],
    plan: &ferrous_elfload::LoadPlan,
    args: &[u8],
) -> Result<usize, LoadError> {
    const _: () = assert!(ARGS_PAGE + PAGE_SIZE <= USER_MAP_END);
    let mut pages = 0;
    for seg in plan.segments() {
        let file = &elf[seg.file_range()];
        // File bytes occupy [vaddr, vaddr + file.len()); the rest is zero.
        let data = seg.vaddr..seg.vaddr + file.len() as u64;
        for page in seg.pages().step_by(PAGE_SIZE as usize) {
            let pa = space
                .map_new(page, flags(seg.perms))
                .map_err(LoadError::Space)?;
            pages += 1;
            let from = data.start.max(page);
            let to = data.end.min(page + PAGE_SIZE);
            if from < to {
                let src = &file[(from - data.start) as usize..(to - data.start) as usize];
                arch::mm::copy_to_frame(pa, (from - page) as usize, src);
            }
        }
    }
    // The stack, with the page below it left unmapped as a guard.
    let mut va = STACK_TOP - STACK_SIZE;
    while va < STACK_TOP {
        space
            .map_new(va, Flags::USER_RW)
            .map_err(LoadError::Space)?;
        va += PAGE_SIZE;
    }
    let pa = space
        .map_new(ARGS_PAGE, Flags::USER_RO)
        .map_err(LoadError::Space)?;
    arch::mm::copy_to_frame(pa, 0, args);
    Ok(pages)
}
