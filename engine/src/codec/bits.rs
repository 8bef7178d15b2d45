//! A most-significant-bit-first bit writer and reader, for the Gorilla float stream.
//!
//! Bits fill each byte from its high bit down; the last byte is padded with zero bits.

use super::CodecError;

/// Appends bits to a byte vector.
#[derive(Debug)]
pub(crate) struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    /// Pending bits, left-aligned: the top `pending` bits are written, the rest are zero.
    acc: u64,
    /// Always below 64 between calls: a full word is flushed at once.
    pending: u32,
}

impl<'a> BitWriter<'a> {
    /// A writer appending to `out`.
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        BitWriter {
            out,
            acc: 0,
            pending: 0,
        }
    }

    /// Writes the low `bits` bits of `value` (`bits` at most 64), high bit first.
    #[inline]
    pub(crate) fn write(&mut self, value: u64, bits: u32) {
        debug_assert!(bits <= 64);
        if bits == 0 {
            return;
        }
        let value = if bits == 64 {
            value
        } else {
            value & ((1u64 << bits) - 1)
        };
        let free = 64 - self.pending;
        if bits < free {
            self.acc |= value << (free - bits);
            self.pending += bits;
        } else {
            // The word fills up: its last `free` bits are the top of `value`, the other
            // `spill` (0..=63) bits start the next word.
            let spill = bits - free;
            self.acc |= value >> spill;
            self.out.extend_from_slice(&self.acc.to_be_bytes());
            self.acc = if spill == 0 { 0 } else { value << (64 - spill) };
            self.pending = spill;
        }
    }

    /// Flushes the last partial word, zero-padded to whole bytes.
    pub(crate) fn finish(self) {
        let bytes = self.pending.div_ceil(8) as usize;
        self.out.extend_from_slice(&self.acc.to_be_bytes()[..bytes]);
    }
}

/// The 64 bits of `buf` from bit `pos` on, when eight whole bytes are there to load (the low
/// `pos % 8` bits are zero): the decoders' fast path, which needs no tail handling.
#[inline]
pub(crate) fn window(buf: &[u8], pos: usize) -> Option<u64> {
    let byte = pos >> 3;
    let word = buf.get(byte..byte + 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(word);
    Some(u64::from_be_bytes(a) << (pos & 7))
}

/// Reads bits written by [`BitWriter`].
#[derive(Debug)]
pub(crate) struct BitReader<'a> {
    buf: &'a [u8],
    /// Next bit to read, counted from the high bit of `buf[0]`.
    pos: usize,
}

impl<'a> BitReader<'a> {
    /// A reader at the first bit of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        BitReader { buf, pos: 0 }
    }

    /// A reader at bit `pos` of `buf` (not past its end).
    pub(crate) fn at(buf: &'a [u8], pos: usize) -> Self {
        BitReader {
            buf,
            pos: pos.min(buf.len() * 8),
        }
    }

    /// The next bit to read.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Bits not read yet.
    pub(crate) fn remaining_bits(&self) -> usize {
        self.buf.len() * 8 - self.pos
    }

    /// Reads `bits` bits (at most 64) as the low bits of the result.
    #[inline]
    pub(crate) fn read(&mut self, bits: u32) -> Result<u64, CodecError> {
        if bits > 56 {
            let hi = self.read(bits - 32)?;
            let lo = self.read(32)?;
            return Ok((hi << 32) | lo);
        }
        let v = self.peek(bits)?;
        self.pos += bits as usize;
        Ok(v)
    }

    /// The next `bits` bits (at most 56) without consuming them.
    #[inline]
    fn peek(&self, bits: u32) -> Result<u64, CodecError> {
        debug_assert!(bits <= 56);
        if bits == 0 {
            return Ok(0);
        }
        if bits as usize > self.remaining_bits() {
            return Err(CodecError::Truncated("bit stream"));
        }
        let byte = self.pos / 8;
        let mut window = [0u8; 8];
        match self.buf.get(byte..byte + 8) {
            Some(word) => window.copy_from_slice(word),
            None => {
                let tail = &self.buf[byte..];
                window[..tail.len()].copy_from_slice(tail);
            }
        }
        // At most 7 bits are skipped, so the window still holds the 56 bits a read may need.
        let w = u64::from_be_bytes(window) << (self.pos % 8);
        Ok(w >> (64 - bits))
    }

    /// Reads a unary number: counts zero bits up to `max` (at most 32) and consumes them, plus
    /// the one bit that ends them if it comes before `max`.
    #[inline]
    pub(crate) fn unary(&mut self, max: u32) -> Result<u32, CodecError> {
        debug_assert!(max <= 32);
        let avail = self.remaining_bits().min(max as usize + 1) as u32;
        let w = self.peek(avail)?;
        // Zeros among the `avail` bits peeked.
        let zeros = if w == 0 {
            avail
        } else {
            avail - (64 - w.leading_zeros())
        };
        if zeros >= max {
            self.pos += max as usize;
            return Ok(max);
        }
        if zeros == avail {
            return Err(CodecError::Truncated("unary number in bit stream"));
        }
        self.pos += zeros as usize + 1;
        Ok(zeros)
    }

    /// Reads one bit.
    #[inline]
    pub(crate) fn bit(&mut self) -> Result<bool, CodecError> {
        Ok(self.read(1)? == 1)
    }

    /// Succeeds only if nothing but the zero padding of the last byte is left.
    pub(crate) fn finish(&mut self) -> Result<(), CodecError> {
        let left = self.remaining_bits();
        if left >= 8 || self.read(left as u32)? != 0 {
            return Err(CodecError::Invalid("trailing data after float bit stream"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn bits_round_trip(items in prop::collection::vec((any::<u64>(), 0u32..=64), 0..64)) {
            let mut buf = Vec::new();
            let mut w = BitWriter::new(&mut buf);
            for &(v, n) in &items {
                w.write(v, n);
            }
            w.finish();
            let total: u32 = items.iter().map(|&(_, n)| n).sum();
            prop_assert_eq!(buf.len(), total.div_ceil(8) as usize);
            let mut r = BitReader::new(&buf);
            for &(v, n) in &items {
                let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
                prop_assert_eq!(r.read(n).unwrap(), v & mask);
            }
            prop_assert!(r.finish().is_ok());
        }
    }

    #[test]
    fn unary_numbers() {
        // Two zeros and a one, then twelve zeros (eight taken as the cap, four then a one).
        let buf = [0b0010_0000, 0b0000_0001];
        let mut r = BitReader::new(&buf);
        assert_eq!(r.unary(8).unwrap(), 2);
        assert_eq!(r.unary(8).unwrap(), 8);
        assert_eq!(r.unary(8).unwrap(), 4);
        assert!(r.unary(8).is_err());
        assert_eq!(BitReader::new(&[0, 0]).unary(8).unwrap(), 8);
        assert!(BitReader::new(&[0]).unary(10).is_err());
        assert!(BitReader::new(&[]).unary(1).is_err());
        let mut r = BitReader::new(&[0b0000_0100]);
        assert_eq!(r.unary(4).unwrap(), 4);
        assert_eq!(r.unary(4).unwrap(), 1);
    }

    #[test]
    fn reading_past_the_end_fails() {
        let mut r = BitReader::new(&[0xff]);
        assert_eq!(r.read(3).unwrap(), 0b111);
        assert!(matches!(r.read(6), Err(CodecError::Truncated(_))));
        assert!(r.finish().is_err(), "non-zero padding is refused");
    }
}
