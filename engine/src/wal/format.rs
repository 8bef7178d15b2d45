//! Byte layout of WAL files: the file header, the record frame and the file names.
//!
//! ```text
//! FILE   := HEADER RECORD*
//! HEADER := magic "TALLYWAL" | version:u16 | flags:u16 (0) | file_no:u64 | crc32:u32 (of the 20 bytes before)
//! RECORD := len:u32 | crc32:u32 (of kind and payload) | kind:u8 | payload (len bytes)
//! ```
//! Every integer is little-endian. `docs/format.md` has the full description.

/// The first eight bytes of every WAL file.
pub const MAGIC: [u8; 8] = *b"TALLYWAL";
/// The format version this build writes. It reads every version up to this one.
pub const FORMAT_VERSION: u16 = 1;
/// Bytes in a file header.
pub const HEADER_LEN: usize = 24;
/// Bytes in a record frame before the payload: length, checksum, kind.
pub(super) const RECORD_HEADER_LEN: usize = 9;
/// Largest payload a record may carry. A larger length field on disk is corruption; appending a
/// larger payload is refused, so a bad length can never make replay allocate gigabytes.
pub const MAX_PAYLOAD_BYTES: usize = 256 << 20;
/// Record kind of a [`crate::batch::WriteBatch`]: the payload is `WriteBatch::as_bytes()`.
pub const KIND_WRITE_BATCH: u8 = 1;

/// Kind 0 is never written, so a zeroed frame can never pass as a record.
pub(super) const KIND_RESERVED: u8 = 0;
/// Suffix of WAL file names.
pub(super) const FILE_SUFFIX: &str = ".wal";
/// Digits in a WAL file name's number (zero-padded so names sort like numbers).
const FILE_DIGITS: usize = 20;

/// The header of file number `file_no`.
pub(super) fn encode_header(file_no: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[0..8].copy_from_slice(&MAGIC);
    h[8..10].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    // bytes 10..12: flags, zero in version 1.
    h[12..20].copy_from_slice(&file_no.to_le_bytes());
    let crc = crc32fast::hash(&h[0..20]);
    h[20..24].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Why a file header was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum HeaderProblem {
    /// Damaged or not a WAL file: the file is quarantined.
    Corrupt(String),
    /// A valid header of a format newer than this build: refuse to start rather than move aside
    /// data a newer Tally wrote.
    NewerVersion(u16),
}

/// Checks the header `h` of the file named with number `file_no`.
pub(super) fn check_header(h: &[u8], file_no: u64) -> Result<(), HeaderProblem> {
    let corrupt = |s: String| Err(HeaderProblem::Corrupt(s));
    if h.len() < HEADER_LEN {
        return corrupt(format!(
            "file is {} bytes, shorter than the {HEADER_LEN}-byte header",
            h.len()
        ));
    }
    if h[0..8] != MAGIC {
        return corrupt("bad magic: not a tally WAL file".to_owned());
    }
    let stored = u32::from_le_bytes([h[20], h[21], h[22], h[23]]);
    let computed = crc32fast::hash(&h[0..20]);
    if stored != computed {
        return corrupt(format!(
            "header checksum mismatch: stored {stored:08x}, computed {computed:08x}"
        ));
    }
    let version = u16::from_le_bytes([h[8], h[9]]);
    if version > FORMAT_VERSION {
        return Err(HeaderProblem::NewerVersion(version));
    }
    if version == 0 {
        return corrupt("format version 0 does not exist".to_owned());
    }
    let flags = u16::from_le_bytes([h[10], h[11]]);
    if flags != 0 {
        return corrupt(format!("unknown header flags {flags:04x}"));
    }
    let mut no = [0u8; 8];
    no.copy_from_slice(&h[12..20]);
    let found = u64::from_le_bytes(no);
    if found != file_no {
        return corrupt(format!(
            "header says file number {found}, the file name says {file_no}"
        ));
    }
    Ok(())
}

/// The checksum stored in a record frame: over the kind byte and the payload.
pub(super) fn record_crc(kind: u8, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&[kind]);
    h.update(payload);
    h.finalize()
}

