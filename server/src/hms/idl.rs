//! The Hive 2.3 metastore service's method list (Apache Hive's `hive_metastore.thrift`,
//! Apache-2.0, plus fb303's `FacebookService` methods): for each method whether it returns a
//! value or is oneway, and the exceptions it declares with their result field ids. The server
//! needs this to answer a method it does not implement with a *declared* `MetaException` (a
//! normal error to the client) and to put each exception in the field the client reads.

/// The exception structs of the metastore IDL; every one is `{1: string message}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exc {
    Meta,
    NoSuchObject,
    AlreadyExists,
    InvalidObject,
    InvalidOperation,
    UnknownTable,
    UnknownDb,
    InvalidPartition,
    UnknownPartition,
    ConfigValSecurity,
    InvalidInput,
    NoSuchTxn,
    TxnAborted,
    TxnOpen,
    NoSuchLock,
}

/// What a method returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returns {
    /// A result struct with field 0 on success.
    Value,
    /// An empty result struct on success.
    Void,
    /// No reply at all.
    Oneway,
}

#[derive(Debug)]
pub struct Method {
    pub name: &'static str,
    pub returns: Returns,
    pub exceptions: &'static [(i16, Exc)],
}

const fn m(name: &'static str, returns: Returns, exceptions: &'static [(i16, Exc)]) -> Method {
    Method {
        name,
        returns,
        exceptions,
    }
}

/// A method of the IDL by name.
pub fn method(name: &str) -> Option<&'static Method> {
    METHODS
        .binary_search_by(|m| m.name.cmp(name))
        .ok()
        .map(|i| &METHODS[i])
}

impl Method {
    /// The result field that carries `exc`, if the method declares it.
    pub fn field_of(&self, exc: Exc) -> Option<i16> {
        self.exceptions
            .iter()
            .find(|(_, e)| *e == exc)
            .map(|(id, _)| *id)
    }
}

use Exc::*;
use Returns::*;

