//! Following log files: identify each by a fingerprint of its first line
//! (so a renamed file keeps its place and a truncated one starts over), and
//! read the complete lines after the offset reached so far.

use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// How much of a file's start its fingerprint covers at most.
pub const FINGERPRINT_BYTES: usize = 1024;

/// A file's identity: FNV-1a of its first line (up to [`FINGERPRINT_BYTES`]),
/// in hex. `None` while the file is too short to tell (no complete first
/// line yet, and fewer bytes than that).
pub fn fingerprint(file: &mut impl Read) -> io::Result<Option<String>> {
    let mut head = vec![0u8; FINGERPRINT_BYTES];
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    let head = &head[..n];
    let covered = match head.iter().position(|&b| b == b'\n') {
        Some(i) => &head[..=i],
        None if n == FINGERPRINT_BYTES => head,
        None => return Ok(None),
    };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in covered {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    Ok(Some(format!("{h:016x}")))
}

/// What reading a file on from an offset found.
#[derive(Debug, Default)]
pub struct Tail {
    /// The offset after the last complete line.
    pub offset: u64,
    /// Lines longer than the bound, skipped.
    pub too_long: u64,
    /// Bytes read.
    pub bytes: u64,
}

/// Read the complete lines of `path` after `offset`, giving each (without its
/// newline) to `line`. A line longer than `max_line` is skipped whole and
/// counted, without being held in memory. A last line without its newline
/// is left for the next read (it is still being written).
pub fn read_lines(file: &mut (impl Read + Seek), offset: u64, max_line: usize, mut line: impl FnMut(&[u8])) -> io::Result<Tail> {
    file.seek(SeekFrom::Start(offset))?;
    let mut tail = Tail { offset, ..Tail::default() };
    let mut buf = vec![0u8; (256usize << 10).min(max_line + 1)];
    // The file offset of `buf[0]`; `buf[..held]` is the unfinished line, or
    // nothing while `skipping` one that has grown past the bound.
    let mut buf_pos = offset;
    let mut held = 0usize;
    let mut skipping = false;
    loop {
        if held == buf.len() {
            if buf.len() <= max_line {
                let grown = (buf.len() * 2).min(max_line + 1).max(buf.len() + 1);
                buf.resize(grown, 0);
            } else {
                skipping = true;
                buf_pos += held as u64;
                held = 0;
            }
        }
        let n = file.read(&mut buf[held..])?;
        if n == 0 {
            break;
        }
        tail.bytes += n as u64;
        let filled = held + n;
        let mut start = 0;
        // Only the new bytes can hold a newline not yet seen.
        let mut search = held;
        while let Some(i) = buf[search..filled].iter().position(|&b| b == b'\n') {
            let end = search + i;
            if skipping || end - start > max_line {
                tail.too_long += 1;
            } else {
                line(&buf[start..end]);
            }
            skipping = false;
            start = end + 1;
            search = start;
            tail.offset = buf_pos + start as u64;
        }
        if skipping {
            buf_pos += filled as u64;
            held = 0;
        } else {
            buf.copy_within(start..filled, 0);
            buf_pos += start as u64;
            held = filled - start;
            if held > max_line {
                skipping = true;
                buf_pos += held as u64;
                held = 0;
            }
        }
    }
    Ok(tail)
}

/// Whether a path looks like a compressed rotation (`api.log.1.gz`), which is not read.
pub fn is_compressed(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("gz" | "zst" | "bz2" | "xz" | "zip"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lines_of(content: &[u8], offset: u64, max: usize) -> (Vec<String>, Tail) {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(content).unwrap();
        let mut out = Vec::new();
        let tail = read_lines(&mut f, offset, max, |l| out.push(String::from_utf8_lossy(l).into_owned())).unwrap();
        (out, tail)
    }

    #[test]
    fn complete_lines_are_read_and_a_partial_one_waits() {
        let (lines, tail) = lines_of(b"a\nbb\nccc", 0, 100);
        assert_eq!(lines, ["a", "bb"]);
        assert_eq!(tail.offset, 5);
        let (lines, tail) = lines_of(b"a\nbb\nccc\n", 5, 100);
        assert_eq!((lines, tail.offset), (vec!["ccc".to_string()], 9));
    }

    #[test]
    fn long_lines_are_skipped_and_counted_without_being_held() {
        let mut content = b"ok1\n".to_vec();
        content.extend(std::iter::repeat_n(b'x', 1 << 20));
        content.extend(b"\nok2\n");
        content.extend(std::iter::repeat_n(b'y', 600_000));
        let (lines, tail) = lines_of(&content, 0, 1000);
        assert_eq!(lines, ["ok1", "ok2"]);
        assert_eq!(tail.too_long, 1, "the unfinished long line is not counted yet");
        assert_eq!(tail.offset, 4 + (1 << 20) + 1 + 4);
        let (lines, tail) = lines_of(b"12345\n123456\n1234\n", 0, 5);
        assert_eq!((lines, tail.too_long), (vec!["12345".to_string(), "1234".to_string()], 1));
    }

    #[test]
    fn the_fingerprint_is_the_first_line() {
        let fp = |c: &[u8]| {
            let mut f = tempfile::tempfile().unwrap();
            f.write_all(c).unwrap();
            f.seek(SeekFrom::Start(0)).unwrap();
            fingerprint(&mut f).unwrap()
        };
        assert_eq!(fp(b"first\nsecond\n"), fp(b"first\nother\n"));
        assert_ne!(fp(b"first\n"), fp(b"First\n"));
        assert_eq!(fp(b"no newline yet"), None);
        assert!(fp(&[b'z'; 2000]).is_some(), "a long first line is fingerprinted by its start");
    }
}
