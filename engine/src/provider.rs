//! DataFusion's view of the metastore: a catalog list whose schemas are tarn databases and whose
//! tables are [`HiveTable`]s, resolved from the metastore once per query before planning.

mod cached_scan;
mod catalog;
mod format;
mod guarded;
pub(crate) use guarded::ColumnGuard;
mod listing;
mod named_errors;
mod pruning;
mod read_ahead;
pub(crate) use read_ahead::arm as arm_read_ahead;
mod scan_cache;
pub(crate) mod system;
mod table;
mod view;

pub use catalog::{CATALOG_NAME, PUBLIC_SCHEMA, TarnCatalogList, database_for_schema};
pub(crate) use format::{file_format, parse_location, unreadable};
pub use listing::ListingCache;
pub(crate) use listing::{list_recursive, list_subdirs};
pub use pruning::{evaluate_partitions, to_partition_filter};
pub(crate) use scan_cache::physical_memory;
pub use scan_cache::{ScanCache, ScanCacheUsage, default_budget as default_scan_cache_budget};
pub use system::SYSTEM_SCHEMA;
pub use table::{HiveTable, TableCaches};
