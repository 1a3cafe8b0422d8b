//! The record layout word by word, every decode error, and `describe`.

use crate::event::{
    BlockReason, Category, DenyReason, EventType, FaultCause, MAX_ARGS, SwitchReason,
};
use crate::record::*;
use ferrous_abi::{ErrorCode, ExitStatus, Perms, Sysno};
use std::string::{String, ToString};

fn block() -> Record {
    Record {
        timestamp: 0x1234,
        cpu: 3,
        thread: 5,
        event: EventType::SchedBlock,
        causal: 0,
        args: [BlockReason::EndpointRecv as u64, 12, 0, 0],
    }
}

fn described(event: EventType, args: [u64; MAX_ARGS]) -> String {
    describe(&Record::new(event, args)).to_string()
}

#[test]
fn layout_is_as_documented() {
    let words = block().encode();
    assert_eq!(
        words,
        [0x1234, 2 | 3 << 16 | 1 << 32 | 2 << 40, 5, 0, 2, 12, 0, 0]
    );
    let bytes = block().to_bytes();
    assert_eq!(bytes[..8], 0x1234u64.to_le_bytes());
    assert_eq!(bytes[8], 2, "event type is the low header byte");
    assert_eq!(bytes[10], 3, "then the CPU");
    assert_eq!(bytes[12], FORMAT_VERSION);
    assert_eq!(bytes[13], 2, "then the argument count");
    assert_eq!(Record::from_bytes(&bytes), Ok(block()));
}

#[test]
fn header_packs_and_unpacks() {
    let h = Header {
        event: 0xbeef,
        cpu: 0x1234,
        version: 7,
        arg_count: 9,
        flags: 0xf00d,
    };
    assert_eq!(h.pack(), 0xf00d_0907_1234_beef);
    assert_eq!(Header::unpack(h.pack()), h);
}

#[test]
fn unused_arguments_are_not_recorded() {
    let mut r = block();
    r.args[2] = 99;
    r.args[3] = 98;
    assert_eq!(r.encode()[6..], [0, 0]);
    assert_eq!(Record::decode(r.encode()), Ok(block()));
}

#[test]
fn a_zeroed_record_is_invalid() {
    assert_eq!(Record::decode([0; 8]), Err(DecodeError::UnknownVersion(0)));
    assert_eq!(
        Record::from_bytes(&[0; BYTES]),
        Err(DecodeError::UnknownVersion(0))
    );
}

#[test]
fn decode_errors() {
    let with_header = |h: Header| {
        let mut w = block().encode();
        w[1] = h.pack();
        Record::decode(w)
    };
    let good = block().header();
    assert_eq!(
        with_header(Header { version: 2, ..good }),
        Err(DecodeError::UnknownVersion(2))
    );
    assert_eq!(
        with_header(Header { event: 999, ..good }),
        Err(DecodeError::UnknownEvent(999))
    );
    assert_eq!(
        with_header(Header { event: 0, ..good }),
        Err(DecodeError::UnknownEvent(0))
    );
    assert_eq!(
        with_header(Header {
            arg_count: 3,
            ..good
        }),
        Err(DecodeError::ArgCount {
            event: EventType::SchedBlock,
            count: 3
        })
    );
    assert_eq!(
        with_header(Header { flags: 1, ..good }),
        Err(DecodeError::ReservedFlags(1))
    );
    let mut w = block().encode();
    w[7] = 1;
    assert_eq!(
        Record::decode(w),
        Err(DecodeError::UnusedArgNotZero {
            event: EventType::SchedBlock,
            index: 3
        })
    );
}

#[test]
fn decode_errors_display() {
    assert_eq!(
        DecodeError::UnknownVersion(0).to_string(),
        "trace format version 0, expected 1"
    );
    assert_eq!(
        DecodeError::UnknownEvent(999).to_string(),
        "unknown trace event 999"
    );
    assert_eq!(
        DecodeError::ArgCount {
            event: EventType::SchedBlock,
            count: 3
        }
        .to_string(),
        "sched.block has 2 arguments, the header says 3"
    );
    assert_eq!(
        DecodeError::UnusedArgNotZero {
            event: EventType::IrqEnter,
            index: 1
        }
        .to_string(),
        "irq.enter: unused argument 1 is not zero"
    );
    assert_eq!(
        DecodeError::ReservedFlags(0x10).to_string(),
        "reserved header flags 0x10 are set"
    );
}

