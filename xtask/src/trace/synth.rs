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
        self.rec(
            ts,
            cpu,
            to,
            EventType::SchedSwitch,
            0,
            [from, to, reason, 0],
        )
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

/// Thread words of [`ipc_chain`].
pub const CLIENT: u64 = 2;
pub const SERVER: u64 = 3;
pub const DRIVER: u64 = 4;
/// The causal id of [`ipc_chain`]'s request.
pub const CAUSAL: u64 = 42;

/// A client calls a server, which calls a driver; the driver replies to
/// the server, the server to the client (2 CPUs, 0..2000 ns):
///
/// ```text
/// cpu0: client 100..1030 (blocks on the reply at 1020), idle, client 1500..
/// cpu1: server 100..160, driver 160..210, idle, server 1100..1230,
///       driver 1230..1330, server 1330..1430, idle
/// chain 42: call(client 1000) → recv(server 1110) → call(server 1200)
///   → recv(driver 1240) → reply(driver 1300) → reply(server 1400)
///   → wake(client 1410): 7 records, 6 hops, 3 threads
/// ```
pub fn ipc_chain() -> Synth {
    use EventType as E;
    let (c, s, d) = (CLIENT, SERVER, DRIVER);
    let k = CAUSAL;
    let (block, recv, reply) = (2, 2, 3); // SwitchReason::Block, BlockReason::{EndpointRecv, Reply}
    let mut x = Synth::new(2);
    x.name(0, 1, 10, "client")
        .name(0, 2, 11, "server")
        .name(0, 3, 12, "driver")
        .switch(100, 0, 0, c, 0)
        .switch(100, 1, 0, s, 0)
        .rec(150, 1, s, E::SchedBlock, 0, [recv, 7, 0, 0])
        .switch(160, 1, s, d, block)
        .rec(200, 1, d, E::SchedBlock, 0, [recv, 8, 0, 0])
        .switch(210, 1, d, 0, block)
        .rec(1000, 0, c, E::IpcCall, k, [7, 0x1, 1, 0x99])
        .rec(1010, 0, c, E::SchedWake, 0, [s, c, 0, 0])
        .rec(1020, 0, c, E::SchedBlock, 0, [reply, 0, 0, 0])
        .switch(1030, 0, c, 0, block)
        .switch(1100, 1, 0, s, 0)
        .rec(1110, 1, s, E::IpcRecv, k, [7, 0x1, 1, 0x99])
        .rec(1200, 1, s, E::IpcCall, k, [8, 0x2, 1, 0x98])
        .rec(1210, 1, s, E::SchedWake, 0, [d, s, 0, 0])
        .rec(1220, 1, s, E::SchedBlock, 0, [reply, 0, 0, 0])
        .switch(1230, 1, s, d, block)
        .rec(1240, 1, d, E::IpcRecv, k, [8, 0x2, 1, 0x98])
        .rec(1300, 1, d, E::IpcReply, k, [s, 1, 0x5, 0])
        .rec(1310, 1, d, E::SchedWake, 0, [s, d, 0, 0])
        .rec(1320, 1, d, E::SchedBlock, 0, [recv, 8, 0, 0])
        .switch(1330, 1, d, s, block)
        .rec(1400, 1, s, E::IpcReply, k, [c, 1, 0x6, 0])
        .rec(1410, 1, s, E::SchedWake, k, [c, s, 0, 0])
        .rec(1420, 1, s, E::SchedBlock, 0, [recv, 7, 0, 0])
        .switch(1430, 1, s, 0, block)
        .switch(1500, 0, 0, c, 0)
        .rec(1600, 0, c, E::SyscallExit, 0, [2, 0, 0, 0])
        .rec(1610, 0, c, E::SyscallExit, 0, [2, 3, 0, 0])
        .rec(2000, 0, c, E::SchedPreempt, 0, [c, 0, 0, 0]);
    x
}
