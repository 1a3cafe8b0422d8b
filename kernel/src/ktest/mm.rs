//! Memory-management scenarios.

use super::{Outcome, ensure};
use crate::Boot;
use crate::arch::{self, probe, usercopy};
use crate::mm::{self, SCRATCH, frames, kspace, stacks};
use alloc::boxed::Box;
use alloc::vec::Vec;
use ferrous_bootinfo::MemoryKind;
use ferrous_frames::{FrameError, FrameKind};
use ferrous_paging::{Flags, MapError, PageSize};

const PATTERN: u64 = 0x5eed_f00d_cafe_0001;

pub fn map_round_trip(_: &Boot) -> Outcome {
    let free_before = frames::stats().free;
    let tables_before = kspace::table_count();
    let va = SCRATCH.start + 0x10_0000;
    let pa = frames::alloc(0, FrameKind::Test).map_err(|_| "no frame")?;
    kspace::map(va, pa, PageSize::Size4K, Flags::KERNEL_RW).map_err(|_| "map 4K")?;
    ensure(
        kspace::map(va, pa, PageSize::Size4K, Flags::KERNEL_RW) == Err(MapError::AlreadyMapped(va)),
        "double map not refused",
    )?;
    probe::scratch_write(&SCRATCH, va + 8, PATTERN);
    ensure(
        arch::mm::read_phys_u64(pa + 8) == PATTERN,
        "write through mapping not in the frame",
    )?;
    ensure(
        probe::scratch_read(&SCRATCH, va + 8) == PATTERN,
        "read back differs",
    )?;
    let t = kspace::translate(va + 8).ok_or("translate after map")?;
    ensure(
        t.phys == pa + 8 && t.size == PageSize::Size4K,
        "translation wrong",
    )?;
    ensure(
        t.flags.writable && !t.flags.executable && !t.flags.user,
        "flags wrong after map",
    )?;
    kspace::protect(va, Flags::KERNEL_RO).map_err(|_| "protect")?;
    let t = kspace::translate(va).ok_or("translate after protect")?;
    ensure(!t.flags.writable, "still writable after protect")?;
    ensure(
        probe::scratch_read(&SCRATCH, va + 8) == PATTERN,
        "contents lost by protect",
    )?;

    // A 2 MiB page backed by an order-9 run.
    let va2 = SCRATCH.start + 0x40_0000;
    let pa2 = frames::alloc(9, FrameKind::Test).map_err(|_| "no 2 MiB run")?;
    ensure(pa2 % (2 << 20) == 0, "order-9 run not 2 MiB aligned")?;
    ensure(
        kspace::map(va2 + 4096, pa2, PageSize::Size2M, Flags::KERNEL_RW)
            == Err(MapError::Misaligned(va2 + 4096)),
        "misaligned 2 MiB map not refused",
    )?;
    kspace::map(va2, pa2, PageSize::Size2M, Flags::KERNEL_RW).map_err(|_| "map 2M")?;
    probe::scratch_write(&SCRATCH, va2 + 0x1f_fff8, PATTERN);
    ensure(
        arch::mm::read_phys_u64(pa2 + 0x1f_fff8) == PATTERN,
        "2 MiB page maps the wrong frame",
    )?;
    ensure(
        kspace::translate(va2 + 0x12345).map(|t| t.size) == Some(PageSize::Size2M),
        "2M size",
    )?;
    ensure(
        kspace::unmap(va2) == Ok((pa2, PageSize::Size2M)),
        "unmap 2M",
    )?;
    frames::free(pa2, 9).map_err(|_| "free 2M run")?;

    ensure(kspace::unmap(va) == Ok((pa, PageSize::Size4K)), "unmap 4K")?;
    ensure(kspace::translate(va).is_none(), "still mapped after unmap")?;
    ensure(
        kspace::unmap(va) == Err(MapError::NotMapped(va)),
        "second unmap not refused",
    )?;
    frames::free(pa, 0).map_err(|_| "free 4K")?;

    // A guarded stack: mapped stack, unmapped guard below, all returned on free.
    let stack = stacks::alloc("mm-map-test", 16 * 1024).map_err(|_| "stack")?;
    ensure(
        kspace::translate(stack.top - 8).is_some_and(|t| t.flags.writable),
        "stack unmapped",
    )?;
    ensure(
        kspace::translate(stack.bottom - 8).is_none(),
        "guard page mapped",
    )?;
    ensure(
        matches!(
            mm::region_of(stack.bottom - 8),
            mm::Region::StackGuard("mm-map-test")
        ),
        "guard page not recognised",
    )?;
    stacks::free(stack);
    ensure(frames::stats().free == free_before, "frames leaked")?;
    ensure(kspace::table_count() == tables_before, "page tables leaked")?;
    frames::check_invariants()?;
    log::info!(
        "mm-map: 4 KiB and 2 MiB round trips clean; {} kernel tables",
        tables_before
    );
    Ok(())
}

