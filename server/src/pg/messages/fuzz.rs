//! Arbitrary client bytes through the frontend decoder: the message parser and the framing
//! reader never panic, every failure is a protocol error (08P01), and the work is bounded by
//! the input (each frame consumes at least its 5-byte header).

use bytes::Bytes;
use proptest::prelude::*;
use tokio::io::AsyncWriteExt;

use super::parse;
use crate::pg::wire::{Wire, WireError};

/// Message tags the parser knows, plus a few it does not.
fn tags() -> impl Strategy<Value = u8> {
    prop_oneof![
        proptest::sample::select(b"QPBDCESHXdcfp".to_vec()),
        any::<u8>(),
    ]
}

/// Reads frames from `input` until the stream ends or breaks; returns how many were read.
fn read_all(input: Vec<u8>, auth_phase: bool) -> usize {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let (client, server) = tokio::io::duplex(1 << 16);
        let writer = tokio::spawn(async move {
            let mut client = client;
            let _ = client.write_all(&input).await;
            let _ = client.shutdown().await;
            // Keep the peer open until the reader is done with the bytes.
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        });
        let mut wire = Wire::new(Box::new(server), Default::default());
        let mut frames = 0;
        loop {
            let read = if auth_phase {
                wire.read_auth_message().await
            } else {
                wire.read_message().await
            };
            match read {
                Ok(_) => frames += 1,
                Err(WireError::Protocol(e)) => {
                    assert_eq!(e.code, "08P01", "{e:?}");
                    break;
                }
                Err(WireError::Closed) | Err(WireError::Io(_)) => break,
            }
        }
        writer.abort();
        frames
    })
}

/// A stream of well-framed messages with arbitrary tags and bodies.
fn framed_stream() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        (tags(), proptest::collection::vec(any::<u8>(), 0..64)),
        0..16,
    )
    .prop_map(|messages| {
        let mut out = Vec::new();
        for (tag, body) in messages {
            out.push(tag);
            out.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
            out.extend_from_slice(&body);
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bodies_parse_or_fail_cleanly(
        tag in tags(),
        body in proptest::collection::vec(any::<u8>(), 0..128),
    ) {
        if let Err(e) = parse(tag, Bytes::from(body)) {
            prop_assert_eq!(e.code, "08P01");
        }
    }

    #[test]
    fn arbitrary_streams_are_read_boundedly(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
        auth_phase in any::<bool>(),
    ) {
        let len = bytes.len();
        prop_assert!(read_all(bytes, auth_phase) <= len / 5);
    }

    #[test]
    fn framed_streams_are_read_boundedly(bytes in framed_stream(), auth_phase in any::<bool>()) {
        let len = bytes.len();
        prop_assert!(read_all(bytes, auth_phase) <= len / 5);
    }
}
