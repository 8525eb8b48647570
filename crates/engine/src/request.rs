//! Request members shared by many operations: the table name (or ARN), the
//! ReturnConsumedCapacity switch, and ExpressionAttributeNames / Values.

use stator_protocol::{Constraints, DynamoError, Obj};
use stator_types::AttributeValue;

use crate::capacity::ReturnCapacity;
use crate::RequestContext;

/// A table named in a request: a plain name, or an ARN that carries its own scope.
#[derive(Debug, Clone)]
pub struct TableRef {
    /// The table name.
    pub name: String,
    /// Account and region from an ARN.
    pub scope: Option<(String, String)>,
}

impl TableRef {
    /// The (account, region) the table lives in.
    pub fn scope<'a>(&'a self, ctx: &'a RequestContext) -> (&'a str, &'a str) {
        match &self.scope {
            Some((a, r)) => (a, r),
            None => (&ctx.account, &ctx.region),
        }
    }
}

/// Reads and validates `TableName` (path `tableName`), accepting a table ARN.
pub fn table_name(req: Obj, member: &str, path: &str, c: &mut Constraints) -> Result<Option<TableRef>, DynamoError> {
    let v = req.str(member)?;
    c.require(&v, path);
    let Some(s) = v else { return Ok(None) };
    parse_table_ref(s, path, c)
}

/// A table name or ARN used as a map key (BatchWriteItem, BatchGetItem).
pub fn table_ref(s: &str) -> Result<TableRef, DynamoError> {
    let mut c = Constraints::new();
    let t = parse_table_ref(s, "requestItems.key", &mut c)?;
    c.finish()?;
    t.ok_or_else(|| DynamoError::validation(format!("Invalid TableName: {s}")))
}

fn parse_table_ref(s: &str, path: &str, c: &mut Constraints) -> Result<Option<TableRef>, DynamoError> {
    if let Some(rest) = s.strip_prefix("arn:") {
        c.length(Some(s), path, 1, 1024);
        // arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        if let [_partition, "dynamodb", region, account, resource] = parts.as_slice() {
            if let Some(name) = resource.strip_prefix("table/") {
                if !name.is_empty() && !name.contains('/') {
                    c.table_name(Some(name), path);
                    return Ok(Some(TableRef {
                        name: name.to_string(),
                        scope: Some((account.to_string(), region.to_string())),
                    }));
                }
            }
        }
        return Err(DynamoError::validation(format!("Invalid TableName: {s}")));
    }
    c.table_name(Some(s), path);
    Ok(Some(TableRef { name: s.to_string(), scope: None }))
}

/// Reads `ReturnConsumedCapacity`.
pub fn return_consumed_capacity(req: Obj, c: &mut Constraints) -> Result<ReturnCapacity, DynamoError> {
    let v = req.str("ReturnConsumedCapacity")?;
    c.one_of(v, "returnConsumedCapacity", &["INDEXES", "TOTAL", "NONE"]);
    Ok(match v {
        Some("TOTAL") => ReturnCapacity::Total,
        Some("INDEXES") => ReturnCapacity::Indexes,
        _ => ReturnCapacity::None,
    })
}

/// Reads `ReturnItemCollectionMetrics`: true for SIZE.
pub fn return_item_collection_metrics(req: Obj, c: &mut Constraints) -> Result<bool, DynamoError> {
    let v = req.str("ReturnItemCollectionMetrics")?;
    c.one_of(v, "returnItemCollectionMetrics", &["SIZE", "NONE"]);
    Ok(v == Some("SIZE"))
}

/// ExpressionAttributeNames and ExpressionAttributeValues of a request.
#[derive(Debug, Default)]
pub struct ExprParams<'a> {
    /// `#name` → attribute name, borrowed from the request.
    pub names: Option<Vec<(&'a str, &'a str)>>,
    /// `:value` → value.
    pub values: Option<Vec<(&'a str, AttributeValue)>>,
}

/// Reads ExpressionAttributeNames / Values (their keys are checked by the expression
/// resolver). `uses_expressions`
/// says whether the request carries any expression; without one, neither may be given.
pub fn expr_params<'a>(req: Obj<'a>, uses_expressions: bool) -> Result<ExprParams<'a>, DynamoError> {
    let names = req.str_map("ExpressionAttributeNames")?;
    let raw_values = req.obj("ExpressionAttributeValues")?;
    if !uses_expressions {
        if names.is_some() {
            return Err(DynamoError::validation(
                "ExpressionAttributeNames can only be specified when using expressions",
            ));
        }
        if raw_values.is_some() {
            return Err(DynamoError::validation(
                "ExpressionAttributeValues can only be specified when using expressions",
            ));
        }
    }
    let values = match raw_values {
        None => None,
        Some(o) => {
            let mut out = Vec::with_capacity(o.len());
            for (k, v) in o.iter() {
                let av = AttributeValue::from_json(v).map_err(|e| match e {
                    stator_types::DecodeError::Validation(m) => DynamoError::validation(format!(
                        "ExpressionAttributeValues contains invalid value: {m} for key {k}"
                    )),
                    stator_types::DecodeError::Serialization(m) => DynamoError::Serialization(m),
                })?;
                out.push((k, av));
            }
            Some(out)
        }
    };
    Ok(ExprParams { names, values })
}

impl ExprParams<'_> {
    /// A resolver over these names and values, with the maps' own checks done.
    pub fn resolver(&self) -> Result<stator_expr::Resolver<'_>, DynamoError> {
        let r = stator_expr::Resolver::from_pairs(
            self.names.as_ref().map(|n| n.iter().copied()),
            self.values.as_ref().map(|v| v.iter().map(|(k, v)| (*k, v))),
        );
        r.validate().map_err(expr_err)?;
        Ok(r)
    }
}

/// An expression error is a ValidationException with the expression crate's message.
pub fn expr_err(e: stator_expr::ExprError) -> DynamoError {
    DynamoError::Validation(e.0)
}
