//! One module per DynamoDB operation. Each has `execute(engine, ctx, request)`,
//! which validates the whole request before touching the store.

pub mod batch_get_item;
pub mod batch_write_item;
pub mod create_table;
pub mod delete_item;
pub mod delete_table;
pub mod describe_endpoints;
pub mod describe_limits;
pub mod describe_table;
pub mod get_item;
pub mod list_tables;
pub mod put_item;
pub mod query;
pub mod scan;
pub mod transact_get_items;
pub mod transact_write_items;
pub mod update_item;
pub mod update_table;

mod index_specs;
mod index_updates;
mod item_write;

pub(crate) use item_write::Stored;
mod read_page;
mod table_settings;

/// Seconds since the Unix epoch, with millisecond precision, as DynamoDB's timestamps.
pub(crate) fn now_epoch() -> f64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    (d.as_millis() as f64) / 1000.0
}
