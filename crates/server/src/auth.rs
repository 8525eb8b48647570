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

/// Reads the `Authorization` header.
/// `AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=..., Signature=...`
pub fn scope(header: Option<&str>) -> Result<Scope<'_>, DynamoError> {
    let Some(h) = header else {
        return Err(DynamoError::MissingAuthenticationToken("Request is missing Authentication Token".into()));
    };
    let Some(rest) = h.strip_prefix("AWS4-HMAC-SHA256") else {
        return Err(DynamoError::IncompleteSignature(format!(
            "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization={h}"
        )));
    };
    // The first `Credential=` component (SDKs put it first: the search stops there,
    // before the signed-header list and the signature). Scanned as bytes: this runs
    // for every request.
    let credential = rest.split(',').find_map(|part| part.trim().strip_prefix("Credential="));
    let Some(credential) = credential else {
        return Err(DynamoError::IncompleteSignature(format!(
            "Authorization header requires 'Credential' parameter. Authorization={h}"
        )));
    };
    // Exactly five parts: key/date/region/service/aws4_request.
    let mut slashes = [0usize; 4];
    let mut found = 0;
    for (i, &b) in credential.as_bytes().iter().enumerate() {
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
        if &credential[slashes[3] + 1..] == "aws4_request" && !key.is_empty() && !region.is_empty() {
            return Ok(Scope { access_key: key, region });
        }
    }
    Err(DynamoError::IncompleteSignature(format!("Credential should be scoped to a valid region. Authorization={h}")))
}

/// A header value as text when it is all visible ASCII (or tabs), as
/// `HeaderValue::to_str` accepts it; checked sixteen bytes at a time, since the
/// `Authorization` header (some 200 bytes) is read on every request.
pub fn header_text(value: &[u8]) -> Option<&str> {
    // Outside 0x20..=0x7e and not a tab.
    let invalid = |b: u8| u8::from(b.wrapping_sub(0x20) > 0x5e) & u8::from(b != b'\t');
    let (chunks, rest) = value.as_chunks::<16>();
    for chunk in chunks {
        // Branch-free over a fixed-size chunk: compiles to vector compares.
        if chunk.iter().fold(0, |bad, &b| bad | invalid(b)) != 0 {
            return None;
        }
    }
    if rest.iter().any(|&b| invalid(b) != 0) {
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
        assert_eq!(scope(Some(h)).unwrap(), Scope { access_key: "AKID", region: "eu-west-1" });
        assert!(matches!(scope(None), Err(DynamoError::MissingAuthenticationToken(_))));
        assert!(matches!(scope(Some("Basic x")), Err(DynamoError::IncompleteSignature(_))));
        assert!(matches!(
            scope(Some("AWS4-HMAC-SHA256 Credential=AKID/2024, Signature=x")),
            Err(DynamoError::IncompleteSignature(_))
        ));
        // Credential anywhere among the components, with any spacing.
        for h in [
            "AWS4-HMAC-SHA256 SignedHeaders=host, Credential=AKID/20240101/eu-west-1/dynamodb/aws4_request ,Signature=abc",
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/dynamodb/aws4_request",
            "AWS4-HMAC-SHA256   Credential=AKID/20240101/eu-west-1/dynamodb/aws4_request,SignedHeaders=host",
            "AWS4-HMAC-SHA256 ,, Credential=AKID/20240101/eu-west-1/dynamodb/aws4_request,",
        ] {
            assert_eq!(scope(Some(h)).unwrap(), Scope { access_key: "AKID", region: "eu-west-1" }, "{h}");
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
            assert!(matches!(scope(Some(&h)), Err(DynamoError::IncompleteSignature(_))), "{bad}");
        }
    }
}
