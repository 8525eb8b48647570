//! DynamoDB numbers: exact decimals with at most 38 significant digits and a
//! magnitude between 1E-130 and 9.99…E+125 (or zero).
//!
//! A [`Number`] is kept normalized — no leading or trailing zero digits — so
//! equality is structural and the wire form is canonical, the way DynamoDB
//! returns numbers (plain notation, no exponent, no trailing zeros).

use std::cmp::Ordering;
use std::fmt;

/// Most significant digits DynamoDB stores.
pub const MAX_DIGITS: usize = 38;
/// Largest allowed adjusted exponent (position of the leading digit).
pub const MAX_EXP: i32 = 125;
/// Smallest allowed adjusted exponent.
pub const MIN_EXP: i32 = -130;

/// Why a string or a computation does not give a DynamoDB number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberError {
    /// Not a number at all.
    Invalid,
    /// More than 38 significant digits.
    Precision,
    /// Magnitude above 9.99…E+125.
    Overflow,
    /// Magnitude below 1E-130.
    Underflow,
}

impl NumberError {
    /// DynamoDB's wording for this error (the text of its ValidationException).
    pub fn message(self) -> &'static str {
        match self {
            NumberError::Invalid => "A value provided cannot be converted into a number",
            NumberError::Precision => "Attempting to store more than 38 significant digits in a Number",
            NumberError::Overflow => {
                "Number overflow. Attempting to store a number with magnitude larger than supported range"
            }
            NumberError::Underflow => {
                "Number underflow. Attempting to store a number with magnitude smaller than supported range"
            }
        }
    }
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for NumberError {}

/// An exact DynamoDB number: `(-1)^neg × digits × 10^exp`.
///
/// Invariants: `digits` holds decimal digits (0–9), most significant first, with no
/// leading and no trailing zero; it is empty exactly for zero (then `neg` is false and
/// `exp` is 0).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number {
    neg: bool,
    digits: Vec<u8>,
    exp: i32,
}

impl Number {
    /// Zero.
    pub fn zero() -> Number {
        Number { neg: false, digits: Vec::new(), exp: 0 }
    }

