//! Replays the introspection queries captured from BI tools and drivers (tests/compat/*.sql,
//! format in tests/compat/README.md) against a live server over the simple query protocol.

use tokio_postgres::SimpleQueryMessage;

use super::PgFixture;
use super::clients::create_browsing_fixture;

/// One message of a capture file and what its first result must show.
struct Message {
    sql: String,
    columns: Option<Vec<String>>,
    rows: bool,
    contains: Option<String>,
    /// The SQLSTATE the message must fail with (capability probes).
    error: Option<String>,
}

fn parse(capture: &str) -> Vec<Message> {
    let mut messages = Vec::new();
    for block in capture.split("-- message\n").skip(1) {
        let mut message = Message {
            sql: String::new(),
            columns: None,
            rows: false,
            contains: None,
            error: None,
        };
        for line in block.lines() {
            if let Some(list) = line.strip_prefix("-- expect columns:") {
                message.columns = Some(list.split(',').map(|c| c.trim().to_string()).collect());
            } else if line.trim() == "-- expect rows" {
                message.rows = true;
            } else if let Some(code) = line.strip_prefix("-- expect error:") {
                message.error = Some(code.trim().to_string());
            } else if let Some(value) = line.strip_prefix("-- expect contains:") {
                message.contains = Some(value.trim().to_string());
            } else {
                message.sql.push_str(line);
                message.sql.push('\n');
            }
        }
        messages.push(message);
    }
    messages
}

async fn replay(file: &str) {
    let path = format!("{}/tests/compat/{file}", env!("CARGO_MANIFEST_DIR"));
    let capture = std::fs::read_to_string(&path).unwrap();
    let pg = PgFixture::start().await;
    let client = pg.client().await;
    create_browsing_fixture(&client).await;
    for message in parse(&capture) {
        if let Some(code) = &message.error {
            let e = client
                .simple_query(&message.sql)
                .await
                .expect_err(&message.sql);
            let state = e.code().map(|c| c.code().to_string());
            assert_eq!(state.as_deref(), Some(code.as_str()), "{file}: {e}");
            continue;
        }
        let replies = client
            .simple_query(&message.sql)
            .await
            .unwrap_or_else(|e| panic!("{file}: {e:?}\n{}", message.sql));
        let columns: Option<Vec<String>> = replies.iter().find_map(|m| match m {
            SimpleQueryMessage::RowDescription(d) => {
                Some(d.iter().map(|c| c.name().to_string()).collect())
            }
            _ => None,
        });
        // The rows of the first result that has columns (up to its CommandComplete).
        let rows: Vec<&tokio_postgres::SimpleQueryRow> = replies
            .iter()
            .skip_while(|m| !matches!(m, SimpleQueryMessage::RowDescription(_)))
            .take_while(|m| !matches!(m, SimpleQueryMessage::CommandComplete(_)))
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r) => Some(r),
                _ => None,
            })
            .collect();
        if let Some(expected) = &message.columns {
            assert_eq!(columns.as_ref(), Some(expected), "{file}:\n{}", message.sql);
        }
        if message.rows {
            assert!(!rows.is_empty(), "{file}: no rows for\n{}", message.sql);
        }
        if let Some(value) = &message.contains {
            let found = rows
                .iter()
                .any(|r| (0..r.len()).any(|i| r.get(i) == Some(value.as_str())));
            assert!(found, "{file}: no value {value:?} from\n{}", message.sql);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npgsql_power_bi_type_loading() {
    replay("npgsql_powerbi.sql").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgcli_completion_metadata() {
    replay("pgcli.sql").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grafana_pickers() {
    replay("grafana.sql").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psqlodbc_tableau_session() {
    replay("psqlodbc_tableau.sql").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metabase_sync() {
    replay("metabase.sql").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dbeaver_navigator() {
    replay("dbeaver.sql").await;
}
