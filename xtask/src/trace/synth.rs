//! Synthetic trace streams for the decoder's tests: records built with
//! [`ferrous_trace::Record`], framed as the kernel frames them on COM2.
//! One TSC tick is one nanosecond; the boot TSC is 1000.

use super::stream::{self, END_MAGIC, HEADER_MAGIC, Trace};
use ferrous_trace::{EventType, MAX_ARGS, Record};

pub const BOOT_TSC: u64 = 1000;

/// The thread word of thread `index`, generation 0.
pub fn tw(index: u32) -> u64 {
    u64::from(index) + 1
}

pub struct Synth {
    pub cpus: u32,
    pub records: Vec<Record>,
    /// Write the end block.
    pub end: bool,
}

pub fn header(cpus: u32, hz: u64, boot: u64) -> [u8; 64] {
    let mut h = [0u8; 64];
    h[..8].copy_from_slice(HEADER_MAGIC);
    h[8..12].copy_from_slice(&1u32.to_le_bytes());
    h[12..16].copy_from_slice(&cpus.to_le_bytes());
    h[16..24].copy_from_slice(&hz.to_le_bytes());
    h[24..32].copy_from_slice(&boot.to_le_bytes());
    h
}

pub fn end_block(written: u64, lost: u64) -> [u8; 64] {
    let mut e = [0u8; 64];
    e[..8].copy_from_slice(END_MAGIC);
    e[8..16].copy_from_slice(&written.to_le_bytes());
    e[16..24].copy_from_slice(&lost.to_le_bytes());
    e
}

impl Synth {
    pub fn new(cpus: u32) -> Synth {
        Synth {
            cpus,
            records: Vec::new(),
            end: true,
        }
    }

    /// Adds a record at `ts` nanoseconds after boot.
    pub fn rec(
        &mut self,
        ts: u64,
        cpu: u16,
        thread: u64,
        event: EventType,
        causal: u64,
        args: [u64; MAX_ARGS],
    ) -> &mut Synth {
        let mut r = Record::new(event, args);
        r.timestamp = BOOT_TSC + ts;
        r.cpu = cpu;
        r.thread = thread;
        r.causal = causal;
        self.records.push(r);
        self
    }

    /// A `trace.name` record for thread `index`.
    pub fn name(&mut self, ts: u64, index: u32, process: u64, name: &str) -> &mut Synth {
        let mut b = [0u8; 16];
        for (d, s) in b.iter_mut().zip(name.bytes()) {
            *d = s;
        }
        let w = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap());
        self.rec(
            ts,
            0,
            tw(index),
            EventType::TraceName,
            0,
            [tw(index), process, w(0), w(8)],
        )
    }

    pub fn switch(&mut self, ts: u64, cpu: u16, from: u64, to: u64, reason: u64) -> &mut Synth {
        self.rec(ts, cpu, to, EventType::SchedSwitch, 0, [from, to, reason, 0])
    }

    pub fn bytes(&self) -> Vec<u8> {
        let mut out = header(self.cpus, 1_000_000_000, BOOT_TSC).to_vec();
        for r in &self.records {
            out.extend_from_slice(&r.to_bytes());
        }
        if self.end {
            let lost = self
                .records
                .iter()
                .filter(|r| r.event == EventType::TraceLost)
                .map(|r| r.args[0])
                .sum();
            let written = self
                .records
                .iter()
                .filter(|r| r.event != EventType::TraceLost)
                .count() as u64;
            out.extend_from_slice(&end_block(written, lost));
        }
        out
    }

    pub fn decode(&self) -> Trace {
        stream::decode(&self.bytes()).expect("a synthetic stream decodes")
    }
}
