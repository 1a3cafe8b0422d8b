//! Result and argument words: exit statuses, grants, capability infos,
//! message infos, object types, rights, permissions and user pointers.

use super::*;

#[test]
fn exit_status_words() {
    let exited = ExitStatus::Exited { code: u32::MAX };
    assert_eq!(exited.to_raw(), 0xffff_ffff);
    let faulted = ExitStatus::Faulted { vector: 14 };
    assert_eq!(faulted.to_raw(), 1 << 32 | 14);
    assert_eq!(ExitStatus::Killed.to_raw(), 2 << 32);
    for s in [
        exited,
        faulted,
        ExitStatus::Exited { code: 0 },
        ExitStatus::Faulted { vector: 255 },
        ExitStatus::Killed,
    ] {
        assert_eq!(ExitStatus::from_raw(s.to_raw()), Some(s));
    }
    assert_eq!(ExitStatus::from_raw(1 << 32 | 256), None);
    // Killed carries no value.
    assert_eq!(ExitStatus::from_raw(2 << 32 | 1), None);
    assert_eq!(ExitStatus::from_raw(2 << 32 | 0xffff_ffff), None);
    assert_eq!(ExitStatus::from_raw(3 << 32), None);
    assert_eq!(ExitStatus::from_raw(0xff << 32), None);
    assert_eq!(ExitStatus::from_raw(1 << 40), None);
    assert_eq!(ExitStatus::from_raw(u64::MAX), None);
    assert_eq!(ExitStatus::Killed.to_string(), "killed");
    assert_eq!(exited.to_string(), "exited with code 4294967295");
    assert_eq!(faulted.to_string(), "ended by exception 14");
}

