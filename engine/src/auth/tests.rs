//! The authentication service over a real engine: decoys, SCRAM, cleartext work.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use tarn_catalog::users::{hmac_sha256, salted_password, sha256};
use tarn_catalog::{SCRAM_ITERATIONS, ScramVerifier, User};

use crate::engine::{Engine, EngineConfig};
use crate::error::ErrorKind;

fn open(dir: &std::path::Path) -> Engine {
    let mut config = EngineConfig::new(dir);
    config.cpu_threads = Some(0);
    Engine::open(config).expect("open")
}

async fn add_user(engine: &Engine, name: &str, password: &str) {
    let user = User::login(name, ScramVerifier::new(password).unwrap(), false);
    engine.metastore().create_user(user, false).await.unwrap();
}

/// A client's SCRAM exchange with `password`; returns the server's verdict.
async fn scram_as(engine: &Engine, name: &str, password: &str) -> crate::Result<String> {
    let auth = engine.authenticator();
    let mut server = auth.scram(auth.login(name).await?);
    let client_first_bare = "n=,r=clientnonce";
    let server_first = server.first(format!("n,,{client_first_bare}").as_bytes())?;
    let attr = |k: &str| {
        server_first
            .split(',')
            .find_map(|p| p.strip_prefix(k))
            .unwrap()
            .to_string()
    };
    let (nonce, salt, iterations) = (attr("r="), B64.decode(attr("s=")).unwrap(), attr("i="));
    assert!(nonce.starts_with("clientnonce"));
    assert_eq!(salt.len(), 16, "decoy salts look like real ones");
    assert_eq!(iterations, SCRAM_ITERATIONS.to_string());
    let without_proof = format!("c={},r={nonce}", B64.encode("n,,"));
    let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
    let salted = salted_password(password, &salt, iterations.parse().unwrap());
    let client_key = hmac_sha256(&salted, b"Client Key");
    let signature = hmac_sha256(&sha256(&client_key), auth_message.as_bytes());
    let proof: Vec<u8> = client_key
        .iter()
        .zip(signature)
        .map(|(k, s)| k ^ s)
        .collect();
    let client_final = format!("{without_proof},p={}", B64.encode(proof));
    server
        .finish(client_final.as_bytes())
        .map(|(user, _)| user.name)
}

#[tokio::test]
async fn decoy_salts_are_stable_per_data_dir() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = open(a.path()).authenticator().decoy_verifier("nobody");
    let again = open(a.path()).authenticator().decoy_verifier("nobody");
    let elsewhere = open(b.path()).authenticator().decoy_verifier("nobody");
    assert_eq!(first.salt, again.salt, "stable across restarts");
    assert_ne!(
        first.salt, elsewhere.salt,
        "unguessable from another data dir"
    );
    assert_ne!(
        first.salt,
        open(a.path()).authenticator().decoy_verifier("other").salt
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(a.path().join("auth_secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[tokio::test]
async fn scram_for_unknown_users_looks_real_and_fails_alike() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    add_user(&engine, "bob", "right").await;
    assert_eq!(scram_as(&engine, "bob", "right").await.unwrap(), "bob");
    for (name, password) in [("bob", "wrong"), ("nobody", "right"), ("nobody", "")] {
        let err = scram_as(&engine, name, password).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AuthenticationFailed, "{name}");
        assert_eq!(
            err.to_string(),
            format!("password authentication failed for user \"{name}\"")
        );
    }
}

#[tokio::test]
async fn cleartext_checks_derive_the_key_whatever_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    add_user(&engine, "bob", "right").await;
    let auth = engine.authenticator();
    let cases = [
        ("bob", "right", true),
        ("bob", "wrong", false),
        ("bob", "", false),
        ("nobody", "right", false),
        ("nobody", "", false),
    ];
    for (name, password, ok) in cases {
        let before = auth.password_checks();
        let result = auth.verify_password(name, password).await;
        assert_eq!(result.is_ok(), ok, "{name}/{password:?}");
        if let Err(e) = result {
            assert_eq!(e.kind(), ErrorKind::AuthenticationFailed);
        }
        assert_eq!(auth.password_checks(), before + 1, "{name}/{password:?}");
    }
}
