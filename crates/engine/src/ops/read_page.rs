//! What Query and Scan share: reading one page of items from a snapshot — lazily, so
//! memory stays bounded whatever the table size — with ExclusiveStartKey, Limit (items
//! read, before the filter), DynamoDB's 1 MB page limit, FilterExpression, projection
//! and Select; and the page's response.

use std::ops::Bound;

use stator_expr::{Condition, Path};
use stator_protocol::{Constraints, DynamoError, Obj};
use stator_storage::{Direction, KeyRange, ReadView};
use stator_types::itemcodec::decode_item;
use stator_types::stored;
use stator_types::Item;

use crate::capacity::{consumed, read_units, ReturnCapacity};
use crate::catalog::{IndexKind, IndexMeta, ProjectionType, TableMeta};
use crate::keys;
use crate::reply::{JsonObject, Reply};

/// DynamoDB stops a Query or Scan page after reading this many bytes.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// Select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    AllAttributes,
    AllProjected,
    Specific,
    Count,
}

/// Which attributes a page returns.
pub enum Shape {
    /// Whole items.
    All,
    /// ProjectionExpression paths.
    Paths(Vec<Path>),
    /// AttributesToGet names.
    Names(Vec<String>),
    /// Only counts.
    Count,
}

impl Shape {
    fn apply(&self, item: Item) -> Item {
        match self {
            Shape::All | Shape::Count => item,
            Shape::Paths(p) => stator_expr::project(&item, p),
            Shape::Names(n) => n.iter().filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone()))).collect(),
        }
    }
}

/// Reads `Select` with its Coral constraint.
pub fn select(req: Obj, c: &mut Constraints) -> Result<Option<Select>, DynamoError> {
    let v = req.str("Select")?;
    c.one_of(v, "select", &["SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"]);
    Ok(v.map(|s| match s {
        "COUNT" => Select::Count,
        "SPECIFIC_ATTRIBUTES" => Select::Specific,
        "ALL_PROJECTED_ATTRIBUTES" => Select::AllProjected,
        _ => Select::AllAttributes,
    }))
}

/// Combines Select with ProjectionExpression / AttributesToGet by DynamoDB's rules.
pub fn shape(
    select: Option<Select>,
    projection: Option<Vec<Path>>,
    to_get: Option<Vec<String>>,
    index: Option<&str>,
) -> Result<Shape, DynamoError> {
    let named = if projection.is_some() { "ProjectionExpression" } else { "AttributesToGet" };
    let has_projection = projection.is_some() || to_get.is_some();
    match select {
        Some(Select::AllAttributes) if has_projection => {
            Err(DynamoError::validation(format!("Cannot specify the {named} when choosing to get ALL_ATTRIBUTES")))
        }
        Some(Select::Count) if has_projection => {
            Err(DynamoError::validation(format!("Cannot specify the {named} when choosing to get COUNT")))
        }
        Some(Select::AllProjected) if index.is_none() => {
            Err(DynamoError::validation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"))
        }
        Some(Select::AllProjected) if has_projection => Err(DynamoError::validation(format!(
            "Cannot specify the {named} when choosing to get ALL_PROJECTED_ATTRIBUTES"
        ))),
        Some(Select::Specific) if !has_projection => Err(DynamoError::validation(
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES",
        )),
        Some(Select::Count) => Ok(Shape::Count),
        _ => Ok(match (projection, to_get) {
            (Some(p), _) => Shape::Paths(p),
            (None, Some(n)) => Shape::Names(n),
            (None, None) => Shape::All,
        }),
    }
}

/// The members Query and Scan share.
pub struct ReadCommon<'a> {
    pub table: Option<crate::request::TableRef>,
    pub index: Option<&'a str>,
    pub limit: Option<usize>,
    pub select: Option<Select>,
    pub capacity: ReturnCapacity,
    pub consistent: bool,
}

/// Reads the shared members with their Coral constraints.
pub fn read_common<'a>(req: Obj<'a>, c: &mut Constraints) -> Result<ReadCommon<'a>, DynamoError> {
    let table = crate::request::table_name(req, "TableName", "tableName", c)?;
    let index = req.str("IndexName")?;
    c.length(index, "indexName", 3, 255);
    let limit = limit(req, c)?;
    let select = select(req, c)?;
    let capacity = crate::request::return_consumed_capacity(req, c)?;
    let consistent = req.bool("ConsistentRead")?.unwrap_or(false);
    let op = req.str("ConditionalOperator")?;
    c.one_of(op, "conditionalOperator", &["AND", "OR"]);
    Ok(ReadCommon { table, index, limit, select, capacity, consistent })
}

