//! Property tests: random map, unmap and protect operations against a
//! model of pages.

use super::*;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Map(u64, bool, u8),
    Unmap(u64),
    Protect(u64, u8),
}

fn flags_from(bits: u8) -> Flags {
    Flags {
        writable: bits & 1 != 0,
        executable: bits & 2 != 0,
        soft: (bits >> 2) & 0b111,
        ..Flags::USER_RO
    }
}

fn op() -> impl Strategy<Value = Op> {
    // Addresses in a small window so operations collide often: 4 GiB of
    // user space, in 4 KiB steps clustered on a few 2 MiB regions.
    let va =
        (0u64..8, 0u64..16).prop_map(|(r, p)| r * 0x4000_0000 + (r % 2) * 0x20_0000 + p * 0x1000);
    prop_oneof![
        (va.clone(), any::<bool>(), any::<u8>()).prop_map(|(v, h, f)| Op::Map(v, h, f)),
        va.clone().prop_map(Op::Unmap),
        (va, any::<u8>()).prop_map(|(v, f)| Op::Protect(v, f)),
    ]
}

proptest! {
    /// Random operations against a model of pages: translations always agree
    /// with the model, and once everything is unmapped only the root is left.
    #[test]
    fn matches_model(ops in proptest::collection::vec(op(), 1..80)) {
        let mut mem = Sim::new();
        let ks = kernel(&mut mem);
        let kernel_tables = mem.live();
        let mut us = AddressSpace::new_user(&mut mem, &ks).unwrap();
        // page start -> (frame, size, flags)
        let mut model: BTreeMap<u64, (u64, PageSize, Flags)> = BTreeMap::new();
        let covering = |model: &BTreeMap<u64, (u64, PageSize, Flags)>, va: u64| {
            model.range(..=va).next_back()
                .filter(|(s, (_, sz, _))| va < **s + sz.bytes())
                .map(|(s, v)| (*s, *v))
        };
        let mut next_frame = 0x1_0000_0000u64;
        for op in ops {
            match op {
                Op::Map(va, huge, f) => {
                    let size = if huge { PageSize::Size2M } else { PageSize::Size4K };
                    let va = va & !(size.bytes() - 1);
                    let pa = next_frame;
                    next_frame += PageSize::Size2M.bytes();
                    let r = us.map(&mut mem, va, pa, size, flags_from(f));
                    let overlaps = model.iter().any(|(s, (_, sz, _))| *s < va + size.bytes() && va < s + sz.bytes());
                    prop_assert_eq!(r.is_ok(), !overlaps, "{:?}", r);
                    if r.is_ok() { model.insert(va, (pa, size, flags_from(f))); }
                }
                Op::Unmap(va) => {
                    let r = us.unmap_leaf(&mut mem, va);
                    match model.get(&va) {
                        Some(&(pa, size, flags)) => {
                            prop_assert_eq!(r.map(|(f, s, fl)| (f, s, fl.soft)), Ok((pa, size, flags.soft)));
                            model.remove(&va);
                        }
                        None => prop_assert!(r.is_err()),
                    }
                }
                Op::Protect(va, f) => {
                    let r = us.protect(&mut mem, va, flags_from(f));
                    match model.get_mut(&va) {
                        Some(entry) => { prop_assert!(r.is_ok()); entry.2 = flags_from(f); }
                        None => prop_assert!(r.is_err()),
                    }
                }
            }
            for probe in [0u64, 0x1000, 0x20_0000, 0x4000_0000, 0x4020_1000, 0x1_0020_0000] {
                let t = us.translate(&mem, probe);
                match covering(&model, probe) {
                    Some((start, (pa, size, flags))) => {
                        let t = t.unwrap();
                        prop_assert_eq!(t.phys, pa + (probe - start));
                        prop_assert_eq!(t.size, size);
                        prop_assert_eq!(t.flags.writable, flags.writable);
                        prop_assert_eq!(t.flags.executable, flags.executable);
                        prop_assert_eq!(t.flags.soft, flags.soft);
                        prop_assert!(t.flags.user);
                    }
                    None => prop_assert_eq!(t, None),
                }
            }
        }
        let pages: Vec<u64> = model.keys().copied().collect();
        for va in pages {
            us.unmap(&mut mem, va).unwrap();
        }
        prop_assert_eq!(us.table_count(&mem), 1);
        prop_assert_eq!(mem.live(), kernel_tables + 1);
    }
}
