//! Shard iterators: opaque to clients, shaped like DynamoDB's
//! (`<stream ARN>|1|<payload>`), carrying the stream, the shard, the next sequence
//! number to read and the creation time (iterators expire after 15 minutes). A
//! checksum catches iterators that were altered or made up.

/// A decoded shard iterator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardIterator {
    /// The stream's ARN.
    pub arn: String,
    /// The stream number.
    pub stream: u64,
    /// The shard number.
    pub shard: u32,
    /// The next sequence number to read.
    pub position: u64,
    /// When the iterator was made, ms.
    pub created_ms: u64,
}

fn check(stream: u64, shard: u32, position: u64, created_ms: u64, arn: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |b: &[u8]| {
        for x in b {
            h ^= *x as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    feed(&stream.to_be_bytes());
    feed(&shard.to_be_bytes());
    feed(&position.to_be_bytes());
    feed(&created_ms.to_be_bytes());
    feed(arn.as_bytes());
    h
}

impl ShardIterator {
    /// The token.
    pub fn encode(&self) -> String {
        let c = check(self.stream, self.shard, self.position, self.created_ms, &self.arn);
        format!(
            "{}|1|{:016x}{:08x}{:016x}{:016x}{:016x}",
            self.arn, self.stream, self.shard, self.position, self.created_ms, c
        )
    }

    /// Decodes a token; `None` when it is not one of ours or was altered.
    pub fn decode(token: &str) -> Option<ShardIterator> {
        let mut parts = token.rsplitn(3, '|');
        let payload = parts.next()?;
        if parts.next()? != "1" {
            return None;
        }
        let arn = parts.next()?;
        if payload.len() != 72 || !payload.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let num = |from: usize, len: usize| u64::from_str_radix(&payload[from..from + len], 16).ok();
        let stream = num(0, 16)?;
        let shard = u32::try_from(num(16, 8)?).ok()?;
        let position = num(24, 16)?;
        let created_ms = num(40, 16)?;
        let c = num(56, 16)?;
        if c != check(stream, shard, position, created_ms, arn) {
            return None;
        }
        Some(ShardIterator { arn: arn.to_string(), stream, shard, position, created_ms })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn it() -> ShardIterator {
        ShardIterator {
            arn: "arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/2026-11-25T00:00:00.000".into(),
            stream: 7,
            shard: 2,
            position: 123_456_789,
            created_ms: 1_764_000_000_000,
        }
    }

    #[test]
    fn round_trips() {
        let t = it().encode();
        assert!(t.len() <= 2048);
        assert_eq!(ShardIterator::decode(&t), Some(it()));
    }

    #[test]
    fn altered_or_foreign_tokens_are_refused() {
        let t = it().encode();
        for i in 0..t.len() {
            let mut b = t.clone().into_bytes();
            b[i] = if b[i] == b'0' { b'1' } else { b'0' };
            if let Ok(s) = String::from_utf8(b) {
                assert_eq!(ShardIterator::decode(&s), None, "flipped byte {i}");
            }
        }
        for bad in ["", "|", "a|1|", "a|2|00", "garbage", &t[..t.len() - 1]] {
            assert_eq!(ShardIterator::decode(bad), None, "{bad:?}");
        }
    }
}
