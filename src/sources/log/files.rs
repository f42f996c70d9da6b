//! The files a log source follows, on the local file system or in a bucket,
//! and how their bytes are read. An object is fetched by range from the
//! offset reached so far: a log shipper's objects are usually written once,
//! so each is read once, but one rewritten longer is read on from there.

use std::fs::File;
use std::io::{self, Cursor};
use std::path::PathBuf;
use std::sync::Arc;

use super::tail::{self, FINGERPRINT_BYTES, Tail};
use crate::sources::remote::{Listed, Remote};

/// One file (or object) matching the source's path.
pub enum LogFile {
    Local(PathBuf),
    Object(Listed),
}

/// A file opened for reading.
pub enum Opened {
    Local(File),
    Object { remote: Arc<Remote>, url: String, size: u64 },
}

impl LogFile {
    /// How it is named in cursors and messages.
    pub fn name(&self) -> String {
        match self {
            LogFile::Local(p) => p.display().to_string(),
            LogFile::Object(o) => o.url.clone(),
        }
    }

    /// The object's size, known from the listing without a request.
    pub fn listed_size(&self) -> Option<u64> {
        match self {
            LogFile::Local(_) => None,
            LogFile::Object(o) => Some(o.size),
        }
    }

    pub fn open(&self, remote: Option<&Arc<Remote>>) -> io::Result<Opened> {
        match (self, remote) {
            (LogFile::Local(p), _) => crate::util::fs::open_regular(p).map(Opened::Local),
            (LogFile::Object(o), Some(r)) => Ok(Opened::Object { remote: r.clone(), url: o.url.clone(), size: o.size }),
            (LogFile::Object(o), None) => Err(io::Error::other(format!("{}: no object store configured", o.url))),
        }
    }
}

impl Opened {
    /// The identity of its first line; `None` until it has one.
    pub fn fingerprint(&mut self) -> io::Result<Option<String>> {
        match self {
            Opened::Local(f) => tail::fingerprint(f),
            Opened::Object { remote, url, size } => {
                let head = remote.get_range(url, 0, (*size).min(FINGERPRINT_BYTES as u64)).map_err(io::Error::other)?;
                tail::fingerprint(&mut Cursor::new(head))
            }
        }
    }

    pub fn len(&self) -> u64 {
        match self {
            Opened::Local(f) => f.metadata().map(|m| m.len()).unwrap_or(0),
            Opened::Object { size, .. } => *size,
        }
    }

    /// The complete lines after `offset` (see [`tail::read_lines`]).
    pub fn read_lines(&mut self, offset: u64, max_line: usize, line: impl FnMut(&[u8])) -> io::Result<Tail> {
        match self {
            Opened::Local(f) => tail::read_lines(f, offset, max_line, line),
            Opened::Object { remote, url, size } => {
                let bytes = remote.get_range(url, offset, *size).map_err(io::Error::other)?;
                let read = tail::read_lines(&mut Cursor::new(bytes), 0, max_line, line)?;
                Ok(Tail { offset: offset + read.offset, ..read })
            }
        }
    }
}