/// Reads `Limit` (at least 1).
pub fn limit(req: Obj, c: &mut Constraints) -> Result<Option<usize>, DynamoError> {
    let l = req.i64("Limit")?;
    c.at_least(l, "limit", 1);
    Ok(l.map(|v| v.max(1) as usize))
}

/// Checks an ExclusiveStartKey against the key schema and returns its storage key:
/// the item key for the table, the entry key for an index (whose ExclusiveStartKey
/// carries the table's and the index's key attributes).
pub fn start_key(
    meta: &TableMeta,
    index: Option<&IndexMeta>,
    esk: Option<Item>,
) -> Result<Option<Vec<u8>>, DynamoError> {
    let Some(k) = esk else { return Ok(None) };
    let invalid = |m: String| DynamoError::validation(format!("The provided starting key is invalid: {m}"));
    let wrap = |e: DynamoError| match e {
        DynamoError::Validation(m) => invalid(m),
        other => other,
    };
    match index {
        None => keys::key_of_key(meta, &k).map(Some).map_err(wrap),
        Some(idx) => {
            let mismatch = || invalid("The provided key element does not match the schema".into());
            let table_key: Item =
                meta.key_attrs().filter_map(|a| k.get(&a.name).map(|v| (a.name.clone(), v.clone()))).collect();
            let item_key = keys::key_of_key(meta, &table_key).map_err(wrap)?;
            let expected = key_names(meta, Some(idx));
            if k.len() != expected.len() || expected.iter().any(|n| !k.contains_key(n)) {
                return Err(mismatch());
            }
            crate::indexes::entry(meta, idx, &item_key, &k).map(|(key, _)| Some(key)).ok_or_else(mismatch)
        }
    }
}

/// Whether a read must fetch whole items from the table: Select=ALL_ATTRIBUTES on a
/// local index whose projection is not ALL.
pub fn fetch_from_table(index: Option<&IndexMeta>, select: Option<Select>) -> bool {
    index.is_some_and(|i| {
        i.kind == IndexKind::Local && i.projection != ProjectionType::All && select == Some(Select::AllAttributes)
    })
}

/// The attributes of a LastEvaluatedKey: the table's key, plus the index's key.
pub fn key_names(meta: &TableMeta, index: Option<&IndexMeta>) -> Vec<String> {
    let mut v: Vec<String> = meta.key_attrs().map(|a| a.name.clone()).collect();
    if let Some(idx) = index {
        for a in idx.key_attrs() {
            if !v.contains(&a.name) {
                v.push(a.name.clone());
            }
        }
    }
    v
}

/// Where a Query or Scan reads: the table, or one of its indexes — with DynamoDB's
/// checks on what each allows.
pub fn resolve_index<'m>(
    meta: &'m TableMeta,
    index: Option<&str>,
    consistent: bool,
    select: Option<Select>,
) -> Result<Option<&'m IndexMeta>, DynamoError> {
    let Some(name) = index else { return Ok(None) };
    let idx = meta
        .index(name)
        .ok_or_else(|| DynamoError::validation(format!("The table does not have the specified index: {name}")))?;
    if idx.kind == IndexKind::Global {
        if consistent {
            return Err(DynamoError::validation("Consistent reads are not supported on global secondary indexes"));
        }
        if idx.backfilling || idx.status != "ACTIVE" {
            return Err(DynamoError::validation(format!(
                "Cannot read from backfilling global secondary index: {name}"
            )));
        }
        if select == Some(Select::AllAttributes) && idx.projection != ProjectionType::All {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {name} because its projection type is not ALL"
            )));
        }
    }
    Ok(Some(idx))
}