pub fn heap(_: &Boot) -> Outcome {
    let before = mm::heap::stats();
    let mut v: Vec<u64> = Vec::new();
    for i in 0..200_000u64 {
        v.push(i * 3);
    }
    ensure(
        v.iter().enumerate().all(|(i, &x)| x == i as u64 * 3),
        "heap contents corrupt",
    )?;
    let grown = mm::heap::stats();
    ensure(grown.size > before.size, "heap did not grow")?;
    let boxes: Vec<Box<[u8; 4096]>> = (0..64).map(|i| Box::new([i as u8; 4096])).collect();
    ensure(
        boxes.iter().enumerate().all(|(i, b)| b[4095] == i as u8),
        "boxes corrupt",
    )?;
    drop(boxes);
    drop(v);
    let after = mm::heap::stats();
    ensure(after.used <= before.used, "heap memory not returned")?;
    // A request larger than all memory is an error, not a panic.
    let mut huge: Vec<u8> = Vec::new();
    let total = frames::stats().total * frames::FRAME_SIZE;
    ensure(
        huge.try_reserve(total as usize * 2).is_err(),
        "impossible reservation succeeded",
    )?;
    ensure(
        mm::heap::stats().failed_allocations > before.failed_allocations,
        "failure not counted",
    )?;
    log::info!(
        "mm-heap: grew {} -> {} KiB, {} bytes in use after freeing",
        before.size / 1024,
        grown.size / 1024,
        after.used
    );
    Ok(())
}

pub fn out_of_memory(boot: &Boot) -> Outcome {
    // Reserve the bookkeeping first so the heap need not grow while empty.
    let mut held: Vec<u64> = Vec::new();
    held.try_reserve(frames::stats().free as usize + 16)
        .map_err(|_| "cannot reserve bookkeeping")?;
    let before = frames::stats();
    loop {
        match frames::alloc(0, FrameKind::Test) {
            Ok(pa) => held.push(pa),
            Err(FrameError::OutOfMemory { order: 0 }) => break,
            Err(_) => return Err("unexpected error while exhausting memory"),
        }
    }
    let empty = frames::stats();
    ensure(empty.free == 0, "free count not zero at OOM")?;
    // Every frame handed out was usable or loader memory, never firmware,
    // kernel image, page tables, boot info or modules.
    let map = boot.data.memory_map;
    let meta = frames::meta_range();
    let low = frames::low_page();
    for &pa in &held {
        if meta.contains(&pa) || pa == 0 || Some(pa) == low {
            log::error!(
                "mm-oom: frame {pa:#x} is the allocator's metadata, page 0 or the trampoline page"
            );
            return Err("a reserved frame was handed out");
        }
        let i = map.partition_point(|r| r.base + r.len <= pa);
        let ok = map.get(i).is_some_and(|r| {
            r.base <= pa
                && (r.kind == MemoryKind::USABLE || r.kind == MemoryKind::LOADER_RECLAIMABLE)
        });
        if !ok {
            log::error!("mm-oom: frame {pa:#x} is not in usable memory");
            return Err("a reserved frame was handed out");
        }
    }
    ensure(
        held.len() as u64 == before.free,
        "allocated count differs from free count",
    )?;
    ensure(
        matches!(
            frames::alloc(9, FrameKind::Test),
            Err(FrameError::OutOfMemory { order: 9 })
        ),
        "large allocation at OOM",
    )?;
    // Page tables and the heap fail cleanly too.
    ensure(
        kspace::map(
            SCRATCH.start + 0x800_0000,
            held[0],
            PageSize::Size4K,
            Flags::KERNEL_RW,
        ) == Err(MapError::OutOfMemory),
        "map without table frames did not fail with OutOfMemory",
    )?;
    let mut v: Vec<u8> = Vec::new();
    ensure(
        v.try_reserve(8 << 20).is_err(),
        "heap grew with no frames left",
    )?;
    log::info!(
        "mm-oom: {} frames allocated, all from usable memory, then OutOfMemory",
        held.len()
    );
    for pa in held.drain(..) {
        frames::free(pa, 0).map_err(|_| "free after OOM")?;
    }
    let after = frames::stats();
    ensure(after.free == before.free, "free count not restored exactly")?;
    frames::check_invariants()?;
    log::info!(
        "mm-oom: freed all; free count back to {} exactly",
        after.free
    );
    Ok(())
}

