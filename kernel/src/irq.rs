//! Interrupt dispatch (vectors 32..=255): the scheduler tick, IPIs, ISA
//! lines routed through the I/O APIC, and spurious interrupts. Every
//! interrupt ends with a chance to reschedule.

use crate::arch::{self, apic};
use crate::percpu;
use core::sync::atomic::{AtomicU64, Ordering};

/// One CPU's timer ticks (its `percpu::CpuBlock::irq`).
pub struct CpuTicks {
    ticks: AtomicU64,
    /// TSC when this CPU's last tick arrived (for latency measurements).
    last_tick_tsc: AtomicU64,
}

impl CpuTicks {
    pub const fn new() -> Self {
        CpuTicks {
            ticks: AtomicU64::new(0),
            last_tick_tsc: AtomicU64::new(0),
        }
    }
}

static ISA: [AtomicU64; 16] = [const { AtomicU64::new(0) }; 16];
static SPURIOUS: AtomicU64 = AtomicU64::new(0);
static UNEXPECTED: AtomicU64 = AtomicU64::new(0);

pub fn interrupt(vector: u8) {
    let cpu = arch::percpu::index();
    crate::metrics::count(crate::metrics::Counter::Interrupts);
    crate::trace::emit(
        ferrous_trace::EventType::IrqEnter,
        [u64::from(vector), 0, 0, 0],
        0,
    );
    match vector {
        apic::VECTOR_TIMER => {
            let here = &percpu::this_cpu().irq;
            here.last_tick_tsc
                .store(arch::cpu::tsc(), Ordering::Relaxed);
            here.ticks.fetch_add(1, Ordering::Relaxed);
            apic::eoi();
            crate::thread::timer_tick();
        }
        apic::VECTOR_RESCHEDULE => apic::eoi(), // the flag is already set
        apic::VECTOR_TLB_SHOOTDOWN => {
            crate::mm::shootdown::handle();
            apic::eoi();
        }
        apic::VECTOR_STOP => {
            apic::eoi();
            arch::cpu::halt_forever();
        }
        apic::VECTOR_SPURIOUS => {
            SPURIOUS.fetch_add(1, Ordering::Relaxed); // no EOI for spurious
        }
        // The masked 8259s can still raise spurious IRQ 7/15 on these
        // vectors; they are not the local APIC's, so no EOI there.
        0x20..=0x2f => {
            SPURIOUS.fetch_add(1, Ordering::Relaxed);
        }
        v if (apic::VECTOR_LINE_BASE..apic::VECTOR_LINE_BASE + crate::irqline::MAX_LINES as u8)
            .contains(&v) =>
        {
            crate::irqline::interrupt(u32::from(v - apic::VECTOR_LINE_BASE));
            apic::eoi();
        }
        v if (apic::VECTOR_ISA_BASE..apic::VECTOR_ISA_BASE + 16).contains(&v) => {
            ISA[(v - apic::VECTOR_ISA_BASE) as usize].fetch_add(1, Ordering::Relaxed);
            apic::eoi();
        }
        v => {
            UNEXPECTED.fetch_add(1, Ordering::Relaxed);
            log::warn!("irq: unexpected vector {v:#x} on cpu{cpu}");
            apic::eoi();
        }
    }
    crate::thread::preempt_if_needed();
}

pub fn ticks(cpu: usize) -> u64 {
    percpu::cpu(cpu).map_or(0, |c| c.irq.ticks.load(Ordering::Relaxed))
}

pub fn isa_count(irq: u8) -> u64 {
    ISA[irq as usize & 15].load(Ordering::Relaxed)
}

pub fn last_tick_tsc(cpu: usize) -> u64 {
    percpu::cpu(cpu).map_or(0, |c| c.irq.last_tick_tsc.load(Ordering::Relaxed))
}
