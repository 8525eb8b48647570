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
);

impl Operation {
    /// Resolves an `X-Amz-Target` header value.
    pub fn from_target(target: &str) -> Option<Operation> {
        let name = target.strip_prefix(DYNAMODB_PREFIX)?;
        Operation::ALL.iter().copied().find(|op| op.name() == name)
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
            assert_eq!(Operation::from_target(&format!("{DYNAMODB_PREFIX}{}", op.name())), Some(*op));
        }
    }
}