/// The top-level attribute names a condition reads.
pub fn condition_attributes(c: &Condition, out: &mut Vec<String>) {
    use stator_expr::Operand;
    let op = |o: &Operand, out: &mut Vec<String>| match o {
        Operand::Path(p) | Operand::Size(p) => {
            if let Some(t) = p.top() {
                out.push(t.to_string());
            }
        }
        Operand::Value(_) => {}
    };
    match c {
        Condition::Compare(_, a, b) | Condition::BeginsWith(a, b) | Condition::Contains(a, b) => {
            op(a, out);
            op(b, out);
        }
        Condition::Between(a, b, d) => {
            op(a, out);
            op(b, out);
            op(d, out);
        }
        Condition::In(a, l) => {
            op(a, out);
            for x in l {
                op(x, out);
            }
        }
        Condition::AttributeExists(p) | Condition::AttributeNotExists(p) => {
            if let Some(t) = p.top() {
                out.push(t.to_string());
            }
        }
        Condition::AttributeType(p, o) => {
            if let Some(t) = p.top() {
                out.push(t.to_string());
            }
            op(o, out);
        }
        Condition::Not(x) => condition_attributes(x, out),
        Condition::And(a, b) | Condition::Or(a, b) => {
            condition_attributes(a, out);
            condition_attributes(b, out);
        }
    }
}

/// A Query filter may not read the key attributes of what it queries.
pub fn check_filter_keys(meta: &TableMeta, index: Option<&IndexMeta>, filter: &Condition) -> Result<(), DynamoError> {
    let mut attrs = Vec::new();
    condition_attributes(filter, &mut attrs);
    let is_key = |a: &str| match index {
        None => meta.is_key(a),
        Some(i) => i.key_attrs().any(|k| k.name == a),
    };
    if let Some(k) = attrs.iter().find(|a| is_key(a)) {
        return Err(DynamoError::validation(format!(
            "Filter Expression can only contain non-primary key attributes: Primary key attribute: {k}"
        )));
    }
    Ok(())
}

/// The filter of a Query or Scan: FilterExpression, or the legacy QueryFilter /
/// ScanFilter combined by ConditionalOperator.
pub fn filter_or_legacy(
    req: Obj,
    expression: Option<Condition>,
    kind: stator_expr::LegacyKind,
    member: &str,
) -> Result<Option<Condition>, DynamoError> {
    let op = req.str("ConditionalOperator")?;
    match (expression, crate::legacy::filter(req, member)?) {
        (Some(f), _) => Ok(Some(f)),
        (None, Some(entries)) => stator_expr::filter_condition(kind, &entries, op).map_err(crate::request::expr_err),
        (None, None) if op.is_some() => Err(DynamoError::validation(
            "ConditionalOperator can only be used when Filter or Expected has two or more elements",
        )),
        (None, None) => Ok(None),
    }
}

/// One page request.
pub struct PageSpec<'a> {
    pub meta: &'a TableMeta,
    /// The LastEvaluatedKey attributes.
    pub key_names: Vec<String>,
    /// Read each item's full attributes from the table (a local index whose projection
    /// lacks attributes the request wants).
    pub fetch_from_table: bool,
    pub range: KeyRange,
    pub direction: Direction,
    pub start_after: Option<Vec<u8>>,
    pub limit: Option<usize>,
    pub filter: Option<&'a Condition>,
    pub shape: &'a Shape,
}

/// An item of a page: as stored (returned whole, written to JSON without decoding),
/// or built (projected).
pub enum PageItem {
    Stored(stator_storage::Bytes),
    Built(Item),
}

impl PageItem {
    /// The item itself.
    pub fn to_item(&self) -> Result<Item, DynamoError> {
        match self {
            PageItem::Stored(b) => decode_item(b).map_err(crate::internal),
            PageItem::Built(i) => Ok(i.clone()),
        }
    }
}

/// A page read.
pub struct Page {
    pub items: Vec<PageItem>,
    pub count: usize,
    pub scanned: usize,
    pub last_key: Option<Item>,
    pub bytes_read: usize,
}

