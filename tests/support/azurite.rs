//! Azurite, the Azure Blob Storage emulator (npm, installed by scripts/test-deps.sh), on
//! 127.0.0.1 with an ephemeral port, one per test, killed on drop.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Azurite's well-known development account.
pub const ACCOUNT: &str = "devstoreaccount1";
pub const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

pub struct Azurite {
    child: Child,
    _dir: tempfile::TempDir,
    pub port: u16,
}

impl Azurite {
    pub fn start() -> Self {
        let home = std::env::var("TARN_TEST_AZURITE").unwrap_or_else(|_| {
            format!(
                "{}/.cache/tarn/azurite",
                std::env::var("HOME").unwrap_or_default()
            )
        });
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = tempfile::tempdir().expect("tempdir");
        let child = Command::new(format!("{home}/node_modules/.bin/azurite-blob"))
            .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
            .arg("--location")
            .arg(dir.path())
            .args(["--silent", "--skipApiVersionCheck"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("azurite-blob (run scripts/test-deps.sh)");
        let azurite = Self {
            child,
            _dir: dir,
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "azurite did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        azurite
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/{ACCOUNT}", self.port)
    }

    /// Creates a container (with the Azure SDK for Python from the test venv).
    pub fn create_container(&self, name: &str) {
        let script = format!(
            "from azure.storage.blob import BlobServiceClient\n\
             c = 'DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};BlobEndpoint={}'\n\
             BlobServiceClient.from_connection_string(c).create_container('{name}')\n",
            self.endpoint()
        );
        let out = Command::new(crate::support::venv_python())
            .args(["-c", &script])
            .output()
            .expect("python");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// tarn's `[[storage]]` entry for a container on this emulator.
    pub fn storage(&self, container: &str) -> tarn::storage::StorageConfig {
        tarn::storage::StorageConfig {
            url: format!("az://{container}"),
            endpoint: Some(self.endpoint()),
            allow_http: true,
            access_key_id: Some(ACCOUNT.into()),
            secret_access_key: Some(KEY.into()),
            request_timeout_secs: Some(10),
            max_retries: Some(1),
            ..Default::default()
        }
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
