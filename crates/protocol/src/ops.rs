//! The operation registry: every operation Stator answers, by its `X-Amz-Target` name.

/// The API a target belongs to.
pub const DYNAMODB_PREFIX: &str = "DynamoDB_20120810.";
/// DynamoDB Streams' target prefix.
pub const STREAMS_PREFIX: &str = "DynamoDBStreams_20120810.";

macro_rules! operations {
    ($($op:ident),* $(,)?) => {
        /// A DynamoDB operation Stator implements.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation { $(
            #[allow(missing_docs)]
            $op,
        )* }

        impl Operation {
            /// Every operation.
            pub const ALL: &'static [Operation] = &[$(Operation::$op),*];

            /// The operation's name as it appears after the target prefix.
            pub fn name(self) -> &'static str {
                match self { $(Operation::$op => stringify!($op),)* }
            }
        }
    };
}

operations!(
    CreateTable,
    DescribeTable,
    ListTables,
    DeleteTable,
    UpdateTable,
    DescribeEndpoints,
    DescribeLimits,
    PutItem,
    GetItem,
    DeleteItem,
    UpdateItem,
    BatchWriteItem,
    BatchGetItem,
    Query,
    Scan,
    TransactWriteItems,
    TransactGetItems,
    UpdateTimeToLive,
    DescribeTimeToLive,
    ListStreams,
    DescribeStream,
    GetShardIterator,
    GetRecords,
    ExecuteStatement,
    BatchExecuteStatement,
    ExecuteTransaction,
);

impl Operation {
    /// Resolves an `X-Amz-Target` header value.
    pub fn from_target(target: &str) -> Option<Operation> {
        let (name, streams) = match target.strip_prefix(DYNAMODB_PREFIX) {
            Some(n) => (n, false),
            None => (target.strip_prefix(STREAMS_PREFIX)?, true),
        };
        Operation::ALL.iter().copied().find(|op| op.name() == name && op.is_streams() == streams)
    }

    /// Whether the operation belongs to the DynamoDB Streams API.
    pub fn is_streams(self) -> bool {
        matches!(
            self,
            Operation::ListStreams | Operation::DescribeStream | Operation::GetShardIterator | Operation::GetRecords
        )
    }

    /// Whether the operation writes items (for capacity and durability accounting).
    pub fn is_item_write(self) -> bool {
        matches!(
            self,
            Operation::PutItem
                | Operation::DeleteItem
                | Operation::UpdateItem
                | Operation::BatchWriteItem
                | Operation::TransactWriteItems
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_targets() {
        assert_eq!(Operation::from_target("DynamoDB_20120810.PutItem"), Some(Operation::PutItem));
        assert_eq!(Operation::from_target("DynamoDB_20120810.Nope"), None);
        assert_eq!(Operation::from_target("PutItem"), None);
        for op in Operation::ALL {
            let (own, other) =
                if op.is_streams() { (STREAMS_PREFIX, DYNAMODB_PREFIX) } else { (DYNAMODB_PREFIX, STREAMS_PREFIX) };
            assert_eq!(Operation::from_target(&format!("{own}{}", op.name())), Some(*op));
            assert_eq!(Operation::from_target(&format!("{other}{}", op.name())), None);
        }
    }
}
