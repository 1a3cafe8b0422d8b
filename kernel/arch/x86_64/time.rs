//! Time: the TSC calibrated against the PIT gives a monotonic nanosecond
//! clock; the local-APIC timer, calibrated in the same interval, gives the
//! scheduler tick. (QEMU TCG offers no TSC-deadline mode.)

use super::{apic, cpu, pit};
use core::sync::atomic::{AtomicU64, Ordering};

static TSC_HZ: AtomicU64 = AtomicU64::new(0);
/// Local-APIC timer ticks (bus clock / 16) per second.
static APIC_TIMER_HZ: AtomicU64 = AtomicU64::new(0);

/// Calibration interval: 10 ms of PIT ticks.
const CALIBRATION_TICKS: u16 = (pit::PIT_HZ / 100) as u16;

#[derive(Clone, Copy, Debug)]
pub struct Calibration {
    pub tsc_hz: u64,
    pub apic_timer_hz: u64,
}

/// Measures TSC and APIC-timer rates over 10 ms of PIT time (three runs,
/// the median kept). Falls back to 1 GHz / 100 MHz if the PIT is silent.
pub fn calibrate() -> Calibration {
    let mut runs = [(0u64, 0u64); 3];
    for run in runs.iter_mut() {
        let mut t0 = 0;
        let r = pit::measure(
            CALIBRATION_TICKS,
            || {
                apic::timer_start_masked(u32::MAX);
                t0 = cpu::tsc();
            },
            || (cpu::tsc(), apic::timer_current()),
        );
        apic::timer_stop();
        if let Some((t1, left)) = r {
            *run = (t1.wrapping_sub(t0), (u32::MAX - left) as u64);
        }
    }
    runs.sort_unstable();
    let (tsc, apic_ticks) = runs[1];
    let scale = pit::PIT_HZ / CALIBRATION_TICKS as u64; // intervals per second
    let c = if tsc == 0 || apic_ticks == 0 {
        log::warn!("time: PIT did not answer; assuming a 1 GHz TSC and a 100 MHz APIC timer");
        Calibration {
            tsc_hz: 1_000_000_000,
            apic_timer_hz: 100_000_000,
        }
    } else {
        Calibration {
            tsc_hz: tsc * scale,
            apic_timer_hz: apic_ticks * scale,
        }
    };
    TSC_HZ.store(c.tsc_hz, Ordering::Relaxed);
    APIC_TIMER_HZ.store(c.apic_timer_hz, Ordering::Relaxed);
    c
}

pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Nanoseconds since kernel entry (monotonic; 0 before calibration).
pub fn now_ns() -> u64 {
    let hz = tsc_hz();
    if hz == 0 {
        return 0;
    }
    (cpu::tsc_since_entry() as u128 * 1_000_000_000 / hz as u128) as u64
}

/// Converts TSC cycles to nanoseconds.
pub fn cycles_to_ns(cycles: u64) -> u64 {
    let hz = tsc_hz().max(1);
    (cycles as u128 * 1_000_000_000 / hz as u128) as u64
}

/// Starts this CPU's periodic scheduler tick at `hz`.
pub fn start_tick(hz: u64) {
    let count = (APIC_TIMER_HZ.load(Ordering::Relaxed) / hz.max(1)).clamp(1, u32::MAX as u64);
    apic::timer_start(count as u32, true);
}

/// Arms a one-shot APIC timer `ns` from now (stopping the periodic tick);
/// returns the TSC value the deadline corresponds to.
pub fn arm_oneshot_ns(ns: u64) -> u64 {
    let apic_hz = APIC_TIMER_HZ.load(Ordering::Relaxed);
    let count = (apic_hz as u128 * ns as u128 / 1_000_000_000).clamp(1, u32::MAX as u128) as u32;
    let now = cpu::tsc();
    apic::timer_start(count, false);
    now + (count as u128 * tsc_hz() as u128 / apic_hz.max(1) as u128) as u64
}
