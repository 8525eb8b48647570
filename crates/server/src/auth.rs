//! What the server takes from a request's SigV4 `Authorization` header: that there
//! is one, and the region of its credential scope. Signatures are not verified yet.

use stator_protocol::DynamoError;

/// The parts of a SigV4 credential scope: access key and region.
#[derive(Debug, PartialEq, Eq)]
pub struct Scope {
    /// The access key id.
    pub access_key: String,
    /// The region.
    pub region: String,
}

/// Reads the `Authorization` header.
/// `AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=..., Signature=...`
pub fn scope(header: Option<&str>) -> Result<Scope, DynamoError> {
    let Some(h) = header else {
        return Err(DynamoError::MissingAuthenticationToken("Request is missing Authentication Token".into()));
    };
    let Some(rest) = h.strip_prefix("AWS4-HMAC-SHA256") else {
        return Err(DynamoError::IncompleteSignature(format!(
            "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization={h}"
        )));
    };
    let mut credential = None;
    for part in rest.split(',') {
        if let Some(v) = part.trim().strip_prefix("Credential=") {
            credential = Some(v);
        }
    }
    let Some(credential) = credential else {
        return Err(DynamoError::IncompleteSignature(format!(
            "Authorization header requires 'Credential' parameter. Authorization={h}"
        )));
    };
    let parts: Vec<&str> = credential.split('/').collect();
    match parts.as_slice() {
        [key, _date, region, _service, "aws4_request"] if !key.is_empty() && !region.is_empty() => {
            Ok(Scope { access_key: key.to_string(), region: region.to_string() })
        }
        _ => Err(DynamoError::IncompleteSignature(format!(
            "Credential should be scoped to a valid region. Authorization={h}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_region() {
        let h = "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/dynamodb/aws4_request, SignedHeaders=host, Signature=abc";
        assert_eq!(scope(Some(h)).unwrap(), Scope { access_key: "AKID".into(), region: "eu-west-1".into() });
        assert!(matches!(scope(None), Err(DynamoError::MissingAuthenticationToken(_))));
        assert!(matches!(scope(Some("Basic x")), Err(DynamoError::IncompleteSignature(_))));
        assert!(matches!(
            scope(Some("AWS4-HMAC-SHA256 Credential=AKID/2024, Signature=x")),
            Err(DynamoError::IncompleteSignature(_))
        ));
    }
}
