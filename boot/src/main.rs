//! ferrous-boot: the UEFI loader.
//!
//! Reads `\ferrous\boot.conf` from the volume it was loaded from, loads the
//! kernel ELF and the boot modules it names, builds the kernel's initial page
//! tables, exits boot services and jumps to the kernel with a [`BootInfo`].
//! Any defect (missing file, malformed ELF, bad config) is printed on the
//! console and the machine is powered off: a clean stop, never a hang.
//! See docs/adr/0001-boot-path.md.
#![no_std]
#![no_main]

extern crate alloc;

mod handoff;
mod paging;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::convert::Infallible;
use ferrous_bootinfo::bootconf::BootConf;
use ferrous_bootinfo::{
    BootInfo, Framebuffer, KERNEL_BASE, KernelImage, MIN_DIRECT_MAP, MemoryKind, MemoryRegion,
    Module, PHYS_OFFSET, PhysSlice, PixelFormat, memmap,
};
use paging::{PageTables, Perm};
use uefi::boot::{self, AllocateType, MemoryType};
use uefi::fs::{FileSystem, PathBuf};
use uefi::mem::memory_map::MemoryMap;
use uefi::prelude::*;
use uefi::proto::console::gop::{self, GraphicsOutput};
use uefi::table::cfg::ConfigTableEntry;
use uefi::{CString16, println};

/// OS-defined UEFI memory types (0x8000_0000 and up), so the final memory map
/// tells the kernel exactly which pages hold what.
const KERNEL_IMAGE_MEM: MemoryType = MemoryType::custom(0x8000_0001);
const PAGE_TABLES_MEM: MemoryType = MemoryType::custom(0x8000_0002);
const BOOT_INFO_MEM: MemoryType = MemoryType::custom(0x8000_0003);
const MODULE_MEM: MemoryType = MemoryType::custom(0x8000_0004);

const PAGE: u64 = 4096;
/// The direct map may use PML4 slots 256..384 (the rest of the upper half
/// holds the heap, stacks and kernel image).
const MAX_DIRECT_MAP: u64 = 64 << 40;

type BootResult<T> = Result<T, String>;

#[entry]
fn main() -> Status {
    let start_tsc = handoff::rdtsc();
    if uefi::helpers::init().is_err() {
        return Status::ABORTED;
    }
    println!(
        "ferrous-boot {}: loading Ferrous",
        env!("CARGO_PKG_VERSION")
    );
    match load(start_tsc) {
        Ok(never) => match never {},
        Err(why) => stop(&why),
    }
}

/// Reports a boot failure and powers the machine off. Under QEMU the
/// `isa-debug-exit` device (if present) first ends the run with status 37,
/// so the test harness can tell this clean stop from a reset.
fn stop(why: &str) -> ! {
    println!("ferrous-boot: error: {why}");
    println!("ferrous-boot: cannot boot; powering off");
    handoff::signal_loader_stop();
    uefi::runtime::reset(uefi::runtime::ResetType::SHUTDOWN, Status::LOAD_ERROR, None)
}

fn path(name: &str) -> BootResult<PathBuf> {
    let p = CString16::try_from(format!("\\ferrous\\{name}").as_str())
        .map_err(|_| format!("file name `{name}` is not UCS-2"))?;
    Ok(PathBuf::from(p))
}

fn read_file(fs: &mut FileSystem, name: &str) -> BootResult<Vec<u8>> {
    fs.read(path(name)?)
        .map_err(|e| format!("cannot read \\ferrous\\{name}: {e}"))
}

/// Allocates zeroed pages of `ty`; returns their physical (= identity) address.
fn alloc_pages(ty: MemoryType, pages: u64) -> BootResult<u64> {
    let ptr = boot::allocate_pages(AllocateType::AnyPages, ty, pages as usize)
        .map_err(|e| format!("out of memory allocating {pages} pages: {e}"))?;
    // SAFETY: the firmware just gave us `pages` pages at `ptr`, identity-mapped
    // and owned by nobody else.
    unsafe { core::ptr::write_bytes(ptr.as_ptr(), 0, (pages * PAGE) as usize) };
    Ok(ptr.as_ptr() as u64)
}

/// Copies `src` into physical memory at `phys` (identity-mapped under UEFI).
///
/// # Safety
/// `phys..phys + src.len()` must be memory the caller allocated with
/// `alloc_pages` and owns exclusively.
unsafe fn copy_to_phys(phys: u64, src: &[u8]) {
    // SAFETY: per the contract; the destination cannot overlap `src`, which
    // is pool memory, not one of our page allocations.
    unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), phys as *mut u8, src.len()) };
}