/// Sorted by name (binary search).
static METHODS: &[Method] = &[
    m("abort_txn", Void, &[(1, NoSuchTxn)]),
    m("abort_txns", Void, &[(1, NoSuchTxn)]),
    m(
        "add_dynamic_partitions",
        Void,
        &[(1, NoSuchTxn), (2, TxnAborted)],
    ),
    m("add_foreign_key", Void, &[(1, NoSuchObject), (2, Meta)]),
    m(
        "add_index",
        Value,
        &[(1, InvalidObject), (2, AlreadyExists), (3, Meta)],
    ),
    m("add_master_key", Value, &[(1, Meta)]),
    m(
        "add_partition",
        Value,
        &[(1, InvalidObject), (2, AlreadyExists), (3, Meta)],
    ),
    m(
        "add_partition_with_environment_context",
        Value,
        &[(1, InvalidObject), (2, AlreadyExists), (3, Meta)],
    ),
    m(
        "add_partitions",
        Value,
        &[(1, InvalidObject), (2, AlreadyExists), (3, Meta)],
    ),
    m(
        "add_partitions_pspec",
        Value,
        &[(1, InvalidObject), (2, AlreadyExists), (3, Meta)],
    ),
    m(
        "add_partitions_req",
        Value,
        &[(1, InvalidObject), (2, AlreadyExists), (3, Meta)],
    ),
    m("add_primary_key", Void, &[(1, NoSuchObject), (2, Meta)]),
    m("add_token", Value, &[]),
    m("aliveSince", Value, &[]),
    m("alter_database", Void, &[(1, Meta), (2, NoSuchObject)]),
    m("alter_function", Void, &[(1, InvalidOperation), (2, Meta)]),
    m("alter_index", Void, &[(1, InvalidOperation), (2, Meta)]),
    m("alter_partition", Void, &[(1, InvalidOperation), (2, Meta)]),
    m(
        "alter_partition_with_environment_context",
        Void,
        &[(1, InvalidOperation), (2, Meta)],
    ),
    m(
        "alter_partitions",
        Void,
        &[(1, InvalidOperation), (2, Meta)],
    ),
    m(
        "alter_partitions_with_environment_context",
        Void,
        &[(1, InvalidOperation), (2, Meta)],
    ),
    m("alter_table", Void, &[(1, InvalidOperation), (2, Meta)]),
    m(
        "alter_table_with_cascade",
        Void,
        &[(1, InvalidOperation), (2, Meta)],
    ),
    m(
        "alter_table_with_environment_context",
        Void,
        &[(1, InvalidOperation), (2, Meta)],
    ),
    m(
        "append_partition",
        Value,
        &[(1, InvalidObject), (2, AlreadyExists), (3, Meta)],
    ),
    m(
        "append_partition_by_name",
        Value,
        &[(1, InvalidObject), (2, AlreadyExists), (3, Meta)],
    ),
    m(
        "append_partition_by_name_with_environment_context",
        Value,
        &[(1, InvalidObject), (2, AlreadyExists), (3, Meta)],
    ),
    m(
        "append_partition_with_environment_context",
        Value,
        &[(1, InvalidObject), (2, AlreadyExists), (3, Meta)],
    ),
    m("cache_file_metadata", Value, &[]),
    m("cancel_delegation_token", Void, &[(1, Meta)]),
    m(
        "check_lock",
        Value,
        &[(1, NoSuchTxn), (2, TxnAborted), (3, NoSuchLock)],
    ),
    m("clear_file_metadata", Value, &[]),
    m("commit_txn", Void, &[(1, NoSuchTxn), (2, TxnAborted)]),
    m("compact", Void, &[]),
    m("compact2", Value, &[]),
    m(
        "create_database",
        Void,
        &[(1, AlreadyExists), (2, InvalidObject), (3, Meta)],
    ),
    m(
        "create_function",
        Void,
        &[
            (1, AlreadyExists),
            (2, InvalidObject),
            (3, Meta),
            (4, NoSuchObject),
        ],
    ),
    m("create_role", Value, &[(1, Meta)]),
    m(
        "create_table",
        Void,
        &[
            (1, AlreadyExists),
            (2, InvalidObject),
            (3, Meta),
            (4, NoSuchObject),
        ],
    ),
    m(
        "create_table_with_constraints",
        Void,
        &[
            (1, AlreadyExists),
            (2, InvalidObject),
            (3, Meta),
            (4, NoSuchObject),
        ],
    ),
    m(
        "create_table_with_environment_context",
        Void,
        &[
            (1, AlreadyExists),
            (2, InvalidObject),
            (3, Meta),
            (4, NoSuchObject),
        ],
    ),
    m(
        "create_type",
        Value,
        &[(1, AlreadyExists), (2, InvalidObject), (3, Meta)],
    ),
    m(
        "delete_partition_column_statistics",
        Value,
        &[
            (1, NoSuchObject),
            (2, Meta),
            (3, InvalidObject),
            (4, InvalidInput),
        ],
    ),
    m(
        "delete_table_column_statistics",
        Value,
        &[
            (1, NoSuchObject),
            (2, Meta),
            (3, InvalidObject),
            (4, InvalidInput),
        ],
    ),
    m("drop_constraint", Void, &[(1, NoSuchObject), (2, Meta)]),
    m(
        "drop_database",
        Void,
        &[(1, NoSuchObject), (2, InvalidOperation), (3, Meta)],
    ),
    m("drop_function", Void, &[(1, NoSuchObject), (2, Meta)]),
    m("drop_index_by_name", Value, &[(1, NoSuchObject), (2, Meta)]),
    m("drop_partition", Value, &[(1, NoSuchObject), (2, Meta)]),
    m(
        "drop_partition_by_name",
        Value,
        &[(1, NoSuchObject), (2, Meta)],
    ),
    m(
        "drop_partition_by_name_with_environment_context",
        Value,
        &[(1, NoSuchObject), (2, Meta)],
    ),
    m(
        "drop_partition_with_environment_context",
        Value,
        &[(1, NoSuchObject), (2, Meta)],
    ),
    m(
        "drop_partitions_req",
        Value,
        &[(1, NoSuchObject), (2, Meta)],
    ),
    m("drop_role", Value, &[(1, Meta)]),
    m("drop_table", Void, &[(1, NoSuchObject), (2, Meta)]),
    m(
        "drop_table_with_environment_context",
        Void,
        &[(1, NoSuchObject), (2, Meta)],
    ),
    m("drop_type", Value, &[(1, Meta), (2, NoSuchObject)]),
    m(
        "exchange_partition",
        Value,
        &[
            (1, Meta),
            (2, NoSuchObject),
            (3, InvalidObject),
            (4, InvalidInput),
        ],
    ),
    m(
        "exchange_partitions",
        Value,
        &[
            (1, Meta),
            (2, NoSuchObject),
            (3, InvalidObject),
            (4, InvalidInput),
        ],
    ),
    m("fire_listener_event", Value, &[]),
    m("flushCache", Void, &[]),
    m("getMetaConf", Value, &[(1, Meta)]),
    m("getName", Value, &[]),
    m("getStatus", Value, &[]),
    m("getStatusDetails", Value, &[]),
    m("getVersion", Value, &[]),
    m("get_aggr_stats_for", Value, &[(1, NoSuchObject), (2, Meta)]),
    m("get_all_databases", Value, &[(1, Meta)]),
    m("get_all_functions", Value, &[(1, Meta)]),
    m("get_all_tables", Value, &[(1, Meta)]),
    m("get_all_token_identifiers", Value, &[]),
    m("get_config_value", Value, &[(1, ConfigValSecurity)]),
    m("get_current_notificationEventId", Value, &[]),
    m("get_database", Value, &[(1, NoSuchObject), (2, Meta)]),
    m("get_databases", Value, &[(1, Meta)]),
    m("get_delegation_token", Value, &[(1, Meta)]),
    m(
        "get_fields",
        Value,
        &[(1, Meta), (2, UnknownTable), (3, UnknownDb)],
    ),
    m(
        "get_fields_with_environment_context",
        Value,
        &[(1, Meta), (2, UnknownTable), (3, UnknownDb)],
    ),
    m("get_file_metadata", Value, &[]),
    m("get_file_metadata_by_expr", Value, &[]),
    m("get_foreign_keys", Value, &[(1, Meta), (2, NoSuchObject)]),
    m("get_function", Value, &[(1, Meta), (2, NoSuchObject)]),
    m("get_functions", Value, &[(1, Meta)]),
    m("get_index_by_name", Value, &[(1, Meta), (2, NoSuchObject)]),
    m("get_index_names", Value, &[(1, Meta)]),
    m("get_indexes", Value, &[(1, NoSuchObject), (2, Meta)]),
    m("get_master_keys", Value, &[]),
    m("get_next_notification", Value, &[]),
    m(
        "get_num_partitions_by_filter",
        Value,
        &[(1, Meta), (2, NoSuchObject)],
    ),
    m("get_open_txns", Value, &[]),
    m("get_open_txns_info", Value, &[]),
    m(
        "get_part_specs_by_filter",
        Value,
        &[(1, Meta), (2, NoSuchObject)],
    ),
    m("get_partition", Value, &[(1, Meta), (2, NoSuchObject)]),
    m(
        "get_partition_by_name",
        Value,
        &[(1, Meta), (2, NoSuchObject)],
    ),
    m(
        "get_partition_column_statistics",
        Value,
        &[
            (1, NoSuchObject),
            (2, Meta),
            (3, InvalidInput),
            (4, InvalidObject),
        ],
    ),
    m("get_partition_names", Value, &[(1, Meta)]),
    m(
        "get_partition_names_ps",
        Value,
        &[(1, Meta), (2, NoSuchObject)],
    ),
    m(
        "get_partition_values",
        Value,
        &[(1, Meta), (2, NoSuchObject)],
    ),
    m(
        "get_partition_with_auth",
        Value,
        &[(1, Meta), (2, NoSuchObject)],
    ),
    m("get_partitions", Value, &[(1, NoSuchObject), (2, Meta)]),
    m(
        "get_partitions_by_expr",
        Value,
        &[(1, Meta), (2, NoSuchObject)],
    ),
    m(
        "get_partitions_by_filter",
        Value,
        &[(1, Meta), (2, NoSuchObject)],
    ),
    m(
        "get_partitions_by_names",
        Value,
        &[(1, Meta), (2, NoSuchObject)],
    ),
    m("get_partitions_ps", Value, &[(1, Meta), (2, NoSuchObject)]),
    m(
        "get_partitions_ps_with_auth",
        Value,
        &[(1, NoSuchObject), (2, Meta)],
    ),
    m(
        "get_partitions_pspec",
        Value,
        &[(1, NoSuchObject), (2, Meta)],
    ),
    m(
        "get_partitions_statistics_req",
        Value,
        &[(1, NoSuchObject), (2, Meta)],
    ),
    m(
        "get_partitions_with_auth",
        Value,
        &[(1, NoSuchObject), (2, Meta)],
    ),
    m("get_primary_keys", Value, &[(1, Meta), (2, NoSuchObject)]),
    m("get_principals_in_role", Value, &[(1, Meta)]),
    m("get_privilege_set", Value, &[(1, Meta)]),
    m("get_role_grants_for_principal", Value, &[(1, Meta)]),
    m("get_role_names", Value, &[(1, Meta)]),
    m(
        "get_schema",
        Value,
        &[(1, Meta), (2, UnknownTable), (3, UnknownDb)],
    ),
    m(
        "get_schema_with_environment_context",
        Value,
        &[(1, Meta), (2, UnknownTable), (3, UnknownDb)],
    ),
    m("get_table", Value, &[(1, Meta), (2, NoSuchObject)]),
    m(
        "get_table_column_statistics",
        Value,
        &[
            (1, NoSuchObject),
            (2, Meta),
            (3, InvalidInput),
            (4, InvalidObject),
        ],
    ),
    m("get_table_meta", Value, &[(1, Meta)]),
    m(
        "get_table_names_by_filter",
        Value,
        &[(1, Meta), (2, InvalidOperation), (3, UnknownDb)],
    ),
    m(
        "get_table_objects_by_name",
        Value,
        &[(1, Meta), (2, InvalidOperation), (3, UnknownDb)],
    ),
    m(
        "get_table_objects_by_name_req",
        Value,
        &[(1, Meta), (2, InvalidOperation), (3, UnknownDb)],
    ),
    m("get_table_req", Value, &[(1, Meta), (2, NoSuchObject)]),
    m(
        "get_table_statistics_req",
        Value,
        &[(1, NoSuchObject), (2, Meta)],
    ),
    m("get_tables", Value, &[(1, Meta)]),
    m("get_tables_by_type", Value, &[(1, Meta)]),
    m("get_token", Value, &[]),
    m("get_type", Value, &[(1, Meta), (2, NoSuchObject)]),
    m("get_type_all", Value, &[(1, Meta)]),
    m("grant_privileges", Value, &[(1, Meta)]),
    m("grant_revoke_privileges", Value, &[(1, Meta)]),
    m("grant_revoke_role", Value, &[(1, Meta)]),
    m("grant_role", Value, &[(1, Meta)]),
    m(
        "heartbeat",
        Void,
        &[(1, NoSuchLock), (2, NoSuchTxn), (3, TxnAborted)],
    ),
    m("heartbeat_txn_range", Value, &[]),
    m(
        "isPartitionMarkedForEvent",
        Value,
        &[
            (1, Meta),
            (2, NoSuchObject),
            (3, UnknownDb),
            (4, UnknownTable),
            (5, UnknownPartition),
            (6, InvalidPartition),
        ],
    ),
    m("list_privileges", Value, &[(1, Meta)]),
    m("list_roles", Value, &[(1, Meta)]),
    m("lock", Value, &[(1, NoSuchTxn), (2, TxnAborted)]),
    m(
        "markPartitionForEvent",
        Void,
        &[
            (1, Meta),
            (2, NoSuchObject),
            (3, UnknownDb),
            (4, UnknownTable),
            (5, UnknownPartition),
            (6, InvalidPartition),
        ],
    ),
    m("open_txns", Value, &[]),
    m("partition_name_has_valid_characters", Value, &[(1, Meta)]),
    m("partition_name_to_spec", Value, &[(1, Meta)]),
    m("partition_name_to_vals", Value, &[(1, Meta)]),
    m("put_file_metadata", Value, &[]),
    m("reinitialize", Oneway, &[]),
    m("remove_master_key", Value, &[]),
    m("remove_token", Value, &[]),
    m(
        "rename_partition",
        Void,
        &[(1, InvalidOperation), (2, Meta)],
    ),
    m("renew_delegation_token", Value, &[(1, Meta)]),
    m("revoke_privileges", Value, &[(1, Meta)]),
    m("revoke_role", Value, &[(1, Meta)]),
    m("setMetaConf", Void, &[(1, Meta)]),
    m(
        "set_aggr_stats_for",
        Value,
        &[
            (1, NoSuchObject),
            (2, InvalidObject),
            (3, Meta),
            (4, InvalidInput),
        ],
    ),
    m("set_ugi", Value, &[(1, Meta)]),
    m("show_compact", Value, &[]),
    m("show_locks", Value, &[]),
    m("shutdown", Oneway, &[]),
    m("unlock", Void, &[(1, NoSuchLock), (2, TxnOpen)]),
    m("update_master_key", Void, &[(1, NoSuchObject), (2, Meta)]),
    m(
        "update_partition_column_statistics",
        Value,
        &[
            (1, NoSuchObject),
            (2, InvalidObject),
            (3, Meta),
            (4, InvalidInput),
        ],
    ),
    m(
        "update_table_column_statistics",
        Value,
        &[
            (1, NoSuchObject),
            (2, InvalidObject),
            (3, Meta),
            (4, InvalidInput),
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_complete() {
        assert!(METHODS.windows(2).all(|w| w[0].name < w[1].name));
        let get_table = method("get_table").unwrap();
        assert_eq!(get_table.returns, Value);
        assert_eq!(get_table.field_of(NoSuchObject), Some(2));
        assert_eq!(method("shutdown").unwrap().returns, Oneway);
        assert_eq!(method("create_database").unwrap().returns, Void);
        assert!(method("get_valid_write_ids").is_none());
    }
}