    /// Parses DynamoDB's textual form (`-12.5`, `1e3`, `.5`, `+7`) and checks its limits.
    pub fn parse(s: &str) -> Result<Number, NumberError> {
        let b = s.as_bytes();
        let mut i = 0;
        let mut neg = false;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            neg = b[i] == b'-';
            i += 1;
        }
        let mut mantissa: Vec<u8> = Vec::new();
        let mut frac_len: i64 = 0;
        let mut seen_digit = false;
        let mut seen_dot = false;
        while i < b.len() {
            match b[i] {
                c @ b'0'..=b'9' => {
                    seen_digit = true;
                    if !(mantissa.is_empty() && c == b'0') {
                        mantissa.push(c - b'0');
                    }
                    if seen_dot {
                        frac_len += 1;
                    }
                }
                b'.' if !seen_dot => seen_dot = true,
                b'e' | b'E' => break,
                _ => return Err(NumberError::Invalid),
            }
            i += 1;
        }
        if !seen_digit {
            return Err(NumberError::Invalid);
        }
        let mut exp10: i64 = 0;
        if i < b.len() {
            // exponent part
            i += 1;
            let mut eneg = false;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                eneg = b[i] == b'-';
                i += 1;
            }
            if i >= b.len() {
                return Err(NumberError::Invalid);
            }
            while i < b.len() {
                let c = b[i];
                if !c.is_ascii_digit() {
                    return Err(NumberError::Invalid);
                }
                exp10 = exp10.saturating_mul(10).saturating_add((c - b'0') as i64);
                i += 1;
            }
            if eneg {
                exp10 = -exp10;
            }
        }
        // Leading zeros were skipped while reading; `frac_len` counted every fractional digit.
        let mut exp = exp10.saturating_sub(frac_len);
        while mantissa.last() == Some(&0) {
            mantissa.pop();
            exp = exp.saturating_add(1);
        }
        Self::from_parts(neg, mantissa, exp)
    }

    /// Builds a number from already-trimmed digits (no leading or trailing zero),
    /// checking precision and range.
    fn from_parts(neg: bool, digits: Vec<u8>, exp: i64) -> Result<Number, NumberError> {
        if digits.is_empty() {
            return Ok(Number::zero());
        }
        let adjusted = exp + digits.len() as i64 - 1;
        if adjusted > MAX_EXP as i64 {
            return Err(NumberError::Overflow);
        }
        if adjusted < MIN_EXP as i64 {
            return Err(NumberError::Underflow);
        }
        if digits.len() > MAX_DIGITS {
            return Err(NumberError::Precision);
        }
        Ok(Number { neg, digits, exp: exp as i32 })
    }

    /// Builds a number from an integer.
    pub fn from_i64(v: i64) -> Number {
        // An i64 has at most 19 digits: always within limits.
        Number::parse(&v.to_string()).unwrap_or_else(|_| Number::zero())
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// True for a negative number.
    pub fn is_negative(&self) -> bool {
        self.neg
    }

    /// The significant digits, most significant first (empty for zero).
    pub fn digits(&self) -> &[u8] {
        &self.digits
    }

    /// Exponent of the leading digit (`1234` → 3, `0.05` → -2); 0 for zero.
    pub fn adjusted_exponent(&self) -> i32 {
        if self.digits.is_empty() {
            0
        } else {
            self.exp + self.digits.len() as i32 - 1
        }
    }

    /// Exponent of the last significant digit.
    pub fn exponent(&self) -> i32 {
        self.exp
    }

    /// Bytes DynamoDB bills for this number: one byte per pair of significant digits,
    /// pairs aligned on the decimal point (base-100 digits), plus one.
    pub fn billed_size(&self) -> usize {
        if self.digits.is_empty() {
            return 1;
        }
        let hi = self.adjusted_exponent().div_euclid(2);
        let lo = self.exp.div_euclid(2);
        (hi - lo) as usize + 1 + 1
    }

    /// The negation.
    pub fn neg(&self) -> Number {
        if self.is_zero() {
            return self.clone();
        }
        Number { neg: !self.neg, digits: self.digits.clone(), exp: self.exp }
    }

    /// Exact sum, failing where DynamoDB fails (more than 38 digits, out of range).
    pub fn add(&self, other: &Number) -> Result<Number, NumberError> {
        if self.is_zero() {
            return Ok(other.clone());
        }
        if other.is_zero() {
            return Ok(self.clone());
        }
        let lo = self.exp.min(other.exp) as i64;
        let hi = self.adjusted_exponent().max(other.adjusted_exponent()) as i64;
        // The result's lowest non-zero digit is at `lo` and its leading digit at hi or
        // hi-1 (or higher by one carry), so a span this wide can never fit.
        if hi - lo + 1 > MAX_DIGITS as i64 + 2 {
            return Err(NumberError::Precision);
        }
        // One digit extra for a carry. Both operands and the result fit in fixed
        // buffers on the stack (the check above bounds `width` by MAX_DIGITS + 3).
        let width = (hi - lo + 2) as usize;
        let a = self.aligned(lo, width);
        let b = other.aligned(lo, width);
        let (a, b) = (&a[..width], &b[..width]);
        let mut mag = [0u8; SPAN];
        let neg = if self.neg == other.neg {
            add_mag(a, b, &mut mag);
            self.neg
        } else {
            match cmp_mag(a, b) {
                Ordering::Equal => return Ok(Number::zero()),
                Ordering::Greater => {
                    sub_mag(a, b, &mut mag);
                    self.neg
                }
                Ordering::Less => {
                    sub_mag(b, a, &mut mag);
                    other.neg
                }
            }
        };
        // `mag` is little-endian digits at exponent `lo`.
        let mag = &mag[..width];
        let low = mag.iter().position(|d| *d != 0).unwrap_or(width);
        let high = mag.iter().rposition(|d| *d != 0).map_or(low, |i| i + 1);
        let digits: Vec<u8> = mag[low..high].iter().rev().copied().collect();
        let exp = lo + low as i64;
        Number::from_parts(neg, digits, exp)
    }

    /// Exact difference.
    pub fn sub(&self, other: &Number) -> Result<Number, NumberError> {
        self.add(&other.neg())
    }

    /// Little-endian digits of |self| placed at exponent `lo`, `width` digits long.
    fn aligned(&self, lo: i64, width: usize) -> [u8; SPAN] {
        debug_assert!(width <= SPAN);
        let mut out = [0u8; SPAN];
        let shift = (self.exp as i64 - lo) as usize;
        for (i, d) in self.digits.iter().rev().enumerate() {
            out[shift + i] = *d;
        }
        out
    }

    /// Compares the magnitudes and signs as DynamoDB orders numbers.
    fn cmp_num(&self, other: &Number) -> Ordering {
        let sign = |n: &Number| -> i8 {
            if n.is_zero() {
                0
            } else if n.neg {
                -1
            } else {
                1
            }
        };
        let (sa, sb) = (sign(self), sign(other));
        if sa != sb {
            return sa.cmp(&sb);
        }
        if sa == 0 {
            return Ordering::Equal;
        }
        let mag = self.adjusted_exponent().cmp(&other.adjusted_exponent()).then_with(|| self.digits.cmp(&other.digits));
        if sa < 0 {
            mag.reverse()
        } else {
            mag
        }
    }

    /// The value as f64 (approximate), for size-independent uses such as TTL.
    pub fn to_f64(&self) -> f64 {
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    /// The value as i64 if it is an integer that fits.
    pub fn to_i64(&self) -> Option<i64> {
        if self.exp < 0 {
            return None;
        }
        self.to_string().parse().ok()
    }
}

/// Digit spans of an addition: up to MAX_DIGITS + 3 digits (see [`Number::add`]).
const SPAN: usize = MAX_DIGITS + 8;

/// `a + b` into `out`, little-endian digits (the top digit of `a` and `b` is zero).
fn add_mag(a: &[u8], b: &[u8], out: &mut [u8]) {
    let mut carry = 0u8;
    for i in 0..a.len() {
        let s = a[i] + b[i] + carry;
        out[i] = s % 10;
        carry = s / 10;
    }
}

/// `a - b` into `out`, little-endian digits (`a` ≥ `b`).
fn sub_mag(a: &[u8], b: &[u8], out: &mut [u8]) {
    let mut borrow = 0i8;
    for i in 0..a.len() {
        let mut d = a[i] as i8 - b[i] as i8 - borrow;
        if d < 0 {
            d += 10;
            borrow = 1;
        } else {
            borrow = 0;
        }
        out[i] = d as u8;
    }
}

fn cmp_mag(a: &[u8], b: &[u8]) -> Ordering {
    a.iter().rev().cmp(b.iter().rev())
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_num(other)
    }
}

