//! Flight SQL sessions: CloseSession, a per-user session cap, and a rate limit on failed
//! handshakes that does not lock out other users.

use arrow_flight::Action;
use arrow_flight::error::FlightError;
use futures::TryStreamExt;
use tonic::Code;

use crate::flight::{FlightFixture, PASSWORD, USER};

/// The gRPC code of an error; a failed Handshake reports it only in its message.
fn code(e: &FlightError) -> Code {
    match e {
        FlightError::Tonic(status) => status.code(),
        other => {
            let text = other.to_string();
            [
                (Code::Unauthenticated, "valid authentication credentials"),
                (Code::ResourceExhausted, "resource has been exhausted"),
            ]
            .into_iter()
            .find(|(_, description)| text.contains(description))
            .map_or(Code::Unknown, |(code, _)| code)
        }
    }
}

async fn close_session(
    client: &mut arrow_flight::sql::client::FlightSqlServiceClient<tonic::transport::Channel>,
) -> Vec<u8> {
    let results: Vec<_> = client
        .do_action(Action::new("CloseSession", Vec::<u8>::new()))
        .await
        .expect("CloseSession")
        .try_collect()
        .await
        .expect("results");
    results.first().map(|r| r.body.to_vec()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_session_ends_the_session() {
    let flight = FlightFixture::start().await;
    let mut client = flight.client().await;
    client.execute("SELECT 1".into(), None).await.expect("open");
    // CloseSessionResult { status: CLOSED (1) }.
    assert_eq!(close_session(&mut client).await, vec![0x08, 0x01]);
    let err = client.execute("SELECT 1".into(), None).await.unwrap_err();
    assert_eq!(code(&err), Code::Unauthenticated, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_per_user_are_capped() {
    let flight = FlightFixture::with(|c| c.max_sessions_per_user = 3).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(flight.client().await);
    }
    let mut extra = flight.anonymous().await;
    let err = extra.handshake(USER, PASSWORD).await.unwrap_err();
    assert_eq!(code(&err), Code::ResourceExhausted, "{err}");
    let mut bob = flight.anonymous().await;
    bob.handshake("bob", PASSWORD)
        .await
        .expect("other users are not capped");
    close_session(&mut open[0]).await;
    extra
        .handshake(USER, PASSWORD)
        .await
        .expect("a closed session frees its slot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_handshakes_are_rate_limited_per_user() {
    let flight = FlightFixture::start().await;
    let mut codes = Vec::new();
    for _ in 0..30 {
        let mut client = flight.anonymous().await;
        let err = client.handshake("bob", "wrong").await.unwrap_err();
        codes.push(code(&err));
    }
    assert_eq!(codes[0], Code::Unauthenticated);
    assert!(
        codes.contains(&Code::ResourceExhausted),
        "a storm of failures is throttled: {codes:?}"
    );
    // Other users log in as usual.
    flight.client().await;
}