pub fn bad_frees(_: &Boot) -> Outcome {
    let before = frames::stats();
    let pa = frames::alloc(2, FrameKind::Test).map_err(|_| "alloc")?;
    let pfn = pa / frames::FRAME_SIZE;
    ensure(
        frames::free(pa + 4096, 0)
            == Err(FrameError::InsideAllocation {
                pfn: pfn + 1,
                start: pfn,
            }),
        "free inside an allocation not reported",
    )?;
    ensure(
        frames::free(pa, 1)
            == Err(FrameError::WrongOrder {
                pfn,
                allocated: 2,
                given: 1,
            }),
        "wrong order not reported",
    )?;
    ensure(frames::free(pa, 2) == Ok(FrameKind::Test), "good free")?;
    ensure(
        frames::free(pa, 2) == Err(FrameError::DoubleFree { pfn }),
        "double free not reported",
    )?;
    // The kernel image's frames were never handed out by the allocator.
    let image = kspace::translate(arch::image::sections().text.start).ok_or("text unmapped")?;
    ensure(
        matches!(
            frames::free(image.frame, 0),
            Err(FrameError::NotAllocated { .. } | FrameError::OutsideArena { .. })
        ),
        "free of a kernel-image frame not refused",
    )?;
    ensure(
        frames::stats() == before,
        "a refused free changed the counters",
    )?;
    frames::check_invariants()?;
    log::info!("mm-bad-free: inside, wrong-order, double and foreign frees all refused");
    Ok(())
}

pub fn w_xor_x(boot: &Boot) -> Outcome {
    let s = arch::image::sections();
    let check = |range: &core::ops::Range<u64>, w: bool, x: bool, what: &'static str| -> Outcome {
        let mut va = range.start & !0xfff;
        while va < range.end {
            let t = kspace::translate(va).ok_or(what)?;
            if t.flags.writable != w || t.flags.executable != x {
                log::error!("{what}: page {va:#x} is {}", t.flags);
                return Err(what);
            }
            va += 4096;
        }
        log::info!("mm-wx: {what} {:#x}..{:#x} ok", range.start, range.end);
        Ok(())
    };
    check(&s.text, false, true, "kernel text must be r-x")?;
    check(&s.rodata, false, false, "kernel rodata must be r--")?;
    check(&s.data, true, false, "kernel data must be rw-")?;
    let dm = ferrous_bootinfo::PHYS_OFFSET;
    for pa in [0u64, 1 << 20, boot.map.ram_end - 4096] {
        let t = kspace::translate(dm + pa).ok_or("direct map hole")?;
        ensure(
            t.flags.writable && !t.flags.executable,
            "direct map must be rw- (NX)",
        )?;
    }
    Ok(())
}