#[test]
fn grant_bytes_are_slot_then_rights_little_endian() {
    let g = Grant {
        slot: 0x0403_0201,
        rights: 0x0807_0605,
    };
    assert_eq!(g.to_bytes(), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(Grant::from_bytes(g.to_bytes()), g);
    let g = Grant::new(initial::CONSOLE, Rights::WRITE);
    assert_eq!(
        g,
        Grant {
            slot: 1,
            rights: Rights::WRITE.bits()
        }
    );
    assert_eq!(g.to_bytes(), [1, 0, 0, 0, 2, 0, 0, 0]);
    let g = Grant::child_space(Rights::ALL);
    assert_eq!(g.slot, Grant::CHILD_SPACE);
    assert_eq!(g.to_bytes(), [0xff, 0xff, 0xff, 0xff, 0xff, 0x03, 0, 0]);
    assert_eq!(Grant::from_bytes(g.to_bytes()), g);
    // Any 8 bytes are a Grant; the kernel checks its slot and rights.
    let bytes = [0xff; 8];
    assert_eq!(Grant::from_bytes(bytes).to_bytes(), bytes);
}

#[test]
fn cap_info_words() {
    let info = CapInfo {
        kind: ObjectType::Process,
        rights: Rights::ALL,
        badged: true,
    };
    assert_eq!(info.to_raw(), 0x3ff | 5 << 32 | 1 << 40);
    let console = CapInfo {
        kind: ObjectType::Console,
        rights: Rights::WRITE,
        badged: false,
    };
    assert_eq!(console.to_raw(), 2 | 13 << 32);
    for &kind in ObjectType::ALL {
        for rights in [Rights::NONE, Rights::READ | Rights::DERIVE, Rights::ALL] {
            for badged in [false, true] {
                let info = CapInfo {
                    kind,
                    rights,
                    badged,
                };
                let raw = info.to_raw();
                assert_eq!(raw >> 32 & 0xff, u64::from(kind.raw()));
                assert_eq!(CapInfo::from_raw(raw), Some(info), "{raw:#x}");
            }
        }
    }
}

#[test]
fn cap_info_refuses_words_this_version_does_not_produce() {
    let ok = CapInfo {
        kind: ObjectType::Memory,
        rights: Rights::READ,
        badged: false,
    }
    .to_raw();
    assert!(CapInfo::from_raw(ok).is_some());
    let first_undefined = u64::from(Rights::ALL.bits()) + 1;
    for bad in [
        // No type, or an unknown one.
        1,
        ok & !(0xff << 32),
        ok & !(0xff << 32) | 15 << 32,
        ok & !(0xff << 32) | 0xff << 32,
        // Undefined rights.
        ok | first_undefined,
        ok | 1 << 31,
        // Bits above the badge flag.
        ok | 1 << 41,
        ok | 1 << 63,
        u64::MAX,
    ] {
        assert_eq!(CapInfo::from_raw(bad), None, "{bad:#x}");
    }
}

#[test]
fn msg_info_words() {
    assert_eq!(MsgInfo::default().to_raw(), 0);
    assert_eq!(MsgInfo::from_raw(0), Some(MsgInfo::default()));
    assert_eq!(
        MsgInfo::words(3),
        MsgInfo {
            words: 3,
            nonblocking: false,
            cap_slot: 0,
            timeout_us: 0
        }
    );
    // Each field in its place.
    let fields = [
        (MsgInfo::words(4), 4),
        (
            MsgInfo {
                nonblocking: true,
                ..MsgInfo::default()
            },
            1 << 4,
        ),
        (
            MsgInfo {
                cap_slot: 0xff,
                ..MsgInfo::default()
            },
            0xff << 8,
        ),
        (
            MsgInfo {
                timeout_us: u32::MAX,
                ..MsgInfo::default()
            },
            0xffff_ffff << 32,
        ),
    ];
    let mut all = 0;
    for (info, raw) in fields {
        assert_eq!(info.to_raw(), raw, "{info:?}");
        assert_eq!(MsgInfo::from_raw(raw), Some(info), "{raw:#x}");
        all |= raw;
    }
    let full = MsgInfo {
        words: 4,
        nonblocking: true,
        cap_slot: 0xab,
        timeout_us: 0x1234_5678,
    };
    assert_eq!(full.to_raw(), 0x1234_5678_0000_ab14);
    assert_eq!(MsgInfo::from_raw(full.to_raw()), Some(full));
    // The largest word count with every other field set: every defined bit
    // but the unused high word-count bits.
    assert_eq!(all | 3, MSG_INFO_DEFINED);
    for words in 0..=MSG_WORDS as u64 {
        let info = MsgInfo::from_raw(words).unwrap();
        assert_eq!(usize::from(info.words), words as usize);
    }
}

#[test]
fn msg_info_refuses_reserved_bits_and_too_many_words() {
    for bit in 0..64 {
        let raw = 1u64 << bit;
        let defined = raw & MSG_INFO_DEFINED != 0;
        assert_eq!(MsgInfo::from_raw(raw).is_some(), defined, "bit {bit}");
        // Next to valid fields too.
        let ok = 0x0000_0010_0000_0500;
        assert_eq!(MsgInfo::from_raw(ok | raw).is_some(), defined, "bit {bit}");
    }
    for words in 5..8 {
        assert_eq!(MsgInfo::from_raw(words), None, "{words}");
        assert_eq!(MsgInfo::from_raw(words | 0xff << 8), None, "{words}");
    }
    assert_eq!(MsgInfo::from_raw(u64::MAX), None);
    assert_eq!(MsgInfo::from_raw(MSG_INFO_DEFINED), None, "7 words");
    assert!(MsgInfo::from_raw(MSG_INFO_DEFINED & !3).is_some());
}

#[test]
fn msg_info_timeouts() {
    // No timeout: wait for ever.
    assert_eq!(MsgInfo::words(1).timeout_ns(), u64::MAX);
    let after = |timeout_us| MsgInfo {
        timeout_us,
        ..MsgInfo::default()
    };
    assert_eq!(after(1).timeout_ns(), 1000);
    assert_eq!(after(1500).timeout_ns(), 1_500_000);
    // The longest timeout, about 71 minutes, does not overflow.
    assert_eq!(after(u32::MAX).timeout_ns(), 4_294_967_295_000);
    // Non-blocking overrides any timeout.
    for timeout_us in [0, 1, u32::MAX] {
        let info = MsgInfo {
            nonblocking: true,
            ..after(timeout_us)
        };
        assert_eq!(info.timeout_ns(), 0, "{timeout_us}");
    }
}

#[test]
fn msg_info_display() {
    let shown = [
        (MsgInfo::default(), "0 words"),
        (SEND_INFO, "2 words, cap h9"),
        (RECV_INFO, "0 words, cap h10, timeout 500 us"),
        (REPLY_RECV_INFO, "3 words, nonblocking"),
        // A timeout that does not apply is not shown.
        (
            MsgInfo {
                timeout_us: 9,
                ..REPLY_RECV_INFO
            },
            "3 words, nonblocking",
        ),
    ];
    for (info, want) in shown {
        assert_eq!(info.to_string(), want);
    }
}

#[test]
fn recv_info_words() {
    assert_eq!(RecvInfo::default().to_raw(), 0);
    let fields = [
        (
            RecvInfo {
                words: 4,
                ..RecvInfo::default()
            },
            4,
        ),
        (
            RecvInfo {
                cap_received: true,
                ..RecvInfo::default()
            },
            1 << 5,
        ),
        (
            RecvInfo {
                is_call: true,
                ..RecvInfo::default()
            },
            1 << 6,
        ),
        (
            RecvInfo {
                causal: u32::MAX,
                ..RecvInfo::default()
            },
            0xffff_ffff << 32,
        ),
    ];
    let mut all = 7;
    for (info, raw) in fields {
        assert_eq!(info.to_raw(), raw, "{info:?}");
        assert_eq!(RecvInfo::from_raw(raw), info, "{raw:#x}");
        all |= raw;
    }
    assert_eq!(all, RECV_INFO_DEFINED);
    let call = RecvInfo {
        words: 2,
        cap_received: true,
        is_call: true,
        causal: 0xdead_beef,
    };
    assert_eq!(call.to_raw(), 0xdead_beef_0000_0062);
    // Reading is total: a newer kernel's flags are dropped, not refused.
    assert_eq!(RecvInfo::from_raw(u64::MAX).to_raw(), RECV_INFO_DEFINED);
    assert_eq!(
        RecvInfo::from_raw(1 << 4 | 1 << 7 | 1 << 31),
        RecvInfo::default()
    );
}

/// `cap_identify` reports these numbers, so they are published ABI.
#[test]
fn object_type_numbers_are_stable() {
    let expect = [
        (1, "memory"),
        (2, "frame"),
        (3, "address_space"),
        (4, "thread"),
        (5, "process"),
        (6, "endpoint"),
        (7, "notification"),
        (8, "irq_line"),
        (9, "io_ports"),
        (10, "mmio_region"),
        (11, "resource_group"),
        (12, "trace"),
        (13, "console"),
        (14, "module"),
    ];
    let got: Vec<(u8, &str)> = ObjectType::ALL
        .iter()
        .map(|t| (t.raw(), t.name()))
        .collect();
    assert_eq!(got, expect);
    for raw in [0, 15, 0xff] {
        assert_eq!(ObjectType::from_raw(raw), None);
    }
}

/// Rights travel in `cap_mint`, grants, `MissingRight` and `CapInfo`, so
/// their bits are published ABI.
#[test]
fn rights_bits_are_stable() {
    let mut all = Rights::NONE;
    for (bit, (right, name)) in RIGHTS.iter().enumerate() {
        assert_eq!(right.bits(), 1 << bit, "{name}");
        all = all | *right;
    }
    assert_eq!(all, Rights::ALL);
    assert_eq!(Rights::ALL.bits(), 0x3ff);
    assert_eq!(Rights::from_bits(0x400), None);
}

#[test]
fn perms_bits_and_display() {
    assert_eq!(Perms::from_bits(7), Some(Perms::ALL));
    assert_eq!(Perms::from_bits(8), None);
    assert_eq!(Perms::READ | Perms::EXECUTE, Perms::READ_EXECUTE);
    assert_eq!(Perms::ALL.to_string(), "rwx");
    assert_eq!(Perms::NONE.to_string(), "---");
    assert!(Perms::READ_WRITE.contains(Perms::WRITE));
    assert!(!Perms::READ_WRITE.contains(Perms::EXECUTE));
}

#[test]
fn user_ptr_is_only_an_address() {
    let x = 5u32;
    let p = UserPtr::from_ptr(&x);
    assert_eq!(p.addr(), &x as *const u32 as u64);
    assert_eq!(UserPtr::new(0x1000).to_string(), "0x1000");
    assert_eq!(Handle::NULL, Handle(0));
    assert_eq!(Handle(42).to_string(), "h42");
}