#[test]
fn describe_names_event_arguments_and_reasons() {
    assert_eq!(
        describe(&block()).to_string(),
        "sched.block thread=5 reason=endpoint_recv object=12"
    );
    assert_eq!(
        block().to_string(),
        "4660 cpu3 sched.block thread=5 reason=endpoint_recv object=12"
    );
    assert_eq!(
        described(
            EventType::SchedSwitch,
            [3, 4, SwitchReason::Timeslice as u64, 0]
        ),
        "sched.switch thread=0 from=3 to=4 reason=timeslice"
    );
    assert_eq!(
        described(EventType::SchedIdle, [0; 4]),
        "sched.idle thread=0"
    );
    let denied = [
        7,
        Sysno::MemMap as u64,
        DenyReason::MissingRight as u64,
        0x2,
    ];
    assert_eq!(
        described(EventType::CapDenied, denied),
        "cap.denied thread=0 slot=7 op=mem_map reason=missing_right missing=0x2"
    );
    assert_eq!(
        described(
            EventType::FaultPage,
            [0x1000, 6, 0x40_0000, FaultCause::NotPresent as u64]
        ),
        "fault.page thread=0 addr=0x1000 error=0x6 rip=0x400000 cause=not_present"
    );
    assert_eq!(
        described(
            EventType::MemMap,
            [9, 0x2000, 0x1000, Perms::READ_WRITE.bits()]
        ),
        "mem.map thread=0 space=9 addr=0x2000 len=0x1000 perms=rw-"
    );
    let mask = (Category::Sched.bit() | Category::Ipc.bit()).bits().into();
    assert_eq!(
        described(EventType::TraceFilter, [mask, 0, 0, 0]),
        "trace.filter thread=0 mask=sched,ipc"
    );
}

#[test]
fn describe_syscall_results_and_statuses() {
    let nr = Sysno::DebugWrite as u64;
    assert_eq!(
        described(EventType::SyscallExit, [nr, 0, 5, 0]),
        "syscall.exit thread=0 nr=debug_write error=ok value=0x5"
    );
    let bad = ErrorCode::EmptySlot as u64;
    assert_eq!(
        described(EventType::SyscallExit, [nr, bad, 0, 0]),
        "syscall.exit thread=0 nr=debug_write error=EmptySlot value=0x0"
    );
    let exited = ExitStatus::Exited { code: 3 }.to_raw();
    let faulted = ExitStatus::Faulted { vector: 14 }.to_raw();
    assert_eq!(
        described(EventType::ProcessExit, [8, exited, 0, 0]),
        "process.exit thread=0 process=8 status=exit:3"
    );
    assert_eq!(
        described(EventType::ProcessExit, [8, faulted, 0, 0]),
        "process.exit thread=0 process=8 status=exception:14"
    );
}

#[test]
fn describe_shows_unnamed_values_as_numbers() {
    assert_eq!(
        described(EventType::SchedBlock, [77, 0, 0, 0]),
        "sched.block thread=0 reason=77 object=0"
    );
    assert_eq!(
        described(EventType::SyscallEnter, [999, 1, 0, 0]),
        "syscall.enter thread=0 nr=999 arg0=0x1"
    );
    assert_eq!(
        described(EventType::SyscallExit, [999, 999, 0, 0]),
        "syscall.exit thread=0 nr=999 error=999 value=0x0"
    );
    assert_eq!(
        described(EventType::MemMap, [1, 0, 0, 0x80]),
        "mem.map thread=0 space=1 addr=0x0 len=0x0 perms=0x80"
    );
    assert_eq!(
        described(EventType::ProcessExit, [1, u64::MAX, 0, 0]),
        "process.exit thread=0 process=1 status=0xffffffffffffffff"
    );
    assert_eq!(
        described(EventType::TraceFilter, [1 << 40, 0, 0, 0]),
        "trace.filter thread=0 mask=0x10000000000"
    );
}

#[test]
fn describe_shows_the_causal_id() {
    let mut r = Record::new(EventType::IpcCall, [4, 0xb, 2, 0x77]);
    r.thread = 9;
    r.causal = 41;
    assert_eq!(
        describe(&r).to_string(),
        "ipc.call thread=9 endpoint=4 badge=0xb len=2 word0=0x77 cause=41"
    );
}

#[test]
fn default_record_is_harmless() {
    let r = Record::default();
    assert_eq!(r.event, EventType::TraceLost);
    assert_eq!(r.args, [0; 4]);
    assert_eq!(Record::decode(r.encode()), Ok(r));
}
