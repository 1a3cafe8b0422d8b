//! ACPI: the MADT tells us the CPUs, the local APIC and the I/O APICs. Parsed
//! with the `acpi` crate over the direct map (tables are in ACPI memory the
//! frame allocator never hands out).

use super::mm::{direct_map_size, phys_to_virt};
use acpi::madt::{Madt, MadtEntry};
use acpi::{AcpiHandler, AcpiTables, PhysicalMapping};
use alloc::vec::Vec;
use core::ptr::NonNull;

#[derive(Clone, Copy, Debug)]
struct DirectMap;

impl AcpiHandler for DirectMap {
    unsafe fn map_physical_region<T>(&self, pa: usize, size: usize) -> PhysicalMapping<Self, T> {
        assert!(
            (pa as u64).saturating_add(size as u64) <= direct_map_size(),
            "ACPI table at {pa:#x} beyond the direct map"
        );
        let virt = NonNull::new(phys_to_virt(pa as u64) as *mut T).expect("direct map is non-null");
        // SAFETY: the region lies in the direct map (checked), which maps all
        // physical memory for the kernel's lifetime; unmapping is a no-op.
        unsafe { PhysicalMapping::new(pa, virt, size, size, *self) }
    }

    fn unmap_physical_region<T>(_region: &PhysicalMapping<Self, T>) {}
}

#[derive(Clone, Copy, Debug)]
pub struct IoApicInfo {
    pub id: u8,
    pub address: u64,
    pub gsi_base: u32,
}

/// An ISA IRQ wired to a different global system interrupt.
#[derive(Clone, Copy, Debug)]
pub struct IsaOverride {
    pub irq: u8,
    pub gsi: u32,
    /// MPS INTI flags: polarity bits 0-1, trigger mode bits 2-3.
    pub flags: u16,
}

#[derive(Debug)]
pub struct Platform {
    pub local_apic: u64,
    /// APIC ids of all enabled (or online-capable) CPUs, the BSP included.
    pub cpus: Vec<u32>,
    pub io_apics: Vec<IoApicInfo>,
    pub overrides: Vec<IsaOverride>,
}

impl Platform {
    /// The GSI an ISA IRQ arrives on (identity unless overridden).
    pub fn isa_gsi(&self, irq: u8) -> (u32, u16) {
        self.overrides
            .iter()
            .find(|o| o.irq == irq)
            .map_or((irq as u32, 0), |o| (o.gsi, o.flags))
    }
}

pub fn parse(rsdp: u64) -> Result<Platform, &'static str> {
    if rsdp == 0 {
        return Err("no RSDP from the loader");
    }
    // SAFETY: the loader took `rsdp` from the firmware's configuration table;
    // the crate validates signatures and checksums before trusting contents.
    let tables =
        unsafe { AcpiTables::from_rsdp(DirectMap, rsdp as usize) }.map_err(|_| "bad RSDP/RSDT")?;
    let madt = tables.find_table::<Madt>().map_err(|_| "no MADT")?;
    let mut p = Platform {
        local_apic: madt.get().local_apic_address as u64,
        cpus: Vec::new(),
        io_apics: Vec::new(),
        overrides: Vec::new(),
    };
    for entry in madt.get().entries() {
        match entry {
            MadtEntry::LocalApic(e) => {
                let flags = e.flags;
                if flags & 0b11 != 0 {
                    p.cpus.push(e.apic_id as u32);
                }
            }
            MadtEntry::LocalX2Apic(e) => {
                let flags = e.flags;
                if flags & 0b11 != 0 {
                    p.cpus.push(e.x2apic_id);
                }
            }
            MadtEntry::IoApic(e) => p.io_apics.push(IoApicInfo {
                id: e.io_apic_id,
                address: e.io_apic_address as u64,
                gsi_base: e.global_system_interrupt_base,
            }),
            MadtEntry::InterruptSourceOverride(e) => p.overrides.push(IsaOverride {
                irq: e.irq,
                gsi: e.global_system_interrupt,
                flags: e.flags,
            }),
            MadtEntry::LocalApicAddressOverride(e) => p.local_apic = e.local_apic_address,
            _ => {}
        }
    }
    if p.cpus.is_empty() {
        return Err("MADT lists no CPUs");
    }
    Ok(p)
}
