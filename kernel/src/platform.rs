//! Bring-up of interrupts, time, threads and the other CPUs: ACPI (MADT),
//! the local and I/O APICs, TSC and APIC-timer calibration against the PIT,
//! the scheduler tick, then the application processors.

use crate::arch::{self, acpi::Platform, apic};
use crate::{smp, thread};
use spin::Once;

static PLATFORM: Once<Platform> = Once::new();

/// The firmware's view of CPUs and interrupt controllers.
pub fn info() -> Option<&'static Platform> {
    PLATFORM.get()
}

pub fn init(rsdp: u64) {
    let platform = match arch::acpi::parse(rsdp) {
        Ok(p) => p,
        Err(e) => {
            log::warn!("acpi: {e}; assuming one CPU and the default local APIC");
            Platform {
                local_apic: 0xfee0_0000,
                cpus: alloc::vec![arch::cpu::initial_apic_id()],
                io_apics: alloc::vec::Vec::new(),
                overrides: alloc::vec::Vec::new(),
            }
        }
    };
    log::info!(
        "acpi: {} CPUs (APIC ids {:?}), local APIC at {:#x}, {} I/O APIC(s), {} ISA overrides",
        platform.cpus.len(),
        platform.cpus,
        platform.local_apic,
        platform.io_apics.len(),
        platform.overrides.len()
    );
    apic::disable_pic();
    apic::set_base(platform.local_apic);
    apic::init_local();
    for io in &platform.io_apics {
        let ioapic = apic::IoApic::new(io.address, io.gsi_base);
        ioapic.mask_all();
        log::info!(
            "ioapic {}: GSIs {}..{} at {:#x}, all masked",
            io.id,
            io.gsi_base,
            io.gsi_base + ioapic.lines(),
            io.address
        );
    }
    let cal = arch::time::calibrate();
    log::info!(
        "time: TSC {} MHz, APIC timer {} kHz (calibrated against the PIT)",
        cal.tsc_hz / 1_000_000,
        cal.apic_timer_hz / 1000
    );
    let platform = PLATFORM.call_once(|| platform);
    let cpus = platform.cpus.len().min(arch::percpu::MAX_CPUS) as u16;
    if let Err(e) = thread::init(cpus) {
        panic!("threads: {e:?}");
    }
    arch::time::start_tick(thread::TICK_HZ);
    arch::cpu::enable_interrupts();
    log::info!("cpu0 online: scheduler tick {} Hz", thread::TICK_HZ);
    smp::start_aps(platform);
}

/// The I/O APIC handling `gsi`, if any.
pub fn ioapic_for(gsi: u32) -> Option<apic::IoApic> {
    info()?
        .io_apics
        .iter()
        .map(|io| apic::IoApic::new(io.address, io.gsi_base))
        .find(|a| a.handles(gsi))
}
