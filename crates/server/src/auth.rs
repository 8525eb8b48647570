//! What the server takes from a request's SigV4 `Authorization` header: that there
//! is one, and the region of its credential scope. Signatures are not verified yet.

use stator_protocol::DynamoError;

/// The parts of a SigV4 credential scope: access key and region (borrowed from the
/// header: nothing is allocated per request).
#[derive(Debug, PartialEq, Eq)]
pub struct Scope<'a> {
    /// The access key id.
    pub access_key: &'a str,
    /// The region.
    pub region: &'a str,
}

/// Reads the `Authorization` header (its bytes: a value that is not all visible ASCII
/// counts as no header, as an unreadable value would).
/// `AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=..., Signature=...`
pub fn scope(header: Option<&[u8]>) -> Result<Scope<'_>, DynamoError> {
    let Some(h) = header.filter(|h| is_text(h)) else {
        return Err(DynamoError::MissingAuthenticationToken("Request is missing Authentication Token".into()));
    };
    // Visible ASCII: the text of error messages, never lossy.
    let text = || String::from_utf8_lossy(h);
    let Some(rest) = h.strip_prefix(b"AWS4-HMAC-SHA256") else {
        return Err(DynamoError::IncompleteSignature(format!(
            "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization={}",
            text()
        )));
    };
    // The first `Credential=` component (SDKs put it first: the search stops there,
    // before the signed-header list and the signature).
    let credential = rest.split(|&b| b == b',').find_map(|part| part.trim_ascii().strip_prefix(b"Credential="));
    let Some(credential) = credential else {
        return Err(DynamoError::IncompleteSignature(format!(
            "Authorization header requires 'Credential' parameter. Authorization={}",
            text()
        )));
    };
    // Exactly five parts: key/date/region/service/aws4_request.
    let mut slashes = [0usize; 4];
    let mut found = 0;
    for (i, &b) in credential.iter().enumerate() {
        if b == b'/' {
            if found == slashes.len() {
                found += 1;
                break;
            }
            slashes[found] = i;
            found += 1;
        }
    }
    if found == slashes.len() {
        let (key, region) = (&credential[..slashes[0]], &credential[slashes[1] + 1..slashes[2]]);
        if &credential[slashes[3] + 1..] == b"aws4_request" && !key.is_empty() && !region.is_empty() {
            if let (Ok(access_key), Ok(region)) = (std::str::from_utf8(key), std::str::from_utf8(region)) {
                return Ok(Scope { access_key, region });
            }
        }
    }
    Err(DynamoError::IncompleteSignature(format!(
        "Credential should be scoped to a valid region. Authorization={}",
        text()
    )))
}

/// Whether a header value is all visible ASCII (or tabs), as `HeaderValue::to_str`
/// accepts it; checked sixteen bytes at a time, since the `Authorization` header (some
/// 200 bytes) is read on every request.
pub fn is_text(value: &[u8]) -> bool {
    // Outside 0x20..=0x7e and not a tab.
    let invalid = |b: u8| u8::from(b.wrapping_sub(0x20) > 0x5e) & u8::from(b != b'\t');
    let (chunks, rest) = value.as_chunks::<16>();
    for chunk in chunks {
        // Branch-free over a fixed-size chunk: compiles to vector compares.
        if chunk.iter().fold(0, |bad, &b| bad | invalid(b)) != 0 {
            return false;
        }
    }
    !rest.iter().any(|&b| invalid(b) != 0)
}

/// A header value as text when it is all visible ASCII (or tabs) ([`is_text`]).
pub fn header_text(value: &[u8]) -> Option<&str> {
    if !is_text(value) {
        return None;
    }
    std::str::from_utf8(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_text_is_visible_ascii_and_tabs() {
        for len in [0, 1, 15, 16, 17, 40, 200] {
            for at in 0..len {
                for b in [0u8, b'\t', b' ', b'~', 0x7f, 0x80, 0xff, b'\n', 0x1f] {
                    let mut v = vec![b'a'; len];
                    v[at] = b;
                    let text = b == b'\t' || (0x20..=0x7e).contains(&b);
                    let expected = text.then(|| String::from_utf8(v.clone()).unwrap());
                    assert_eq!(header_text(&v).map(str::to_string), expected, "{v:?}");
                }
            }
        }
    }

    #[test]
    fn reads_the_region() {
        let h = "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/dynamodb/aws4_request, SignedHeaders=host, Signature=abc";
        assert_eq!(scope(Some(h.as_bytes())).unwrap(), Scope { access_key: "AKID", region: "eu-west-1" });
        assert!(matches!(scope(None), Err(DynamoError::MissingAuthenticationToken(_))));
        // Not visible ASCII: as if absent.
        let unreadable = b"AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/dynamodb/aws4_request\x01";
        assert!(matches!(scope(Some(unreadable)), Err(DynamoError::MissingAuthenticationToken(_))));
        assert!(matches!(scope(Some(b"Basic x")), Err(DynamoError::IncompleteSignature(_))));
        assert!(matches!(
            scope(Some(b"AWS4-HMAC-SHA256 Credential=AKID/2024, Signature=x")),
            Err(DynamoError::IncompleteSignature(_))
        ));
        // Credential anywhere among the components, with any spacing.
        for h in [
            "AWS4-HMAC-SHA256 SignedHeaders=host, Credential=AKID/20240101/eu-west-1/dynamodb/aws4_request ,Signature=abc",
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/dynamodb/aws4_request",
            "AWS4-HMAC-SHA256   Credential=AKID/20240101/eu-west-1/dynamodb/aws4_request,SignedHeaders=host",
            "AWS4-HMAC-SHA256 ,, Credential=AKID/20240101/eu-west-1/dynamodb/aws4_request,",
        ] {
            assert_eq!(scope(Some(h.as_bytes())).unwrap(), Scope { access_key: "AKID", region: "eu-west-1" }, "{h}");
        }
        for bad in [
            "AKID/20240101/eu-west-1/dynamodb/aws4_request/extra",
            "/20240101/eu-west-1/dynamodb/aws4_request",
            "AKID/20240101//dynamodb/aws4_request",
            "AKID/20240101/eu-west-1/dynamodb/aws5_request",
            "AKID/20240101/eu-west-1/aws4_request",
            "AKID/20240101/eu-west-1/dynamodb/",
            "AKID",
            "",
        ] {
            let h = format!("AWS4-HMAC-SHA256 Credential={bad}, SignedHeaders=host, Signature=abc");
            assert!(matches!(scope(Some(h.as_bytes())), Err(DynamoError::IncompleteSignature(_))), "{bad}");
        }
    }
}