pub fn hardening(_: &Boot) -> Outcome {
    let f = arch::cpu::features();
    log::info!("mm-hardening: {f:?}");
    ensure(f.nxe && f.write_protect, "NXE or WP off")?;
    ensure(f.smep_enabled == f.smep_supported, "SMEP offered but off")?;
    ensure(f.smap_enabled == f.smap_supported, "SMAP offered but off")?;
    ensure(f.umip_enabled == f.umip_supported, "UMIP offered but off")?;
    Ok(())
}

/// A user space with a writable page at 0x40_0000 and a read-only one after.
fn user_space() -> Result<crate::mm::uspace::UserSpace, &'static str> {
    let mut us = crate::mm::uspace::UserSpace::new(None).map_err(|_| "user space")?;
    us.map_new(0x40_0000, Flags::USER_RW)
        .map_err(|_| "map user rw")?;
    us.map_new(0x40_1000, Flags::USER_RO)
        .map_err(|_| "map user ro")?;
    Ok(us)
}

pub fn usercopy(_: &Boot) -> Outcome {
    use usercopy::UserCopyError as E;
    let before = frames::stats().free;
    let mut us = user_space()?;
    let ro = us.translate(0x40_1000).ok_or("user page unmapped")?;
    ensure(
        ro.flags.user && !ro.flags.writable && !ro.flags.executable,
        "user RO page flags",
    )?;
    // `schedule` puts kernel threads back on the kernel's tables; no
    // preemption while this one borrows a user space.
    crate::thread::preempt_disable();
    arch::mm::switch_root(us.root());
    let result = (|| {
        usercopy::copy_to_user(0x40_0ffc, b"hello, user")
            .map_err(|_| "copy_to_user across pages into RO")
            .err()
            .ok_or("write into a read-only user page succeeded")?;
        usercopy::copy_to_user(0x40_0100, b"hello, user").map_err(|_| "copy_to_user")?;
        let mut buf = [0u8; 11];
        usercopy::copy_from_user(&mut buf, 0x40_0100).map_err(|_| "copy_from_user")?;
        ensure(&buf == b"hello, user", "round trip through user memory")?;
        ensure(
            usercopy::copy_to_user(0x40_1000, b"x") == Err(E::Fault { addr: 0x40_1000 }),
            "write to read-only user page",
        )?;
        ensure(
            usercopy::copy_from_user(&mut buf, 0x50_0000) == Err(E::Fault { addr: 0x50_0000 }),
            "read of unmapped user memory",
        )?;
        let kernel_ptr = arch::image::sections().rodata.start;
        ensure(
            matches!(
                usercopy::copy_from_user(&mut buf, kernel_ptr),
                Err(E::NotUserMemory { .. })
            ),
            "kernel pointer accepted",
        )?;
        ensure(
            matches!(
                usercopy::copy_from_user(&mut buf, ferrous_paging::USER_END - 4),
                Err(E::NotUserMemory { .. })
            ),
            "range crossing into the kernel half accepted",
        )?;
        ensure(
            matches!(
                usercopy::copy_from_user(&mut buf, u64::MAX - 2),
                Err(E::RangeWraps { .. })
            ),
            "wrapping range accepted",
        )?;
        ensure(
            usercopy::copy_from_user(&mut [], 0x99_0000).is_ok(),
            "empty copy",
        )?;
        Ok(())
    })();
    kspace::activate_kernel();
    crate::thread::preempt_enable();
    us.destroy();
    result?;
    ensure(
        frames::stats().free == before,
        "user space teardown leaked frames",
    )?;
    log::info!(
        "mm-usercopy: valid copies work; unmapped, read-only, kernel, crossing and wrapping ranges refused"
    );
    Ok(())
}

