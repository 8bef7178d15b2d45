//! Framing primitives shared by segment and rollup files.
//!
//! Both file kinds are `FILE := [HEADER][BLOCK]*[BLOCK TABLE][INDEX][FOOTER]` (`docs/format.md`,
//! sections "Segment files" and "Rollup files"): the same 16-byte header shape, the same block
//! table entries, zstd-compressed blocks and index, a LEB128 index read through a bounds-checked
//! cursor, and the same sorted field-name dictionary at the start of the index. What differs —
//! magic, footer, index entries, error type — stays with each kind; the functions here report a
//! plain reason that the caller wraps with its path and its own error enum.
//!
//! Invariants:
//! - A change here changes both formats at once: keep both sections of `docs/format.md` in step.
//! - Everything is pure (no I/O). Parsing never panics and never allocates more than the input
//!   justifies, whatever the bytes are.

use std::io::Read;

/// `magic[8] | version u16 | flags u16 | reserved u32`.
pub(crate) const HEADER_LEN: usize = 16;

/// One block table entry: `offset u64 | compressed_len u32 | raw_len u32`.
pub(crate) const BLOCK_ENTRY_LEN: usize = 16;

/// Largest decompressed block or index the formats allow (the lengths are u32 on disk).
pub(crate) const MAX_RAW_LEN: usize = u32::MAX as usize;

/// Blocks up to this size are decompressed in one call into a buffer of their declared size;
/// larger ones stream, so a forged length cannot make us allocate memory the data does not fill.
const BULK_DECOMPRESS_MAX: usize = 1024 * 1024;

/// Appends the header: `magic`, `version` and feature flags (none defined in version 1).
pub(crate) fn encode_header(out: &mut Vec<u8>, magic: &[u8; 8], version: u16) {
    out.extend_from_slice(magic);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // flags
    out.extend_from_slice(&0u32.to_le_bytes()); // reserved
}

/// Where one compressed block lies in the file and how long it is once decompressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BlockInfo {
    /// File offset of the first compressed byte.
    pub(crate) offset: u64,
    /// Compressed length in the file.
    pub(crate) compressed_len: u32,
    /// Length after decompression.
    pub(crate) raw_len: u32,
}

impl BlockInfo {
    /// Appends the entry (`BLOCK_ENTRY_LEN` bytes).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.offset.to_le_bytes());
        out.extend_from_slice(&self.compressed_len.to_le_bytes());
        out.extend_from_slice(&self.raw_len.to_le_bytes());
    }

    /// Reads one entry; `None` past the end.
    pub(crate) fn decode(c: &mut Cursor<'_>) -> Option<BlockInfo> {
        Some(BlockInfo {
            offset: c.u64()?,
            compressed_len: c.u32()?,
            raw_len: c.u32()?,
        })
    }
}

/// Where a footer places the block table and the index.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tail {
    /// File offset of the block table.
    pub(crate) block_table_offset: u64,
    /// Entries in the block table.
    pub(crate) block_count: u32,
    /// File offset of the compressed index.
    pub(crate) index_offset: u64,
    /// Compressed length of the index.
    pub(crate) index_len: u64,
}

/// The block table of `file`, checked: blocks lie back to back from the end of the header to the
/// block table, which is followed by the index, which is followed by the footer at
/// `footer_start`.
pub(crate) fn parse_block_table(
    file: &[u8],
    tail: Tail,
    footer_start: usize,
) -> Result<Vec<BlockInfo>, &'static str> {
    let table_len = u64::from(tail.block_count) * BLOCK_ENTRY_LEN as u64;
    let table_end = tail.block_table_offset.checked_add(table_len);
    let index_end = tail.index_offset.checked_add(tail.index_len);
    if tail.block_table_offset < HEADER_LEN as u64
        || table_end != Some(tail.index_offset)
        || index_end != Some(footer_start as u64)
    {
        return Err("footer offsets do not describe the file's layout");
    }
    // In range: block_table_offset + table_len == index_offset <= footer_start.
    let table = usize::try_from(tail.block_table_offset)
        .ok()
        .zip(usize::try_from(tail.index_offset).ok())
        .and_then(|(start, end)| file.get(start..end))
        .ok_or("block table outside the file")?;
    let mut c = Cursor::new(table);
    let mut blocks = Vec::with_capacity(tail.block_count as usize);
    let mut next = HEADER_LEN as u64;
    while !c.is_empty() {
        let info = BlockInfo::decode(&mut c).ok_or("block table truncated")?;
        if info.offset != next {
            return Err("block table entries are not back to back");
        }
        next += u64::from(info.compressed_len);
        blocks.push(info);
    }
    if next != tail.block_table_offset {
        return Err("blocks do not end where the block table starts");
    }
    Ok(blocks)
}

