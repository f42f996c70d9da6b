//! Opening files the agent and the CLI are given. Only regular files are
//! read: opening or reading a FIFO, a device or a socket can block for ever.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// What kind of file `meta` describes, in words.
fn kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

/// The error for a path that exists but is not a regular file.
fn not_regular(meta: &std::fs::Metadata) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("not a regular file ({}); only regular files are read", kind(meta)))
}

/// Whether `path` is a regular file (after symlinks), or why not.
pub fn check_regular(path: &Path) -> io::Result<()> {
    let meta = std::fs::metadata(path)?;
    if meta.is_file() { Ok(()) } else { Err(not_regular(&meta)) }
}

/// Open `path` for reading if it is a regular file.
pub fn open_regular(path: &Path) -> io::Result<File> {
    check_regular(path)?;
    File::open(path)
}

/// Read a text file of at most `max_bytes`; a larger one is refused with
/// its size, before it is read.
pub fn read_text(path: &Path, max_bytes: u64) -> io::Result<String> {
    let file = open_regular(path)?;
    let len = file.metadata()?.len();
    if len > max_bytes {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the file is {} bytes; at most {max_bytes} are read", len),
        ));
    }
    let mut text = String::new();
    // `take`: the file may have grown since.
    file.take(max_bytes + 1).read_to_string(&mut text)?;
    if text.len() as u64 > max_bytes {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("the file grew past {max_bytes} bytes while being read")));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifos_directories_and_large_files_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let err = read_text(&fifo, 1024).unwrap_err().to_string();
        assert_eq!(err, "not a regular file (a FIFO); only regular files are read");
        assert!(open_regular(dir.path()).unwrap_err().to_string().contains("(a directory)"));
        let big = dir.path().join("big.yaml");
        std::fs::write(&big, "x".repeat(2000)).unwrap();
        assert_eq!(read_text(&big, 1000).unwrap_err().to_string(), "the file is 2000 bytes; at most 1000 are read");
        assert_eq!(read_text(&big, 2000).unwrap().len(), 2000);
    }
}
