//! One module per DynamoDB operation. Each has `execute(engine, ctx, request)`,
//! which validates the whole request before touching the store.

pub mod batch_execute_statement;
pub mod batch_get_item;
pub mod batch_write_item;
pub mod create_table;
pub mod delete_item;
pub mod delete_table;
pub mod describe_endpoints;
pub mod describe_limits;
pub mod describe_stream;
pub mod describe_table;
pub mod describe_time_to_live;
pub mod execute_statement;
pub mod execute_transaction;
pub mod get_item;
pub mod get_records;
pub mod get_shard_iterator;
pub mod list_streams;
pub mod list_tables;
pub mod put_item;
pub mod query;
pub mod scan;
pub mod transact_get_items;
pub mod transact_write_items;
pub mod update_item;
pub mod update_table;
pub mod update_time_to_live;

mod index_specs;
mod index_updates;
pub(crate) mod item_write;

pub(crate) use item_write::Stored;
pub(crate) mod read_page;
mod table_settings;