pub fn write_text(_: &Boot) -> Outcome {
    let va = arch::image::sections().text.start + 0x100;
    let t = kspace::translate(va).ok_or("text unmapped")?;
    probe::write_must_fault(va, t.flags.writable);
    Err("write to kernel text did not fault")
}

pub fn exec_heap(_: &Boot) -> Outcome {
    let code = Box::new([0xc3u8; 64]); // `ret`
    let va = code.as_ptr() as u64;
    let t = kspace::translate(va).ok_or("heap unmapped")?;
    probe::execute_must_fault(va, t.flags.executable);
    Err("executing heap memory did not fault")
}

#[inline(never)]
#[allow(unconditional_recursion)] // the point: run off the stack
fn recurse(depth: u64) -> u64 {
    let frame = core::hint::black_box([depth; 64]);
    recurse(depth + 1) + frame[7]
}

fn overflow() -> ! {
    let r = recurse(0);
    panic!("recursion returned {r}")
}

pub fn stack_overflow(_: &Boot) -> Outcome {
    let stack = stacks::alloc("overflow-test", 16 * 1024).map_err(|_| "stack")?;
    log::info!(
        "mm-stack-overflow: recursing on {:#x}..{:#x}",
        stack.bottom,
        stack.top
    );
    arch::run_on_stack(stack.top, overflow)
}

pub fn smap(_: &Boot) -> Outcome {
    let us = user_space()?;
    crate::thread::preempt_disable();
    arch::mm::switch_root(us.root());
    let _ = probe::user_read_without_stac(0x40_0000);
    kspace::activate_kernel();
    us.destroy();
    Err("reading user memory without stac did not fault")
}

pub fn smep(_: &Boot) -> Outcome {
    let mut us = crate::mm::uspace::UserSpace::new(None).map_err(|_| "user space")?;
    us.map_new(0x40_0000, Flags::USER_RX)
        .map_err(|_| "map user rx")?;
    crate::thread::preempt_disable();
    arch::mm::switch_root(us.root());
    probe::execute_user_must_fault(0x40_0000);
    kspace::activate_kernel();
    us.destroy();
    Err("executing a user page did not fault")
}

pub fn bench(_: &Boot) -> Outcome {
    // First, so heap growth (which may add page tables) is over before the
    // leak check's baseline.
    crate::bench::measure("heap-alloc-free-64", 2000, || {
        let b = core::hint::black_box(Box::new([0u8; 64]));
        drop(b);
    });
    let tables = frames::stats().allocated(FrameKind::PageTable);
    crate::bench::measure("frame-alloc-free", 2000, || {
        let pa = frames::alloc(0, FrameKind::Test).expect("frame");
        frames::free(pa, 0).expect("free");
    });
    crate::bench::measure("frame-alloc-free-order9", 500, || {
        let pa = frames::alloc(9, FrameKind::Test).expect("run");
        frames::free(pa, 9).expect("free");
    });
    let pa = frames::alloc(0, FrameKind::Test).map_err(|_| "frame")?;
    let va = SCRATCH.start + 0x20_0000;
    // Keep the intermediate tables alive so the loop measures the leaf work.
    kspace::map(va + 4096, pa, PageSize::Size4K, Flags::KERNEL_RO).map_err(|_| "anchor")?;
    crate::bench::measure("map-unmap-4k", 2000, || {
        kspace::map(va, pa, PageSize::Size4K, Flags::KERNEL_RW).expect("map");
        kspace::unmap(va).expect("unmap");
    });
    crate::bench::measure("map-unmap-4k-with-tables", 500, || {
        let far = va + 0x4000_0000;
        kspace::map(far, pa, PageSize::Size4K, Flags::KERNEL_RW).expect("map");
        kspace::unmap(far).expect("unmap");
    });
    kspace::unmap(va + 4096).map_err(|_| "anchor unmap")?;
    frames::free(pa, 0).map_err(|_| "free")?;
    let after = frames::stats();
    ensure(
        after.allocated(FrameKind::Test) == 0,
        "benchmarks leaked frames",
    )?;
    ensure(
        after.allocated(FrameKind::PageTable) == tables,
        "benchmarks leaked page tables",
    )
}

