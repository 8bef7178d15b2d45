//! Reading one WAL file back: check the header, hand each good record to the caller, and find
//! where the good records end.
//!
//! The scan never trusts a length before checking it against [`MAX_PAYLOAD_BYTES`] and the bytes
//! left in the file, so a damaged length field costs a log line, not an allocation.

use super::format::{
    check_header, decode_record_header, record_crc, HeaderProblem, HEADER_LEN, KIND_RESERVED,
    MAX_PAYLOAD_BYTES, RECORD_HEADER_LEN,
};
use std::io::{self, Read, Seek, SeekFrom};

/// An error from the replay callback, kept whole for the caller.
pub(super) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Receives each good record: `(kind, payload)`.
pub(super) type RecordSink<'a> = dyn FnMut(u8, &[u8]) -> Result<(), BoxError> + 'a;

/// What a scan of one file found.
#[derive(Debug)]
pub(super) struct Scan {
    /// Good records handed to the callback.
    pub(super) records: u64,
    /// Offset just past the last good record (the header's end if there is none).
    pub(super) good_len: u64,
    /// Where and why the good records stop short of the end of the file, if they do.
    pub(super) bad: Option<BadTail>,
}

/// The part of a file after the last good record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BadTail {
    /// What is wrong with the first bad record, for the log.
    pub(super) reason: String,
    /// What the bytes look like.
    pub(super) kind: TailKind,
}

/// What the bytes after the last good record look like; decides whether they are worth keeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TailKind {
    /// A prefix of a record: what a crash in the middle of an append leaves.
    Torn,
    /// Nothing but zeros: space the file system allocated whose data never reached the disk.
    Zeroed,
    /// Bytes that fail a check: damage, or a write the disk reordered.
    Damaged,
}

/// Why a scan stopped without a result.
#[derive(Debug)]
pub(super) enum ScanError {
    /// The header is damaged or from a newer format.
    Header(HeaderProblem),
    /// Reading failed.
    Io(io::Error),
    /// The callback refused the record starting at `offset`.
    Callback {
        /// Offset of the record's frame.
        offset: u64,
        /// The callback's error.
        source: BoxError,
    },
}

impl From<io::Error> for ScanError {
    fn from(e: io::Error) -> Self {
        ScanError::Io(e)
    }
}

/// Scans the file numbered `file_no`, `file_len` bytes long, read from `r` positioned at its start.
/// Calls `f(kind, payload)` for every good record, in order, and stops at the first bad one.
pub(super) fn scan<R: Read + Seek>(
    r: &mut R,
    file_len: u64,
    file_no: u64,
    f: &mut RecordSink<'_>,
) -> Result<Scan, ScanError> {
    let mut header = [0u8; HEADER_LEN];
    let header_len = file_len.min(HEADER_LEN as u64) as usize;
    r.read_exact(&mut header[..header_len])?;
    check_header(&header[..header_len], file_no).map_err(ScanError::Header)?;

    let mut pos = HEADER_LEN as u64;
    let mut records = 0u64;
    let mut payload = Vec::new();
    loop {
        let left = file_len - pos;
        if left == 0 {
            return Ok(Scan {
                records,
                good_len: pos,
                bad: None,
            });
        }
        let bad = if left < RECORD_HEADER_LEN as u64 {
            BadTail {
                reason: format!("record header cut short: {left} of {RECORD_HEADER_LEN} bytes"),
                kind: TailKind::Torn,
            }
        } else {
            let mut frame = [0u8; RECORD_HEADER_LEN];
            r.read_exact(&mut frame)?;
            let rh = decode_record_header(&frame);
            let len = u64::from(rh.len);
            let room = left - RECORD_HEADER_LEN as u64;
            if rh.len as usize > MAX_PAYLOAD_BYTES {
                BadTail {
                    reason: format!(
                        "record length {len} is over the {MAX_PAYLOAD_BYTES}-byte limit"
                    ),
                    kind: TailKind::Damaged,
                }
            } else if len > room {
                BadTail {
                    reason: format!(
                        "record of {len} payload bytes runs past the end of the file ({room} bytes left)"
                    ),
                    kind: TailKind::Torn,
                }
            } else {
                payload.clear();
                let got = r.by_ref().take(len).read_to_end(&mut payload)?;
                if got as u64 != len {
                    // The file shrank under us; treat like any short read.
                    return Err(ScanError::Io(io::ErrorKind::UnexpectedEof.into()));
                }
                let computed = record_crc(rh.kind, &payload);
                if computed != rh.crc {
                    BadTail {
                        reason: format!(
                            "record checksum mismatch: stored {:08x}, computed {computed:08x}",
                            rh.crc
                        ),
                        kind: TailKind::Damaged,
                    }
                } else if rh.kind == KIND_RESERVED {
                    BadTail {
                        reason: "record kind 0 is reserved and never written".to_owned(),
                        kind: TailKind::Damaged,
                    }
                } else {
                    f(rh.kind, &payload).map_err(|source| ScanError::Callback {
                        offset: pos,
                        source,
                    })?;
                    records += 1;
                    pos += RECORD_HEADER_LEN as u64 + len;
                    continue;
                }
            }
        };
        let bad = if zeros_from(r, pos, file_len)? {
            BadTail {
                reason: format!("zero-filled tail ({left} bytes)"),
                kind: TailKind::Zeroed,
            }
        } else {
            bad
        };
        return Ok(Scan {
            records,
            good_len: pos,
            bad: Some(bad),
        });
    }
}