fn load(start_tsc: u64) -> BootResult<Infallible> {
    let fs_proto = boot::get_image_file_system(boot::image_handle())
        .map_err(|e| format!("no file system on the boot volume: {e}"))?;
    let mut fs = FileSystem::new(fs_proto);

    let conf_bytes = read_file(&mut fs, "boot.conf")?;
    let conf_text =
        core::str::from_utf8(&conf_bytes).map_err(|_| "boot.conf is not UTF-8".to_string())?;
    let conf = BootConf::parse(conf_text).map_err(|e| format!("boot.conf: {e}"))?;

    // The kernel: validated completely before a single page is allocated.
    let kernel_file = read_file(&mut fs, conf.kernel)?;
    let plan = ferrous_elfload::plan(&kernel_file, KERNEL_BASE..u64::MAX - PAGE + 1)
        .map_err(|e| format!("kernel {}: {e}", conf.kernel))?;
    println!(
        "ferrous-boot: kernel {} ({} bytes, {} segments, entry {:#x})",
        conf.kernel,
        kernel_file.len(),
        plan.segments().len(),
        plan.entry
    );

    let mut tables = PageTables::new(|| alloc_pages(PAGE_TABLES_MEM, 1))?;
    for seg in plan.segments() {
        let pages = seg.pages();
        let count = (pages.end - pages.start) / PAGE;
        let phys = alloc_pages(KERNEL_IMAGE_MEM, count)?;
        // SAFETY: `phys` is a fresh allocation of `count` pages; the segment's
        // file bytes fit because `vaddr - pages.start + file_size <= count * PAGE`
        // (file_size <= mem_size, validated by elfload).
        unsafe {
            copy_to_phys(
                phys + (seg.vaddr - pages.start),
                &kernel_file[seg.file_range()],
            )
        };
        let perm = Perm {
            write: seg.perms.write,
            execute: seg.perms.execute,
        };
        for i in 0..count {
            tables.map_4k(pages.start + i * PAGE, phys + i * PAGE, perm)?;
        }
    }
    let span = plan.span();
    let kernel = KernelImage {
        virt_base: span.start,
        virt_size: span.end - span.start,
        file_size: kernel_file.len() as u64,
    };
    drop(kernel_file);

    // Boot modules: every one listed must load, or nothing boots.
    let mut modules = Vec::new();
    for (name, file) in conf.modules() {
        let bytes =
            read_file(&mut fs, file).map_err(|e| format!("module `{name}` missing: {e}"))?;
        let pages = (bytes.len() as u64).div_ceil(PAGE).max(1);
        let phys = alloc_pages(MODULE_MEM, pages)?;
        // SAFETY: a fresh allocation of `pages` pages, at least `bytes.len()`.
        unsafe { copy_to_phys(phys, &bytes) };
        println!("ferrous-boot: module {name} ({} bytes)", bytes.len());
        modules.push(Module::new(name, phys, bytes.len() as u64).ok_or("module name too long")?);
    }
    drop(fs);

    let rsdp = find_rsdp();
    let framebuffer = find_framebuffer();

    // Direct map of all physical memory (and at least the first 4 GiB, for
    // APIC MMIO), plus a temporary identity map so this code survives the
    // CR3 switch; the kernel drops the identity half first thing.
    let firmware_map =
        boot::memory_map(MemoryType::LOADER_DATA).map_err(|e| format!("memory map: {e}"))?;
    let highest = firmware_map
        .entries()
        .map(|d| d.phys_start + d.page_count * PAGE)
        .max()
        .unwrap_or(0);
    let direct_map_size = highest.max(MIN_DIRECT_MAP).next_multiple_of(1 << 30);
    if direct_map_size > MAX_DIRECT_MAP {
        return Err(format!(
            "firmware reports memory up to {highest:#x}, beyond the {} TiB direct map",
            MAX_DIRECT_MAP >> 40
        ));
    }
    // Room for the final map, which exit_boot_services may grow a little.
    let map_capacity = firmware_map.len() * 2 + 64;
    drop(firmware_map);
    tables.map_direct(direct_map_size)?;

    // BootInfo, memory map, module table and command line in one allocation.
    let cmdline = conf.cmdline.as_bytes();
    let info_size = size_of::<BootInfo>();
    let map_off = info_size.next_multiple_of(16);
    let mods_off = map_off + map_capacity * size_of::<MemoryRegion>();
    let cmd_off = mods_off + modules.len() * size_of::<Module>();
    let total = cmd_off + cmdline.len();
    let info_phys = alloc_pages(BOOT_INFO_MEM, (total as u64).div_ceil(PAGE))?;
    for (i, m) in modules.iter().enumerate() {
        // SAFETY: `mods_off + i * size_of::<Module>()` lies inside the
        // allocation sized above; Module is plain data, suitably aligned (8)
        // because `map_off` and MemoryRegion's size are multiples of 8.
        unsafe {
            ((info_phys as usize + mods_off) as *mut Module)
                .add(i)
                .write(*m)
        };
    }
    // SAFETY: the command line's slot at the end of our BOOT_INFO allocation.
    unsafe { copy_to_phys(info_phys + cmd_off as u64, cmdline) };

    let mut info = BootInfo::empty();
    info.direct_map_size = direct_map_size;
    info.modules = PhysSlice {
        phys: info_phys + mods_off as u64,
        len: modules.len() as u64,
    };
    info.cmdline = PhysSlice {
        phys: info_phys + cmd_off as u64,
        len: cmdline.len() as u64,
    };
    info.rsdp = rsdp;
    info.framebuffer = framebuffer;
    info.kernel = kernel;
    info.loader_start_tsc = start_tsc;
    let entry = plan.entry;
    let pml4 = tables.root();
    println!(
        "ferrous-boot: direct map {} MiB, {} page-table pages; exiting boot services",
        direct_map_size >> 20,
        tables.pages_used()
    );

    // Past this point there is no console and no way back.
    // SAFETY: no boot-services object (file system, protocols, pool strings)
    // is used after this call; `modules` lives in pool memory that we only
    // leak, never free.
    let final_map = unsafe { boot::exit_boot_services(Some(MemoryType::LOADER_DATA)) };
    core::mem::forget(modules);

    let map_ptr = (info_phys as usize + map_off) as *mut MemoryRegion;
    // SAFETY: the map area is inside our BOOT_INFO allocation, 16-byte aligned,
    // with room for `map_capacity` regions, and nothing else references it.
    let regions = unsafe { core::slice::from_raw_parts_mut(map_ptr, map_capacity) };
    let mut n = 0;
    for d in final_map.entries() {
        if n == map_capacity {
            break; // cannot report any more; the kernel sees a shorter map
        }
        regions[n] = MemoryRegion::new(d.phys_start, d.page_count * PAGE, kind_of(d.ty));
        n += 1;
    }
    let n = memmap::normalize(&mut regions[..n]);
    info.memory_map = PhysSlice {
        phys: map_ptr as u64,
        len: n as u64,
    };
    info.handoff_tsc = handoff::rdtsc();
    // SAFETY: the BootInfo slot at the start of the allocation is ours and
    // aligned to a page.
    unsafe { (info_phys as *mut BootInfo).write(info) };

    // SAFETY: `pml4` maps the kernel at its link addresses, the direct map
    // (where BootInfo lives at PHYS_OFFSET + info_phys) and the identity map
    // this code runs from; `entry` was validated to be in kernel text.
    unsafe { handoff::enter_kernel(pml4, entry, PHYS_OFFSET + info_phys) }
}

