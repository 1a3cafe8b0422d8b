//! Bringing up the application processors listed in the MADT, one at a
//! time. Each gets a guarded boot stack (which becomes its idle flow) and
//! three guarded IST stacks; `ap_main` finishes its set-up and joins the
//! scheduler.

use crate::arch::{self, acpi::Platform, apic, percpu::MAX_CPUS, smp::ApStart};
use crate::mm::{frames, shootdown, stacks};
use crate::thread;
use alloc::boxed::Box;
use core::sync::atomic::AtomicBool;
use ferrous_paging::Flags;

const AP_STACK: u64 = 32 * 1024;
const IST_STACK: u64 = 16 * 1024;

pub fn start_aps(p: &Platform) {
    let bsp = apic::id();
    let aps: alloc::vec::Vec<u32> = p.cpus.iter().copied().filter(|&a| a != bsp).collect();
    if aps.is_empty() {
        return;
    }
    let Some(low) = frames::low_page() else {
        log::warn!("smp: no page below 1 MiB for the trampoline; running on one CPU");
        return;
    };
    let mut space = match crate::mm::uspace::UserSpace::new(None) {
        Ok(s) => s,
        Err(e) => {
            log::warn!("smp: no trampoline address space ({e}); running on one CPU");
            return;
        }
    };
    if let Err(e) = space.map_borrowed(
        low,
        low,
        Flags::USER_RX,
        crate::mm::uspace::Soft::borrowed(false, true),
    ) {
        log::warn!("smp: cannot map the trampoline ({e}); running on one CPU");
        space.destroy();
        return;
    }
    let kernel_root = arch::mm::current_root();
    for (i, &apic_id) in aps.iter().enumerate() {
        let index = i + 1;
        if index >= MAX_CPUS {
            log::warn!("smp: more than {MAX_CPUS} CPUs; ignoring the rest");
            break;
        }
        let stacks = (
            stacks::alloc("ap-boot", AP_STACK),
            stacks::alloc("ist-double-fault", IST_STACK),
            stacks::alloc("ist-nmi", IST_STACK),
            stacks::alloc("ist-machine-check", IST_STACK),
        );
        let (Ok(boot), Ok(df), Ok(nmi), Ok(mc)) = stacks else {
            log::warn!("smp: out of memory for cpu{index}'s stacks");
            break;
        };
        let start: &'static ApStart = Box::leak(Box::new(ApStart {
            index,
            apic_id,
            ist: [df.top, nmi.top, mc.top],
            kernel_root,
            started: AtomicBool::new(false),
            main: ap_main,
        }));
        // These stacks belong to the AP for good: their handles are dropped
        // without `stacks::free`.
        let top = boot.top;
        let _ = (df, nmi, mc);
        if let Err(e) = arch::smp::boot_ap(low, space.root(), top, start) {
            // It might still start later, on this trampoline and address
            // space: leave both alone and bring up no more CPUs.
            log::warn!(
                "smp: cpu{index} (APIC id {apic_id}) did not start ({e:?}); stopping bring-up"
            );
            log::info!(
                "smp: {} of {} CPUs online",
                thread::cpus_online(),
                p.cpus.len()
            );
            core::mem::forget(space);
            return;
        }
    }
    space.destroy();
    log::info!(
        "smp: {} of {} CPUs online",
        thread::cpus_online(),
        p.cpus.len()
    );
}

fn ap_main(start: &'static ApStart) -> ! {
    apic::init_local();
    crate::trace::init_cpu(start.index);
    if let Err(e) = thread::start_cpu(start.index) {
        panic!("cpu{}: cannot join the scheduler: {e:?}", start.index);
    }
    shootdown::cpu_online(start.index);
    arch::time::start_tick(thread::TICK_HZ);
    log::info!("cpu{} online (APIC id {})", start.index, start.apic_id);
    start
        .started
        .store(true, core::sync::atomic::Ordering::Release);
    thread::run_idle()
}