/// Decompresses one zstd frame that must expand to exactly `raw_len` bytes.
/// Block `n` of a file whose bytes are `file` and whose block table is `blocks`, decompressed;
/// the error says what is wrong with it (callers add the path).
pub(crate) fn read_block(file: &[u8], blocks: &[BlockInfo], n: u32) -> Result<Vec<u8>, String> {
    let info = blocks
        .get(n as usize)
        .ok_or_else(|| format!("block {n} is not in the block table"))?;
    // Offsets were checked against the file length at open; checked again, never trusted.
    let start = info.offset as usize;
    let src = file
        .get(start..start.saturating_add(info.compressed_len as usize))
        .ok_or_else(|| format!("block {n} lies outside the file"))?;
    decompress(src, info.raw_len as usize).map_err(|e| format!("block {n}: {e}"))
}

/// Decompresses one block of `raw_len` bytes.
pub(crate) fn decompress(src: &[u8], raw_len: usize) -> Result<Vec<u8>, String> {
    let out = if raw_len <= BULK_DECOMPRESS_MAX {
        zstd::bulk::decompress(src, raw_len).map_err(|e| format!("zstd: {e}"))?
    } else {
        // Grows with what the data really expands to, up to one byte past the claim.
        let mut out = Vec::new();
        let dec = zstd::stream::read::Decoder::with_buffer(src)
            .map_err(|e| format!("zstd: {e}"))?
            .single_frame();
        dec.take(raw_len as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("zstd: {e}"))?;
        out
    };
    if out.len() != raw_len {
        return Err(format!(
            "decompresses to {} bytes, the table says {raw_len}",
            out.len()
        ));
    }
    Ok(out)
}

/// Appends the field-name dictionary: `count uvarint`, then per name `len uvarint | UTF-8
/// bytes`. `names` must be sorted and distinct (name ids then order fields by name).
pub(crate) fn put_names<'a>(out: &mut Vec<u8>, names: impl ExactSizeIterator<Item = &'a str>) {
    put_uvarint(out, names.len() as u64);
    for name in names {
        put_uvarint(out, name.len() as u64);
        out.extend_from_slice(name.as_bytes());
    }
}

/// Reads the field-name dictionary written by [`put_names`], checking it is UTF-8, sorted and
/// distinct.
pub(crate) fn read_names(c: &mut Cursor<'_>) -> Result<Vec<String>, &'static str> {
    let count = c.uvarint().ok_or("field-name dictionary truncated")?;
    // Each name takes at least one byte, which bounds the allocation by the input size.
    if count > c.remaining() as u64 {
        return Err("field-name count larger than the index");
    }
    let mut names: Vec<String> = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let len = c.uvarint().ok_or("field-name dictionary truncated")?;
        let bytes = usize::try_from(len)
            .ok()
            .and_then(|l| c.bytes(l))
            .ok_or("field-name dictionary truncated")?;
        let name = std::str::from_utf8(bytes).map_err(|_| "field name is not UTF-8")?;
        if names.last().is_some_and(|p| p.as_str() >= name) {
            return Err("field-name dictionary not sorted");
        }
        names.push(name.to_owned());
    }
    Ok(names)
}