/// Reads one page from `snap`.
pub fn read_page(snap: &dyn ReadView, spec: PageSpec) -> Result<Page, DynamoError> {
    let mut range = spec.range;
    if let Some(after) = spec.start_after {
        match spec.direction {
            Direction::Forward => range.start = tighter_start(range.start, after),
            Direction::Reverse => range.end = tighter_end(range.end, after),
        }
    }
    // Room for a page up to its Limit (bounded: a page also stops at 1 MB).
    let room = spec.limit.map_or(16, |l| l.min(256));
    let mut page = Page { items: Vec::with_capacity(room), count: 0, scanned: 0, last_key: None, bytes_read: 0 };
    // The filter reads only these top-level attributes: only they are decoded.
    let mut filter_names = Vec::new();
    if let Some(f) = spec.filter {
        condition_attributes(f, &mut filter_names);
    }
    for kv in snap.scan(range, spec.direction) {
        let (_, mut v) = kv.map_err(crate::internal)?;
        page.scanned += 1;
        // A filtered read sizes the item and decodes what the filter reads in one pass.
        let wanted = |n: &str| filter_names.iter().any(|f| f == n);
        let mut seen = None;
        page.bytes_read += match spec.filter {
            Some(_) if !spec.fetch_from_table => {
                let (size, some) = stored::sized_decode_some(&v, &wanted).map_err(crate::internal)?;
                seen = Some(some);
                size
            }
            _ => stored::item_size(&v).map_err(crate::internal)?,
        };
        if spec.fetch_from_table {
            // DynamoDB bills the table read of a non-projected fetch on top.
            let entry = decode_item(&v).map_err(crate::internal)?;
            let key = keys::key_of_key(spec.meta, &keys::key_attributes(spec.meta, &entry))?;
            if let Some(b) = snap.get_shared(&key).map_err(crate::internal)? {
                page.bytes_read += stored::item_size(&b).map_err(crate::internal)?;
                v = b;
            }
        }
        let keep = match (spec.filter, seen) {
            (Some(f), Some(seen)) => f.eval(&seen).map_err(crate::request::expr_err)?,
            (Some(f), None) => {
                let seen = stored::decode_some(&v, &wanted).map_err(crate::internal)?;
                f.eval(&seen).map_err(crate::request::expr_err)?
            }
            (None, _) => true,
        };
        let stop = spec.limit.is_some_and(|l| page.scanned >= l) || page.bytes_read > MAX_PAGE_BYTES;
        if stop {
            // Only its key attributes are read (the rest is skipped, not checked:
            // nothing of it goes into the key).
            let names: Vec<&str> = spec.key_names.iter().map(String::as_str).collect();
            page.last_key = Some(stored::pick(&v, &names).map_err(crate::internal)?);
        }
        if keep {
            page.count += 1;
            match spec.shape {
                Shape::Count => {}
                Shape::All => page.items.push(PageItem::Stored(v)),
                shape => page.items.push(PageItem::Built(shape.apply(decode_item(&v).map_err(crate::internal)?))),
            }
        }
        if stop {
            break;
        }
    }
    Ok(page)
}

fn tighter_start(start: Bound<Vec<u8>>, after: Vec<u8>) -> Bound<Vec<u8>> {
    match &start {
        Bound::Included(s) | Bound::Excluded(s) if s.as_slice() > after.as_slice() => start,
        _ => Bound::Excluded(after),
    }
}

fn tighter_end(end: Bound<Vec<u8>>, after: Vec<u8>) -> Bound<Vec<u8>> {
    match &end {
        Bound::Included(e) | Bound::Excluded(e) if e.as_slice() < after.as_slice() => end,
        _ => Bound::Excluded(after),
    }
}

/// The page's response: Items (unless COUNT), Count, ScannedCount, LastEvaluatedKey,
/// ConsumedCapacity (read units of the total bytes read).
pub fn response(
    meta: &TableMeta,
    index: Option<&IndexMeta>,
    page: Page,
    shape: &Shape,
    consistent: bool,
    cap: ReturnCapacity,
) -> Result<Reply, DynamoError> {
    // Sized for the whole answer up front.
    let json_len: usize = page
        .items
        .iter()
        .map(|i| match i {
            PageItem::Stored(b) => stator_types::stored::json_len_hint(b),
            PageItem::Built(item) => 2 * stator_types::size::item_size(item) + 16 * item.len(),
        })
        .sum();
    let mut out = JsonObject::with_capacity(json_len + 256);
    if !matches!(shape, Shape::Count) {
        out.page_items("Items", &page.items)?;
    }
    out.uint("Count", page.count as u64);
    out.uint("ScannedCount", page.scanned as u64);
    if let Some(k) = &page.last_key {
        out.item("LastEvaluatedKey", k);
    }
    let units = read_units(page.bytes_read, consistent);
    // Reads of an index are billed to the index (INDEXES shows it under its name).
    let consumed = match index {
        None => consumed(&meta.name, units, cap),
        Some(i) => crate::capacity::consumed_with_indexes(meta, 0.0, &[(i.name.clone(), units)], cap),
    };
    if let Some(c) = consumed {
        out.value("ConsumedCapacity", &c);
    }
    Ok(out.finish())
}
