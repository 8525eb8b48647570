//! Number parsing never panics; a parsed number prints in a form that parses back to
//! itself, and its arithmetic with itself is exact.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stator_types::Number;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(n) = Number::parse(s) {
        let printed = n.to_string();
        assert_eq!(Number::parse(&printed).as_ref(), Ok(&n), "{s:?} printed as {printed:?}");
        if let Ok(sum) = n.add(&n) {
            assert_eq!(sum.sub(&n).as_ref(), Ok(&n));
        }
        assert!(n.sub(&n).map(|z| z.is_zero()).unwrap_or(false));
    }
});