/// Appends `v` as LEB128 (7 bits a byte, low first, high bit = more follows).
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A bounds-checked little-endian reader over a byte slice; every getter returns `None` past
/// the end.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    /// A cursor over `buf` positioned at `pos` (which may be past the end: reads then fail).
    pub(crate) fn at(buf: &'a [u8], pos: usize) -> Self {
        Cursor { buf, pos }
    }

    /// Bytes read so far from the start of the buffer.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left to read.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Whether nothing is left to read.
    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next `n` bytes.
    pub(crate) fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let b = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(b)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(N)?);
        Some(a)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_le_bytes)
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    pub(crate) fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    pub(crate) fn i64(&mut self) -> Option<i64> {
        self.array().map(i64::from_le_bytes)
    }

    /// A LEB128 value of at most 10 bytes that fits in a u64.
    pub(crate) fn uvarint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.u8()?;
            if i == 9 && b > 1 {
                return None; // would overflow 64 bits
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn overlong_varints_are_rejected() {
        assert_eq!(Cursor::new(&[0xff; 11]).uvarint(), None);
        let mut max = Vec::new();
        put_uvarint(&mut max, u64::MAX);
        assert_eq!(max.len(), 10);
        assert_eq!(Cursor::new(&max).uvarint(), Some(u64::MAX));
        let mut over = max.clone();
        over[9] = 2;
        assert_eq!(Cursor::new(&over).uvarint(), None);
        assert_eq!(Cursor::new(&[0x80]).uvarint(), None);
    }

    #[test]
    fn header_and_block_entries_have_their_fixed_lengths() {
        let mut h = Vec::new();
        encode_header(&mut h, b"ABCDEFGH", 7);
        assert_eq!(h.len(), HEADER_LEN);
        assert_eq!(&h[..10], b"ABCDEFGH\x07\x00");
        let b = BlockInfo {
            offset: 1 << 40,
            compressed_len: 2,
            raw_len: u32::MAX,
        };
        let mut out = Vec::new();
        b.encode(&mut out);
        assert_eq!(out.len(), BLOCK_ENTRY_LEN);
        assert_eq!(BlockInfo::decode(&mut Cursor::new(&out)), Some(b));
        assert_eq!(BlockInfo::decode(&mut Cursor::new(&out[1..])), None);
    }

    /// A file of `HEADER_LEN` zero bytes, the given blocks (compressed lengths only), the table
    /// and an index of `index_len` bytes; returns it with its tail and footer start.
    fn framed(lens: &[u32], index_len: usize) -> (Vec<u8>, Tail, usize) {
        let mut file = vec![0u8; HEADER_LEN];
        let mut table = Vec::new();
        for len in lens {
            BlockInfo {
                offset: file.len() as u64,
                compressed_len: *len,
                raw_len: 1,
            }
            .encode(&mut table);
            file.resize(file.len() + *len as usize, 0);
        }
        let tail = Tail {
            block_table_offset: file.len() as u64,
            block_count: lens.len() as u32,
            index_offset: (file.len() + table.len()) as u64,
            index_len: index_len as u64,
        };
        file.extend_from_slice(&table);
        file.resize(file.len() + index_len, 0);
        let footer_start = file.len();
        (file, tail, footer_start)
    }

    #[test]
    fn block_table_must_describe_the_file() {
        let (file, tail, end) = framed(&[3, 5], 4);
        let blocks = parse_block_table(&file, tail, end).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!((blocks[1].offset, blocks[1].compressed_len), (19, 5));
        assert!(parse_block_table(&file, tail, end + 1).is_err());
        let short = Tail {
            block_count: 1,
            ..tail
        };
        assert!(parse_block_table(&file, short, end).is_err());
        // A gap between two blocks.
        let mut gap = file.clone();
        gap[tail.block_table_offset as usize + BLOCK_ENTRY_LEN] += 1;
        assert_eq!(
            parse_block_table(&gap, tail, end),
            Err("block table entries are not back to back")
        );
        let (file, tail, end) = framed(&[], 0);
        assert_eq!(parse_block_table(&file, tail, end), Ok(Vec::new()));
    }

    #[test]
    fn decompress_insists_on_the_declared_length() {
        for raw in [vec![7u8; 100], vec![7u8; BULK_DECOMPRESS_MAX + 100]] {
            let z = zstd::bulk::compress(&raw, 1).unwrap();
            assert_eq!(decompress(&z, raw.len()).unwrap(), raw);
            assert!(decompress(&z, raw.len() - 1).is_err());
            assert!(decompress(&z, raw.len() + 1).is_err());
            assert!(decompress(&z[..z.len() / 2], raw.len()).is_err());
        }
    }

    #[test]
    fn name_dictionary_must_be_sorted_and_distinct() {
        for names in [&["a", "b"][..], &["b", "a"], &["a", "a"]] {
            let mut out = Vec::new();
            put_names(&mut out, names.iter().copied());
            let got = read_names(&mut Cursor::new(&out));
            if names == ["a", "b"] {
                assert_eq!(got, Ok(vec!["a".to_owned(), "b".to_owned()]));
            } else {
                assert_eq!(got, Err("field-name dictionary not sorted"));
            }
        }
        // A count no input of this size can hold is refused before allocating.
        let mut huge = Vec::new();
        put_uvarint(&mut huge, u64::MAX);
        assert!(read_names(&mut Cursor::new(&huge)).is_err());
        assert!(read_names(&mut Cursor::new(&[1, 5, b'a'])).is_err());
        assert!(read_names(&mut Cursor::new(&[1, 1, 0xff])).is_err());
    }

    proptest! {
        #[test]
        fn uvarint_round_trips(vs in proptest::collection::vec(any::<u64>(), 0..50)) {
            let mut out = Vec::new();
            for v in &vs {
                put_uvarint(&mut out, *v);
            }
            let mut c = Cursor::new(&out);
            for v in &vs {
                prop_assert_eq!(c.uvarint(), Some(*v));
            }
            prop_assert!(c.is_empty());
        }
    }
}