impl fmt::Display for Number {
    /// Plain notation, as DynamoDB returns numbers: `100`, `-0.05`, `12.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.digits.is_empty() {
            return f.write_str("0");
        }
        // Written into a buffer on the stack: every number in DynamoDB's range fits
        // (at most 38 digits and 130 zeros, a sign and a point).
        let mut buf = [0u8; 192];
        let mut len = 0;
        self.plain_bytes(&mut |bytes| {
            for b in bytes {
                if let Some(slot) = buf.get_mut(len) {
                    *slot = b;
                }
                len += 1;
            }
        });
        if let Some(Ok(text)) = buf.get(..len).map(std::str::from_utf8) {
            return f.write_str(text);
        }
        // Longer than any number DynamoDB accepts.
        let mut long = Vec::with_capacity(len);
        self.plain_bytes(&mut |bytes| long.extend(bytes));
        f.write_str(&String::from_utf8_lossy(&long))
    }
}

impl Number {
    /// Hands `put` the bytes of the plain notation, piece by piece.
    fn plain_bytes(&self, put: &mut dyn FnMut(&mut dyn Iterator<Item = u8>)) {
        let digit = |d: &u8| b'0' + d;
        if self.neg {
            put(&mut std::iter::once(b'-'));
        }
        let n = self.digits.len() as i32;
        if self.exp >= 0 {
            put(&mut self.digits.iter().map(digit));
            put(&mut std::iter::repeat_n(b'0', self.exp as usize));
        } else if -self.exp < n {
            let int_len = (n + self.exp) as usize;
            put(&mut self.digits[..int_len].iter().map(digit));
            put(&mut std::iter::once(b'.'));
            put(&mut self.digits[int_len..].iter().map(digit));
        } else {
            put(&mut b"0.".iter().copied());
            put(&mut std::iter::repeat_n(b'0', (-self.exp - n) as usize));
            put(&mut self.digits.iter().map(digit));
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "N({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn normalizes_like_dynamodb() {
        for (input, out) in [
            ("0", "0"),
            ("-0", "0"),
            ("000", "0"),
            ("0.000", "0"),
            ("1.0", "1"),
            ("01", "1"),
            ("1e2", "100"),
            ("1E+2", "100"),
            ("1.50", "1.5"),
            ("-1.50", "-1.5"),
            ("1e-5", "0.00001"),
            (".5", "0.5"),
            ("5.", "5"),
            ("+7", "7"),
            ("123.456e1", "1234.56"),
            ("0.0012300", "0.00123"),
        ] {
            assert_eq!(n(input).to_string(), out, "{input}");
        }
    }

    #[test]
    fn rejects_invalid() {
        for s in ["", "-", "abc", "1e", "1e+", "1.2.3", " 1", "1 ", "0x10", "1e5e5", "--1", "Infinity", "NaN"] {
            assert_eq!(Number::parse(s), Err(NumberError::Invalid), "{s:?}");
        }
    }

    #[test]
    fn limits() {
        assert!(Number::parse("9.9999999999999999999999999999999999999E+125").is_ok());
        assert_eq!(Number::parse("1E+126"), Err(NumberError::Overflow));
        assert!(Number::parse("1E-130").is_ok());
        assert_eq!(Number::parse("1E-131"), Err(NumberError::Underflow));
        assert!(Number::parse("12345678901234567890123456789012345678").is_ok());
        assert_eq!(Number::parse("123456789012345678901234567890123456789"), Err(NumberError::Precision));
        // Trailing zeros are not significant.
        assert!(Number::parse("1234567890123456789012345678901234567800000").is_ok());
    }

    #[test]
    fn plain_notation_at_the_limits() {
        let digits = "12345678901234567890123456789012345678";
        let small = Number::parse(&format!("-0.{digits}E-129")).unwrap();
        assert_eq!(small.to_string(), format!("-0.{}{digits}", "0".repeat(129)));
        let large = Number::parse(&format!("9.{}E+125", &digits[1..])).unwrap();
        assert_eq!(large.to_string(), format!("9{}{}", &digits[1..], "0".repeat(125 - 37)));
        assert_eq!(Number::parse("1E-130").unwrap().to_string(), format!("0.{}1", "0".repeat(129)));
        assert_eq!(Number::parse("-12.50").unwrap().to_string(), "-12.5");
        assert_eq!(Number::parse("0.00").unwrap().to_string(), "0");
    }

    #[test]
    fn arithmetic_is_exact() {
        assert_eq!(n("0.1").add(&n("0.2")).unwrap(), n("0.3"));
        assert_eq!(n("1").sub(&n("1")).unwrap(), Number::zero());
        assert_eq!(n("-5").add(&n("3")).unwrap(), n("-2"));
        assert_eq!(n("999").add(&n("1")).unwrap(), n("1000"));
        assert_eq!(n("1000").sub(&n("1")).unwrap(), n("999"));
        assert_eq!(n("1e100").sub(&n("1e100")).unwrap(), Number::zero());
        assert_eq!(n("1e100").add(&n("1")), Err(NumberError::Precision));
        assert_eq!(n("9.9999999999999999999999999999999999999E+125").add(&n("1E+125")), Err(NumberError::Overflow));
    }

    #[test]
    fn ordering() {
        let mut v: Vec<Number> =
            ["3", "-1", "0", "-10", "2.5", "1e10", "-0.001", "0.002"].iter().map(|s| n(s)).collect();
        v.sort();
        let s: Vec<String> = v.iter().map(|x| x.to_string()).collect();
        assert_eq!(s, ["-10", "-1", "-0.001", "0", "0.002", "2.5", "3", "10000000000"]);
    }

    #[test]
    fn billed_size() {
        assert_eq!(n("0").billed_size(), 1);
        assert_eq!(n("1").billed_size(), 2);
        assert_eq!(n("10").billed_size(), 2);
        assert_eq!(n("100").billed_size(), 2);
        assert_eq!(n("101").billed_size(), 3);
        assert_eq!(n("1.1").billed_size(), 3);
        assert_eq!(n("12345").billed_size(), 4);
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        /// Decimal strings in every shape DynamoDB accepts: sign, leading zeros,
        /// fraction, exponent.
        fn decimal() -> impl Strategy<Value = String> {
            (any::<bool>(), "[0-9]{1,20}", proptest::option::of("[0-9]{0,12}"), proptest::option::of(-40i32..40))
                .prop_map(|(neg, int, frac, exp)| {
                    let mut s = String::new();
                    if neg {
                        s.push('-');
                    }
                    s.push_str(&int);
                    if let Some(f) = frac {
                        s.push('.');
                        s.push_str(&f);
                    }
                    if let Some(e) = exp {
                        s.push_str(&format!("e{e}"));
                    }
                    s
                })
        }

        proptest! {
            /// The canonical form parses back to the same number and is a fixed point.
            #[test]
            fn canonical_form_round_trips(s in decimal()) {
                if let Ok(n) = Number::parse(&s) {
                    let printed = n.to_string();
                    let again = Number::parse(&printed).unwrap();
                    prop_assert_eq!(&again, &n);
                    prop_assert_eq!(again.to_string(), printed.clone());
                    prop_assert!(!printed.contains('e') && !printed.contains('E'));
                    prop_assert!(!printed.contains('.') || !printed.ends_with('0'));
                }
            }

            /// Ordering agrees with f64 wherever f64 tells the two apart.
            #[test]
            fn ordering_agrees_with_f64(a in decimal(), b in decimal()) {
                if let (Ok(x), Ok(y)) = (Number::parse(&a), Number::parse(&b)) {
                    let (fx, fy) = (a.parse::<f64>().unwrap(), b.parse::<f64>().unwrap());
                    if fx < fy { prop_assert!(x < y); }
                    if fx > fy { prop_assert!(x > y); }
                }
            }

            /// Integer arithmetic matches i128 exactly.
            #[test]
            fn integer_arithmetic_is_exact(a in -10i128.pow(30)..10i128.pow(30), b in -10i128.pow(30)..10i128.pow(30)) {
                let (x, y) = (Number::parse(&a.to_string()).unwrap(), Number::parse(&b.to_string()).unwrap());
                prop_assert_eq!(x.add(&y).unwrap().to_string(), (a + b).to_string());
                prop_assert_eq!(x.sub(&y).unwrap().to_string(), (a - b).to_string());
                prop_assert_eq!(x.cmp(&y), a.cmp(&b));
            }

            /// (a + b) - b == a whenever both steps are representable.
            #[test]
            fn add_then_subtract(a in decimal(), b in decimal()) {
                if let (Ok(x), Ok(y)) = (Number::parse(&a), Number::parse(&b)) {
                    if let Ok(sum) = x.add(&y) {
                        if let Ok(back) = sum.sub(&y) {
                            prop_assert_eq!(back, x);
                        }
                    }
                }
            }
        }
    }
}