/// How the kernel should treat each firmware memory type.
fn kind_of(ty: MemoryType) -> MemoryKind {
    match ty {
        MemoryType::CONVENTIONAL
        | MemoryType::BOOT_SERVICES_CODE
        | MemoryType::BOOT_SERVICES_DATA => MemoryKind::USABLE,
        MemoryType::LOADER_CODE | MemoryType::LOADER_DATA => MemoryKind::LOADER_RECLAIMABLE,
        MemoryType::RUNTIME_SERVICES_CODE
        | MemoryType::RUNTIME_SERVICES_DATA
        | MemoryType::PAL_CODE => MemoryKind::FIRMWARE_RUNTIME,
        MemoryType::ACPI_RECLAIM => MemoryKind::ACPI_RECLAIMABLE,
        MemoryType::ACPI_NON_VOLATILE => MemoryKind::ACPI_NVS,
        MemoryType::MMIO | MemoryType::MMIO_PORT_SPACE => MemoryKind::MMIO,
        MemoryType::UNUSABLE => MemoryKind::BAD,
        MemoryType::PERSISTENT_MEMORY => MemoryKind::PERSISTENT,
        KERNEL_IMAGE_MEM => MemoryKind::KERNEL_IMAGE,
        PAGE_TABLES_MEM => MemoryKind::PAGE_TABLES,
        BOOT_INFO_MEM => MemoryKind::BOOT_INFO,
        MODULE_MEM => MemoryKind::MODULE,
        _ => MemoryKind::RESERVED,
    }
}

fn find_rsdp() -> u64 {
    uefi::system::with_config_table(|entries| {
        let find = |guid| {
            entries
                .iter()
                .find(|e| e.guid == guid)
                .map(|e| e.address as u64)
        };
        find(ConfigTableEntry::ACPI2_GUID)
            .or_else(|| find(ConfigTableEntry::ACPI_GUID))
            .unwrap_or(0)
    })
}

fn find_framebuffer() -> Framebuffer {
    let Ok(handle) = boot::get_handle_for_protocol::<GraphicsOutput>() else {
        return Framebuffer::NONE;
    };
    let Ok(mut gop) = boot::open_protocol_exclusive::<GraphicsOutput>(handle) else {
        return Framebuffer::NONE;
    };
    let mode = gop.current_mode_info();
    let (width, height) = mode.resolution();
    let format = match mode.pixel_format() {
        gop::PixelFormat::Rgb => PixelFormat::Rgb,
        gop::PixelFormat::Bgr => PixelFormat::Bgr,
        _ => PixelFormat::Unknown,
    };
    let mut fb = gop.frame_buffer();
    Framebuffer {
        phys: fb.as_mut_ptr() as u64,
        size: fb.size() as u64,
        width: width as u32,
        height: height as u32,
        stride: mode.stride() as u32,
        format: format as u32,
    }
}
