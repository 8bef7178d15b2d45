//! LEB128 varints, zigzag, and [`Reader`], the bounds-checked cursor every decoder reads through.
//!
//! Varints are byte-aligned on purpose: the segment layer zstd-compresses each block, and zstd
//! models whole bytes far better than it models bit-packed streams.

use super::CodecError;

/// Maps signed to unsigned so that small magnitudes of either sign become small numbers.
#[inline]
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
#[inline]
pub(crate) fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// Appends `v` as an unsigned LEB128 varint (1 to 10 bytes).
#[inline]
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` zigzag-encoded as a varint.
#[inline]
pub(crate) fn put_ivarint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, zigzag(v));
}

/// Bytes [`put_uvarint`] writes for `v`.
#[inline]
pub(crate) fn uvarint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Bytes [`put_ivarint`] writes for `v`.
#[inline]
pub(crate) fn ivarint_len(v: i64) -> usize {
    uvarint_len(zigzag(v))
}

/// A cursor over an encoded column; every read is bounds-checked and fails with a
/// [`CodecError`] naming what was being read.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// One byte.
    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, CodecError> {
        let b = *self.buf.get(self.pos).ok_or(CodecError::Truncated(what))?;
        self.pos += 1;
        Ok(b)
    }

    /// Eight bytes, little-endian.
    pub(crate) fn u64_le(&mut self, what: &'static str) -> Result<u64, CodecError> {
        let b = self.bytes(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// The next `n` bytes.
    pub(crate) fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], CodecError> {
        if n > self.remaining() {
            return Err(CodecError::Truncated(what));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Everything not read yet.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    /// An unsigned LEB128 varint; more than 64 bits of payload is [`CodecError::Invalid`].
    #[inline]
    pub(crate) fn uvarint(&mut self, what: &'static str) -> Result<u64, CodecError> {
        let mut v = 0u64;
        let mut shift = 0u32;
        loop {
            let b = *self.buf.get(self.pos).ok_or(CodecError::Truncated(what))?;
            self.pos += 1;
            if shift == 63 {
                // The tenth byte carries only bit 63 and must end the varint.
                if b > 1 {
                    return Err(CodecError::Invalid("varint longer than 64 bits"));
                }
                return Ok(v | (u64::from(b) << 63));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
            shift += 7;
        }
    }

    /// A zigzag varint.
    #[inline]
    pub(crate) fn ivarint(&mut self, what: &'static str) -> Result<i64, CodecError> {
        self.uvarint(what).map(unzigzag)
    }

    /// A count read as a varint, refused unless it is at most `max`: decoders pass the most
    /// items the rest of the buffer can hold, so no reservation is ever larger than the input
    /// justifies.
    pub(crate) fn count(&mut self, max: usize, what: &'static str) -> Result<usize, CodecError> {
        let n = self.uvarint(what)?;
        if n > max as u64 {
            return Err(CodecError::Invalid(what));
        }
        Ok(n as usize)
    }

    /// Succeeds only if the whole buffer was read: an encoder never leaves trailing bytes.
    pub(crate) fn finish(&self, what: &'static str) -> Result<(), CodecError> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(CodecError::Invalid(what))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn uvarint_round_trips(v in any::<u64>()) {
            let mut buf = Vec::new();
            put_uvarint(&mut buf, v);
            prop_assert_eq!(buf.len(), uvarint_len(v));
            let mut r = Reader::new(&buf);
            prop_assert_eq!(r.uvarint("v").unwrap(), v);
            prop_assert!(r.finish("end").is_ok());
        }

        #[test]
        fn ivarint_round_trips(v in any::<i64>()) {
            let mut buf = Vec::new();
            put_ivarint(&mut buf, v);
            prop_assert_eq!(buf.len(), ivarint_len(v));
            prop_assert_eq!(Reader::new(&buf).ivarint("v").unwrap(), v);
        }
    }

    #[test]
    fn zigzag_keeps_small_magnitudes_small() {
        assert_eq!(zigzag(0), 0);
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
        assert_eq!(zigzag(i64::MIN), u64::MAX);
        assert_eq!(unzigzag(u64::MAX), i64::MIN);
        assert_eq!(unzigzag(u64::MAX - 1), i64::MAX);
    }

    #[test]
    fn varint_edges() {
        assert_eq!(uvarint_len(0), 1);
        assert_eq!(uvarint_len(127), 1);
        assert_eq!(uvarint_len(128), 2);
        assert_eq!(uvarint_len(u64::MAX), 10);
        // Eleven bytes, or a tenth byte with more than bit 63, is refused.
        let too_long = [0xffu8; 10];
        assert!(matches!(
            Reader::new(&too_long).uvarint("v"),
            Err(CodecError::Invalid(_))
        ));
        let mut ok = vec![0xffu8; 9];
        ok.push(1);
        assert_eq!(Reader::new(&ok).uvarint("v").unwrap(), u64::MAX);
        assert!(matches!(
            Reader::new(&[0x80]).uvarint("v"),
            Err(CodecError::Truncated(_))
        ));
    }
}
