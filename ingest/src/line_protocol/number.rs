//! Numeric field values and timestamps, read straight from the bytes of a line.
//!
//! Floats with at most 15 significant digits and a small exponent (nearly every float a client
//! writes, e.g. `12.3`) are computed exactly with one multiplication or division of two exactly
//! representable values (Clinger's fast path); anything else goes to the standard library's
//! correctly rounded parser, after this module has checked the text is line-protocol syntax.

/// A numeric field value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Float(f64),
    Integer(i64),
    Unsigned(u64),
}

/// Why a numeric value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumberError {
    /// Not a number at all (no digits, a stray character, a bad exponent).
    Malformed,
    /// An `i` value outside the signed 64-bit range.
    IntegerOverflow,
    /// A `u` value above `u64::MAX`.
    UnsignedOverflow,
    /// A `u` value with a minus sign.
    NegativeUnsigned,
    /// An `i` or `u` value with a decimal point or an exponent.
    FractionalInteger,
    /// A float too large for 64 bits.
    FloatOutOfRange,
}

/// Powers of ten that are exact in an f64.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Parses the number at the start of `b` (`-?digits[.digits][(e|E)[+-]digits]` with an optional
/// `i` or `u` suffix). Returns the value and how many bytes it took; the caller checks what
/// follows.
pub(crate) fn parse_number(b: &[u8]) -> Result<(Number, usize), NumberError> {
    let mut i = 0;
    let neg = b.first() == Some(&b'-');
    if neg {
        i += 1;
    }
    // Integer part, kept both as an exact integer (for `i`/`u`) and as float mantissa digits.
    let int_start = i;
    let (int_val, int_overflow, end) = digits(b, i);
    i = end;
    let int_digits = i - int_start;

    let mut mantissa = int_val;
    let mut sig_digits = int_digits;
    let mut frac_digits = 0usize;
    let mut has_dot = false;
    if b.get(i) == Some(&b'.') {
        has_dot = true;
        i += 1;
        while let Some(&c) = b.get(i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            if sig_digits < 19 {
                mantissa = mantissa * 10 + d as u64;
            }
            sig_digits += 1;
            frac_digits += 1;
            i += 1;
        }
    }
    if int_digits + frac_digits == 0 {
        return Err(NumberError::Malformed);
    }

    let mut has_exp = false;
    let mut exp: i64 = 0;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        has_exp = true;
        i += 1;
        let exp_neg = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let exp_start = i;
        while let Some(&c) = b.get(i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            // Saturate: beyond this every float is 0 or infinite anyway.
            exp = (exp * 10 + d as i64).min(1_000_000);
            i += 1;
        }
        if i == exp_start {
            return Err(NumberError::Malformed);
        }
        if exp_neg {
            exp = -exp;
        }
    }

    match b.get(i) {
        Some(b'i') => {
            if has_dot || has_exp {
                return Err(NumberError::FractionalInteger);
            }
            if int_overflow {
                return Err(NumberError::IntegerOverflow);
            }
            let v = if neg {
                if int_val > i64::MAX as u64 + 1 {
                    return Err(NumberError::IntegerOverflow);
                }
                (int_val as i64).wrapping_neg()
            } else {
                if int_val > i64::MAX as u64 {
                    return Err(NumberError::IntegerOverflow);
                }
                int_val as i64
            };
            Ok((Number::Integer(v), i + 1))
        }
        Some(b'u') => {
            if has_dot || has_exp {
                return Err(NumberError::FractionalInteger);
            }
            if neg {
                return Err(NumberError::NegativeUnsigned);
            }
            if int_overflow {
                return Err(NumberError::UnsignedOverflow);
            }
            Ok((Number::Unsigned(int_val), i + 1))
        }
        _ => {
            let exp10 = exp - frac_digits as i64;
            let v = if sig_digits <= 15 && (-22..=22).contains(&exp10) {
                // Both operands are exact, so one IEEE operation rounds correctly.
                let m = mantissa as f64;
                if exp10 >= 0 {
                    m * POW10[exp10 as usize]
                } else {
                    m / POW10[(-exp10) as usize]
                }
            } else {
                // The text was checked above; it is ASCII digits, '.', 'e', signs only.
                let text = std::str::from_utf8(&b[usize::from(neg)..i])
                    .map_err(|_| NumberError::Malformed)?;
                text.parse::<f64>().map_err(|_| NumberError::Malformed)?
            };
            if !v.is_finite() {
                return Err(NumberError::FloatOutOfRange);
            }
            Ok((Number::Float(if neg { -v } else { v }), i))
        }
    }
}

/// Reads the decimal digits from `i`: their value, whether it overflowed a u64, and the offset
/// after the last digit.
#[inline(always)]
fn digits(b: &[u8], mut i: usize) -> (u64, bool, usize) {
    let mut v: u64 = 0;
    // 18 digits stay below 10^18, so the common case needs no overflow checks.
    let fast_end = b.len().min(i + 18);
    while i < fast_end {
        let d = b[i].wrapping_sub(b'0');
        if d > 9 {
            return (v, false, i);
        }
        v = v * 10 + d as u64;
        i += 1;
    }
    let mut overflow = false;
    while let Some(&c) = b.get(i) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        match v.checked_mul(10).and_then(|x| x.checked_add(d as u64)) {
            Some(x) => v = x,
            None => overflow = true,
        }
        i += 1;
    }
    (v, overflow, i)
}