/// Whether every byte from `from` to `end` is zero.
fn zeros_from<R: Read + Seek>(r: &mut R, from: u64, end: u64) -> io::Result<bool> {
    r.seek(SeekFrom::Start(from))?;
    let mut rest = r.take(end - from);
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = rest.read(&mut chunk)?;
        if n == 0 {
            return Ok(true);
        }
        if chunk[..n].iter().any(|&b| b != 0) {
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::format::{encode_header, encode_record};
    use super::*;
    use proptest::prelude::*;
    use std::io::Cursor;

    type Records = Vec<(u8, Vec<u8>)>;

    fn file_of(records: &[(u8, Vec<u8>)]) -> (Vec<u8>, Vec<u64>) {
        let mut out = encode_header(7).to_vec();
        let mut ends = vec![out.len() as u64];
        for (kind, p) in records {
            encode_record(&mut out, *kind, p);
            ends.push(out.len() as u64);
        }
        (out, ends)
    }

    fn run(bytes: &[u8]) -> Result<(Scan, Records), ScanError> {
        let mut got = Vec::new();
        let scan = scan(
            &mut Cursor::new(bytes),
            bytes.len() as u64,
            7,
            &mut |k, p| {
                got.push((k, p.to_vec()));
                Ok(())
            },
        )?;
        Ok((scan, got))
    }

    fn records() -> impl Strategy<Value = Records> {
        proptest::collection::vec(
            (1u8..=255, proptest::collection::vec(any::<u8>(), 0..64)),
            0..12,
        )
    }

    proptest! {
        #[test]
        fn round_trip(recs in records()) {
            let (bytes, ends) = file_of(&recs);
            let (scan, got) = run(&bytes).unwrap();
            prop_assert_eq!(got, recs);
            prop_assert_eq!(scan.good_len, *ends.last().unwrap());
            prop_assert!(scan.bad.is_none());
        }

        /// Any cut leaves exactly the records wholly before it, and calls the rest torn.
        #[test]
        fn any_cut_keeps_whole_records(recs in records(), cut in any::<prop::sample::Index>()) {
            let (bytes, ends) = file_of(&recs);
            let at = HEADER_LEN + cut.index(bytes.len() - HEADER_LEN + 1);
            let (scan, got) = run(&bytes[..at]).unwrap();
            let whole = ends.iter().filter(|&&e| e <= at as u64).count() - 1;
            prop_assert_eq!(&got[..], &recs[..whole]);
            prop_assert_eq!(scan.good_len, ends[whole]);
            prop_assert_eq!(scan.bad.is_some(), scan.good_len != at as u64);
        }

        /// A flipped bit anywhere after the header never yields a record that was not written,
        /// and never panics.
        #[test]
        fn any_flip_yields_a_prefix(recs in records(), at in any::<prop::sample::Index>(), bit in 0u8..8) {
            let (mut bytes, _) = file_of(&recs);
            prop_assume!(bytes.len() > HEADER_LEN);
            let i = HEADER_LEN + at.index(bytes.len() - HEADER_LEN);
            bytes[i] ^= 1 << bit;
            let (scan, got) = run(&bytes).unwrap();
            prop_assert!(got.len() < recs.len() || recs.is_empty());
            prop_assert_eq!(&got[..], &recs[..got.len()]);
            prop_assert!(scan.bad.is_some());
        }

        /// Random bytes after a good header: never a panic, never a huge allocation.
        #[test]
        fn garbage_body_is_handled(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let mut bytes = encode_header(7).to_vec();
            bytes.extend_from_slice(&body);
            let _ = run(&bytes).unwrap();
        }
    }

    #[test]
    fn zero_tail_is_named() {
        let (mut bytes, ends) = file_of(&[(1, b"one".to_vec())]);
        bytes.extend_from_slice(&[0u8; 4096]);
        let (scan, got) = run(&bytes).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(scan.good_len, ends[1]);
        let bad = scan.bad.unwrap();
        assert_eq!(bad.kind, TailKind::Zeroed);
        assert!(bad.reason.contains("zero-filled"), "{}", bad.reason);
    }

    #[test]
    fn huge_length_is_corruption_not_allocation() {
        let (mut bytes, ends) = file_of(&[(1, b"one".to_vec())]);
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(&[0xAB; 32]);
        let (scan, _) = run(&bytes).unwrap();
        assert_eq!(scan.good_len, ends[1]);
        let bad = scan.bad.unwrap();
        assert_eq!(bad.kind, TailKind::Damaged);
        assert!(bad.reason.contains("over the"), "{}", bad.reason);
    }

    #[test]
    fn reserved_kind_is_refused() {
        let (bytes, ends) = file_of(&[(1, b"one".to_vec()), (0, b"zero".to_vec())]);
        let (scan, got) = run(&bytes).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(scan.good_len, ends[1]);
        assert!(scan.bad.unwrap().reason.contains("kind 0"));
    }

    #[test]
    fn callback_error_names_the_offset() {
        let (bytes, ends) = file_of(&[(1, b"one".to_vec()), (1, b"two".to_vec())]);
        let mut n = 0;
        let err = scan(
            &mut Cursor::new(&bytes),
            bytes.len() as u64,
            7,
            &mut |_, _| {
                n += 1;
                if n == 2 {
                    Err("refused".into())
                } else {
                    Ok(())
                }
            },
        )
        .unwrap_err();
        match err {
            ScanError::Callback { offset, source } => {
                assert_eq!(offset, ends[1]);
                assert_eq!(source.to_string(), "refused");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn short_file_is_a_bad_header() {
        let bytes = encode_header(7);
        assert!(matches!(
            run(&bytes[..5]),
            Err(ScanError::Header(HeaderProblem::Corrupt(_)))
        ));
        assert!(matches!(
            run(&[]),
            Err(ScanError::Header(HeaderProblem::Corrupt(_)))
        ));
    }
}