/// A user space charges every frame and table to its budget as it makes
/// them, refuses with `QuotaExceeded` when the budget cannot pay (nothing
/// leaks), refunds everything on teardown; a borrowed page keeps the
/// ceiling it was mapped with.
pub fn user_budget(_: &Boot) -> Outcome {
    use crate::memory::Memory;
    use crate::mm::uspace::{Soft, UserSpace};
    use ferrous_abi::SysError;
    const BUDGET: u64 = 64 * 4096;
    let budget = Memory::root(BUDGET);
    let free_before = frames::stats().free;
    let mut us = UserSpace::new(Some(budget.clone())).map_err(|_| "user space")?;
    ensure(us.charged() == 4096, "the root table is charged")?;
    // One page per 1 GiB: each needs a page table and a directory (and,
    // every 512 GiB, a PDPT) — the page-table amplification attack.
    let mut va = 0x4000_0000u64;
    let mut mapped = 0;
    let refusal = loop {
        match us.map_new(va, Flags::USER_RW) {
            Ok(_) => mapped += 1,
            Err(e) => break e,
        }
        va += 1 << 30;
    };
    log::info!("mm-user-budget: {mapped} pages at 1 GiB strides, then {refusal}");
    ensure(refusal == SysError::QuotaExceeded, "refused for the budget")?;
    ensure(
        (10..30).contains(&mapped),
        "tables cost about 2 pages per page",
    )?;
    ensure(
        us.charged() == BUDGET - budget.available(),
        "the space's charge is what the budget lost",
    )?;
    ensure(budget.available() < 3 * 4096, "the budget is spent")?;
    // Unmapping refunds the page and the tables it emptied.
    let before = budget.available();
    us.unmap_range(0x4000_0000, 0x4000_1000);
    ensure(
        budget.available() == before + 3 * 4096,
        "unmap refunds the page, its table and its directory",
    )?;
    // A borrowed read-only page with a read-only ceiling cannot be made
    // writable or executable; one that may write can.
    let pa = frames::alloc(0, FrameKind::Test).map_err(|_| "frame")?;
    us.map_borrowed(
        0x4000_0000,
        pa,
        Flags::USER_RO,
        Soft::borrowed(false, false),
    )
    .map_err(|_| "map borrowed")?;
    ensure(
        us.protect(0x4000_0000, Flags::USER_RW)
            == Err(SysError::PermissionDenied { addr: 0x4000_0000 }),
        "a read-only ceiling refuses write",
    )?;
    ensure(
        us.protect(0x4000_0000, Flags::USER_RX)
            == Err(SysError::PermissionDenied { addr: 0x4000_0000 }),
        "a read-only ceiling refuses execute",
    )?;
    let t = us.translate(0x4000_0000).ok_or("borrowed page gone")?;
    ensure(!t.flags.writable && !t.flags.executable, "still read-only")?;
    us.unmap_borrowed(0x4000_0000, pa);
    us.map_borrowed(0x4000_0000, pa, Flags::USER_RO, Soft::borrowed(true, false))
        .map_err(|_| "map borrowed again")?;
    ensure(
        us.protect(0x4000_0000, Flags::USER_RW).is_ok(),
        "a writable ceiling allows write",
    )?;
    ensure(
        us.protect(0x4000_0000, Flags::USER_RX).is_err(),
        "but not execute",
    )?;
    us.destroy();
    // Teardown must not free the borrowed frame.
    frames::free(pa, 0).map_err(|_| "the borrowed frame was freed by teardown")?;
    ensure(budget.available() == BUDGET, "teardown refunds every byte")?;
    ensure(frames::stats().free == free_before, "no frame leaked")?;
    log::info!("mm-user-budget: refused at the budget, all refunded, ceilings hold");
    Ok(())
}