/// Appends the record frame of `payload` to `out`. The caller has checked the length bound.
pub(super) fn encode_record(out: &mut Vec<u8>, kind: u8, payload: &[u8]) {
    debug_assert!(payload.len() <= MAX_PAYLOAD_BYTES);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&record_crc(kind, payload).to_le_bytes());
    out.push(kind);
    out.extend_from_slice(payload);
}

/// A decoded record frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RecordHeader {
    /// Payload bytes that follow the frame header.
    pub(super) len: u32,
    /// Stored checksum of kind and payload.
    pub(super) crc: u32,
    /// Record kind.
    pub(super) kind: u8,
}

/// Reads a record frame header.
pub(super) fn decode_record_header(b: &[u8; RECORD_HEADER_LEN]) -> RecordHeader {
    RecordHeader {
        len: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        crc: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        kind: b[8],
    }
}

/// The name of WAL file number `no`, e.g. `00000000000000000001.wal`.
pub(super) fn file_name(no: u64) -> String {
    format!("{no:0width$}{FILE_SUFFIX}", width = FILE_DIGITS)
}

/// The number of a WAL file name, or `None` for any other name.
pub(super) fn parse_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(FILE_SUFFIX)?;
    if digits.len() != FILE_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_rejections() {
        let h = encode_header(42);
        assert_eq!(check_header(&h, 42), Ok(()));
        assert!(matches!(
            check_header(&h, 43),
            Err(HeaderProblem::Corrupt(r)) if r.contains("file number 42")
        ));
        assert!(matches!(
            check_header(&h[..10], 42),
            Err(HeaderProblem::Corrupt(_))
        ));
        for i in 0..HEADER_LEN {
            let mut bad = h;
            bad[i] ^= 0x01;
            assert!(
                matches!(check_header(&bad, 42), Err(HeaderProblem::Corrupt(_))),
                "flipped bit in header byte {i} not detected"
            );
        }
        // A well-formed header of a newer version is not corruption.
        let mut newer = h;
        newer[8..10].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        let crc = crc32fast::hash(&newer[0..20]);
        newer[20..24].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(
            check_header(&newer, 42),
            Err(HeaderProblem::NewerVersion(FORMAT_VERSION + 1))
        );
    }

    #[test]
    fn header_bytes_are_as_documented() {
        let h = encode_header(1);
        assert_eq!(&h[0..8], b"TALLYWAL");
        assert_eq!(&h[8..12], &[1, 0, 0, 0]);
        assert_eq!(&h[12..20], &[1, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn record_frame_layout() {
        let mut out = Vec::new();
        encode_record(&mut out, KIND_WRITE_BATCH, b"abc");
        assert_eq!(out.len(), RECORD_HEADER_LEN + 3);
        let mut fh = [0u8; RECORD_HEADER_LEN];
        fh.copy_from_slice(&out[..RECORD_HEADER_LEN]);
        let rh = decode_record_header(&fh);
        assert_eq!(rh.len, 3);
        assert_eq!(rh.kind, KIND_WRITE_BATCH);
        assert_eq!(rh.crc, record_crc(KIND_WRITE_BATCH, b"abc"));
        assert_ne!(
            rh.crc,
            record_crc(2, b"abc"),
            "the kind is covered by the crc"
        );
        assert_eq!(&out[RECORD_HEADER_LEN..], b"abc");
    }

    #[test]
    fn file_names() {
        assert_eq!(file_name(1), "00000000000000000001.wal");
        assert_eq!(parse_file_name(&file_name(u64::MAX)), Some(u64::MAX));
        assert_eq!(parse_file_name("00000000000000000001.wal"), Some(1));
        assert_eq!(parse_file_name("1.wal"), None);
        assert_eq!(parse_file_name("00000000000000000001.wal.tmp"), None);
        assert_eq!(parse_file_name("0000000000000000000x.wal"), None);
    }
}
