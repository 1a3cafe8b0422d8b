//! A writer for the "newc" cpio format (`070701`), which is what Linux
//! unpacks as an initramfs. Uncompressed: QEMU and Linux accept it as is.
//!
//! Each entry is a 110-byte ASCII header of 13 eight-digit hex fields, the
//! NUL-terminated path, padding to a multiple of 4 bytes, then the data,
//! padded likewise. The archive ends with an entry named `TRAILER!!!`.

const MAGIC: &str = "070701";
#[cfg(test)]
const HEADER_LEN: usize = 110;
pub const TRAILER: &str = "TRAILER!!!";

pub const S_IFDIR: u32 = 0o040000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFCHR: u32 = 0o020000;

/// An archive being written in memory. Paths are relative (`bin/sh`);
/// parents must be added before their children.
#[derive(Debug, Default)]
pub struct Cpio {
    buf: Vec<u8>,
    next_ino: u32,
}

fn pad4(buf: &mut Vec<u8>) {
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
}

impl Cpio {
    pub fn new() -> Cpio {
        Cpio {
            buf: Vec::new(),
            next_ino: 1,
        }
    }

    fn entry(&mut self, path: &str, mode: u32, nlink: u32, rdev: (u32, u32), data: &[u8]) {
        let path = path.trim_start_matches('/');
        let ino = if path == TRAILER { 0 } else { self.next_ino };
        self.next_ino += 1;
        let fields: [u32; 13] = [
            ino,
            mode,
            0, // uid
            0, // gid
            nlink,
            0, // mtime: fixed, so archives are reproducible
            u32::try_from(data.len()).expect("cpio member below 4 GiB"),
            0, // devmajor
            0, // devminor
            rdev.0,
            rdev.1,
            u32::try_from(path.len() + 1).expect("short path"),
            0, // check (only for the 070702 variant)
        ];
        self.buf.extend_from_slice(MAGIC.as_bytes());
        for f in fields {
            self.buf.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.buf.extend_from_slice(path.as_bytes());
        self.buf.push(0);
        pad4(&mut self.buf);
        self.buf.extend_from_slice(data);
        pad4(&mut self.buf);
    }

    pub fn dir(&mut self, path: &str, perm: u32) {
        self.entry(path, S_IFDIR | perm, 2, (0, 0), &[]);
    }

    pub fn file(&mut self, path: &str, perm: u32, data: &[u8]) {
        self.entry(path, S_IFREG | perm, 1, (0, 0), data);
    }

    pub fn symlink(&mut self, path: &str, target: &str) {
        self.entry(path, S_IFLNK | 0o777, 1, (0, 0), target.as_bytes());
    }

    pub fn char_dev(&mut self, path: &str, perm: u32, major: u32, minor: u32) {
        self.entry(path, S_IFCHR | perm, 1, (major, minor), &[]);
    }

    /// Appends the trailer and returns the archive.
    pub fn finish(mut self) -> Vec<u8> {
        self.entry(TRAILER, 0, 1, (0, 0), &[]);
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One member as read back: path, mode, rdev, data.
    type Member = (String, u32, (u32, u32), Vec<u8>);

    /// A strict reader, to check what the writer produced.
    fn read(a: &[u8]) -> Vec<Member> {
        let mut out = Vec::new();
        let mut at = 0;
        loop {
            assert_eq!(at % 4, 0, "header at {at} not 4-byte aligned");
            let h = &a[at..at + HEADER_LEN];
            assert_eq!(&h[..6], MAGIC.as_bytes());
            let field = |i: usize| {
                let s = std::str::from_utf8(&h[6 + 8 * i..14 + 8 * i]).unwrap();
                assert!(s.chars().all(|c| c.is_ascii_hexdigit()), "{s}");
                u32::from_str_radix(s, 16).unwrap()
            };
            let (mode, size, rdev, namesize) = (
                field(1),
                field(6) as usize,
                (field(9), field(10)),
                field(11) as usize,
            );
            let name_at = at + HEADER_LEN;
            assert_eq!(a[name_at + namesize - 1], 0, "name not NUL-terminated");
            let name = String::from_utf8(a[name_at..name_at + namesize - 1].to_vec()).unwrap();
            let data_at = (name_at + namesize).next_multiple_of(4);
            assert!(
                a[name_at + namesize..data_at].iter().all(|&b| b == 0),
                "name padding"
            );
            let data = a[data_at..data_at + size].to_vec();
            at = (data_at + size).next_multiple_of(4);
            if name == TRAILER {
                assert_eq!(at, a.len(), "bytes after the trailer");
                return out;
            }
            out.push((name, mode, rdev, data));
        }
    }

    #[test]
    fn archive_reads_back_with_aligned_headers_and_a_trailer() {
        let mut c = Cpio::new();
        c.dir("dev", 0o755);
        c.char_dev("dev/console", 0o600, 5, 1);
        c.dir("/bin", 0o755);
        c.file("bin/busybox", 0o755, b"12345"); // odd sizes exercise padding
        c.symlink("bin/sh", "busybox");
        c.file("init", 0o755, &[7u8; 4096]);
        c.file("e", 0o644, b"");
        let a = c.finish();
        assert_eq!(a.len() % 4, 0);
        let m = read(&a);
        let names: Vec<&str> = m.iter().map(|m| m.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "dev",
                "dev/console",
                "bin",
                "bin/busybox",
                "bin/sh",
                "init",
                "e"
            ]
        );
        assert_eq!(m[0].1, S_IFDIR | 0o755);
        assert_eq!((m[1].1, m[1].2), (S_IFCHR | 0o600, (5, 1)));
        assert_eq!(m[3].3, b"12345");
        assert_eq!(
            (m[4].1, m[4].3.as_slice()),
            (S_IFLNK | 0o777, &b"busybox"[..])
        );
        assert_eq!(m[5].3.len(), 4096);
        assert!(m[6].3.is_empty());
    }

    #[test]
    fn header_layout_matches_the_newc_format() {
        let mut c = Cpio::new();
        c.file("ab", 0o644, b"x");
        let a = c.finish();
        // 110-byte header + "ab\0" = 113, padded to 116; data 1 byte to 120.
        assert_eq!(&a[..6], b"070701");
        assert_eq!(&a[6..14], b"00000001"); // ino
        assert_eq!(&a[14..22], b"000081a4"); // mode 0100644
        assert_eq!(&a[54..62], b"00000001"); // filesize
        assert_eq!(&a[94..102], b"00000003"); // namesize includes the NUL
        assert_eq!(&a[110..113], b"ab\0");
        assert_eq!(a[116], b'x');
        assert_eq!(&a[120..126], b"070701");
        let trailer_name = 120 + HEADER_LEN;
        assert_eq!(&a[trailer_name..trailer_name + 11], b"TRAILER!!!\0");
    }
}
