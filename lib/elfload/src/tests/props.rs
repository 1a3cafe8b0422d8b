//! Property tests: damaged and random files are refused or planned
//! soundly, never a panic.

use super::*;
use proptest::prelude::*;

proptest! {
    /// Any byte flipped anywhere in the headers: an error or a plan whose
    /// invariants hold; never a panic.
    #[test]
    fn mutated_headers_never_panic(edits in proptest::collection::vec((0usize..0x200, any::<u8>()), 1..8)) {
        let mut f = build(&good());
        for (at, v) in edits { f[at] = v; }
        if let Ok(p) = plan(&f, KERNEL) {
            for s in p.segments() {
                prop_assert!(!(s.perms.write && s.perms.execute));
                prop_assert!(s.pages().start >= KERNEL.start);
                prop_assert!(s.file_range().end <= f.len());
            }
            for w in p.segments().windows(2) {
                prop_assert!(w[0].pages().end <= w[1].pages().start);
            }
        }
    }

    #[test]
    fn random_bytes_never_panic(f in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = plan(&f, KERNEL);
    }
}