/// Parses a timestamp (`-?digits`) at the start of `b`; returns it and the bytes it took.
/// `Ok(None)` means the digits do not fit in an i64.
pub(crate) fn parse_timestamp(b: &[u8]) -> Result<(Option<i64>, usize), NumberError> {
    let mut i = 0;
    let neg = b.first() == Some(&b'-');
    if neg {
        i += 1;
    }
    let start = i;
    let (v, overflow, end) = digits(b, i);
    i = end;
    if i == start {
        return Err(NumberError::Malformed);
    }
    let limit = if neg {
        i64::MAX as u64 + 1
    } else {
        i64::MAX as u64
    };
    if overflow || v > limit {
        return Ok((None, i));
    }
    let ts = if neg {
        (v as i64).wrapping_neg()
    } else {
        v as i64
    };
    Ok((Some(ts), i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Result<(Number, usize), NumberError> {
        parse_number(s.as_bytes())
    }

    #[test]
    fn floats_in_every_documented_form() {
        for (s, v) in [
            ("1", 1.0),
            ("-1", -1.0),
            ("12.3", 12.3),
            ("1e3", 1e3),
            ("1E3", 1e3),
            ("-1.5E-3", -1.5e-3),
            ("1.5e+3", 1.5e3),
            (".5", 0.5),
            ("5.", 5.0),
            ("0.000001", 0.000001),
            ("123456789012345678901234567890", 1.2345678901234568e29),
            ("1.7976931348623157e308", f64::MAX),
            ("4.9e-324", 4.9e-324),
            ("1e-400", 0.0),
            ("0.1", 0.1),
            ("3.141592653589793", std::f64::consts::PI),
        ] {
            assert_eq!(num(s), Ok((Number::Float(v), s.len())), "{s}");
        }
        let (n, _) = num("-0.0").unwrap();
        match n {
            Number::Float(f) => assert!(f == 0.0 && f.is_sign_negative()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fast_path_agrees_with_std_parser() {
        for s in [
            "12.3",
            "0.3",
            "987654.321",
            "1.1e22",
            "123456789012345e-22",
            "2.5e-3",
        ] {
            let (n, _) = num(s).unwrap();
            assert_eq!(n, Number::Float(s.parse().unwrap()), "{s}");
        }
    }

    #[test]
    fn integers_and_unsigned_with_range_checks() {
        assert_eq!(num("12i"), Ok((Number::Integer(12), 3)));
        assert_eq!(num("-12i"), Ok((Number::Integer(-12), 4)));
        assert_eq!(
            num("9223372036854775807i"),
            Ok((Number::Integer(i64::MAX), 20))
        );
        assert_eq!(
            num("-9223372036854775808i"),
            Ok((Number::Integer(i64::MIN), 21))
        );
        assert_eq!(
            num("9223372036854775808i"),
            Err(NumberError::IntegerOverflow)
        );
        assert_eq!(
            num("-9223372036854775809i"),
            Err(NumberError::IntegerOverflow)
        );
        assert_eq!(
            num("99999999999999999999999i"),
            Err(NumberError::IntegerOverflow)
        );
        assert_eq!(
            num("18446744073709551615u"),
            Ok((Number::Unsigned(u64::MAX), 21))
        );
        assert_eq!(
            num("18446744073709551616u"),
            Err(NumberError::UnsignedOverflow)
        );
        assert_eq!(num("-1u"), Err(NumberError::NegativeUnsigned));
        assert_eq!(num("1.5i"), Err(NumberError::FractionalInteger));
        assert_eq!(num("1e3u"), Err(NumberError::FractionalInteger));
    }

    #[test]
    fn malformed_numbers() {
        for s in ["-", ".", "-.", "e3", "1e", "1e+", "+1"] {
            assert_eq!(num(s), Err(NumberError::Malformed), "{s}");
        }
        assert_eq!(num("1e999"), Err(NumberError::FloatOutOfRange));
        // The number ends where the syntax ends; the caller refuses the rest.
        assert_eq!(num("12x"), Ok((Number::Float(12.0), 2)));
    }

    #[test]
    fn timestamps() {
        assert_eq!(
            parse_timestamp(b"1700000000000000000"),
            Ok((Some(1_700_000_000_000_000_000), 19))
        );
        assert_eq!(parse_timestamp(b"-5"), Ok((Some(-5), 2)));
        assert_eq!(
            parse_timestamp(b"-9223372036854775808"),
            Ok((Some(i64::MIN), 20))
        );
        assert_eq!(parse_timestamp(b"9223372036854775808"), Ok((None, 19)));
        assert_eq!(parse_timestamp(b"x"), Err(NumberError::Malformed));
        assert_eq!(parse_timestamp(b"-"), Err(NumberError::Malformed));
    }
}
