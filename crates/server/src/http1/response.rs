//! Response heads, written into a buffer the connection reuses: the status line,
//! `Date`, `Content-Type`, `Content-Length`, DynamoDB's request id and CRC32 of the
//! body, and `Connection` when it is not the version's default.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

use stator_types::json_write::write_u64 as decimal;

/// What the connection says about itself in a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persist {
    /// HTTP/1.1's default: nothing said.
    Default,
    /// `Connection: close` (the connection ends after this response).
    Close,
    /// `Connection: keep-alive` (an HTTP/1.0 client that asked for it).
    KeepAlive,
}

/// A response's head fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    /// Status code.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'a str,
    /// `Content-Length` (the body's, also for HEAD, whose body is not sent).
    pub content_length: usize,
    /// `x-amzn-RequestId`.
    pub request_id: &'a [u8],
    /// `x-amz-crc32` of the body.
    pub crc32: u32,
    /// `Connection`.
    pub persist: Persist,
}

/// Appends the head to `out` (numbers written digit by digit: no formatting machinery
/// on every answer).
pub fn write_head(out: &mut Vec<u8>, f: &Fields<'_>) {
    out.extend_from_slice(b"HTTP/1.1 ");
    decimal(out, u64::from(f.status));
    out.push(b' ');
    out.extend_from_slice(reason(f.status).as_bytes());
    out.extend_from_slice(b"\r\nDate: ");
    out.extend_from_slice(&http_date());
    out.extend_from_slice(b"\r\nContent-Type: ");
    out.extend_from_slice(f.content_type.as_bytes());
    out.extend_from_slice(b"\r\nContent-Length: ");
    decimal(out, f.content_length as u64);
    out.extend_from_slice(b"\r\nx-amzn-RequestId: ");
    out.extend_from_slice(f.request_id);
    out.extend_from_slice(b"\r\nx-amz-crc32: ");
    decimal(out, u64::from(f.crc32));
    out.extend_from_slice(b"\r\n");
    match f.persist {
        Persist::Default => {}
        Persist::Close => out.extend_from_slice(b"Connection: close\r\n"),
        Persist::KeepAlive => out.extend_from_slice(b"Connection: keep-alive\r\n"),
    }
    out.extend_from_slice(b"\r\n");
}

/// The interim answer to `Expect: 100-continue`.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// The reason phrase of the statuses the server sends (RFC 9110 §15).
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "",
    }
}

thread_local! {
    /// The last formatted date and its second: one formatting per thread and second.
    static DATE: Cell<(u64, [u8; 29])> = const { Cell::new((u64::MAX, [0; 29])) };
}

/// The current time as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn http_date() -> [u8; 29] {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with(|cached| {
        let (second, text) = cached.get();
        if second == now {
            return text;
        }
        let text = format_date(now);
        cached.set((now, text));
        text
    })
}

/// Seconds since the Unix epoch as an IMF-fixdate (RFC 9110 §5.6.7).
pub fn format_date(secs: u64) -> [u8; 29] {
    const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
    const MONTHS: [&[u8; 3]; 12] =
        [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];
    let days = secs / 86_400;
    let (year, month, day) = civil_from_days(days);
    let rem = secs % 86_400;
    let mut out = [0u8; 29];
    out[..3].copy_from_slice(DAYS[(days % 7) as usize]);
    out[3..5].copy_from_slice(b", ");
    two(&mut out[5..7], day);
    out[7] = b' ';
    out[8..11].copy_from_slice(MONTHS[(month - 1) as usize]);
    out[11] = b' ';
    // Four digits: years past 9999 are not representable here (nor by the format).
    let y = year.min(9999);
    two(&mut out[12..14], y / 100);
    two(&mut out[14..16], y % 100);
    out[16] = b' ';
    two(&mut out[17..19], rem / 3600);
    out[19] = b':';
    two(&mut out[20..22], rem / 60 % 60);
    out[22] = b':';
    two(&mut out[23..25], rem % 60);
    out[25..29].copy_from_slice(b" GMT");
    out
}

fn two(out: &mut [u8], n: u64) {
    out[0] = b'0' + (n / 10 % 10) as u8;
    out[1] = b'0' + (n % 10) as u8;
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (the days-to-civil
/// conversion over 400-year eras of 146,097 days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        for (secs, text) in [
            (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
            (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
            (1_798_761_599, "Thu, 31 Dec 2026 23:59:59 GMT"),
            (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"),
        ] {
            assert_eq!(String::from_utf8_lossy(&format_date(secs)), text, "{secs}");
        }
    }

    #[test]
    fn decimals() {
        for n in [0, 7, 10, 99, 100, 4_294_967_295, u64::MAX] {
            let mut out = b"x".to_vec();
            decimal(&mut out, n);
            assert_eq!(out, format!("x{n}").into_bytes());
        }
    }

    #[test]
    fn heads() {
        let mut out = Vec::new();
        let f = Fields {
            status: 413,
            content_type: "application/x-amz-json-1.0",
            content_length: 12,
            request_id: b"ABC",
            crc32: 42,
            persist: Persist::Close,
        };
        write_head(&mut out, &f);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 413 Content Too Large\r\nDate: "), "{text}");
        assert!(text.ends_with(
            " GMT\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 12\r\nx-amzn-RequestId: ABC\r\nx-amz-crc32: 42\r\nConnection: close\r\n\r\n"
        ), "{text}");
        let mut out = Vec::new();
        write_head(&mut out, &Fields { status: 200, persist: Persist::Default, ..f });
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n") && !text.contains("Connection"), "{text}");
    }
}
