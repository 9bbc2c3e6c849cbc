//! `tarn serve` and `tarn user …`.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tarn::Tarn;
use tarn::config::{FlightFileConfig, HmsFileConfig, PgFileConfig};
use tarn::server::{FlightServer, HmsServer, PgServer};

/// Command-line overrides of the `[pg]` config.
#[derive(clap::Args, Debug, Default)]
pub struct ServeArgs {
    /// Postgres wire listen address (default 127.0.0.1:5432).
    #[arg(long)]
    pub pg_listen: Option<String>,
    /// Create the demo lakehouse first (once per data dir).
    #[arg(long)]
    pub demo: bool,
    /// Server certificate chain (PEM) for TLS.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Server private key (PEM) for TLS.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Refuse connections without TLS.
    #[arg(long)]
    pub tls_required: bool,
    /// scram-sha-256 (default), password (cleartext) or trust (loopback only).
    #[arg(long)]
    pub auth: Option<String>,
    /// Write the bound port to this file once listening (for scripts and tests).
    #[arg(long)]
    pub port_file: Option<PathBuf>,
    /// Arrow Flight SQL listen address (default 127.0.0.1:32010), or "off".
    #[arg(long)]
    pub flight_listen: Option<String>,
    /// Write the bound Flight SQL port to this file once listening.
    #[arg(long)]
    pub flight_port_file: Option<PathBuf>,
    /// Hive Metastore Thrift listen address (e.g. 127.0.0.1:9083; default off).
    #[arg(long)]
    pub hms_listen: Option<String>,
    /// Write the bound metastore port to this file once listening.
    #[arg(long)]
    pub hms_port_file: Option<PathBuf>,
}

impl ServeArgs {
    fn apply(&self, pg: &mut PgFileConfig) {
        if let Some(v) = &self.pg_listen {
            pg.listen = Some(v.clone());
        }
        if self.tls_cert.is_some() {
            pg.tls_cert = self.tls_cert.clone();
            pg.tls_key = self.tls_key.clone();
        }
        pg.tls_required |= self.tls_required;
        if let Some(a) = &self.auth {
            pg.auth = Some(a.clone());
        }
    }
}

pub async fn serve(
    tarn: &Tarn,
    data_dir: &Path,
    (pg, flight, hms): (&PgFileConfig, &FlightFileConfig, &HmsFileConfig),
    args: &ServeArgs,
) -> ExitCode {
    if args.demo && super::demo(tarn, data_dir, 0.01).await != ExitCode::SUCCESS {
        return ExitCode::FAILURE;
    }
    let mut pg = pg.clone();
    args.apply(&mut pg);
    let config = match tarn::serve::pg_config(&pg) {
        Ok(c) => c,
        Err(e) => {
            super::print_error(&e);
            return ExitCode::FAILURE;
        }
    };
    match tarn::serve::bootstrap_admin(tarn, &pg).await {
        Ok(Some((user, password))) => eprintln!(
            "created superuser \"{user}\" with password: {password}\n(shown once; change it with `tarn user passwd {user}`)"
        ),
        Ok(None) => {}
        Err(e) => {
            super::print_error(&e);
            return ExitCode::FAILURE;
        }
    }
    let mut flight = flight.clone();
    if let Some(listen) = &args.flight_listen {
        flight.listen = Some(listen.clone());
    }
    let flight_config = match tarn::serve::flight_config(&flight, &config) {
        Ok(c) => c,
        Err(e) => {
            super::print_error(&e);
            return ExitCode::FAILURE;
        }
    };
    let database = config.database.clone();
    let flight_server = match flight_config {
        Some(c) => match FlightServer::bind(tarn.engine().clone(), c).await {
            Ok(s) => {
                // Written before the pg port file, which scripts wait for.
                if let Some(path) = &args.flight_port_file
                    && let Err(e) = std::fs::write(path, s.local_addr().port().to_string())
                {
                    eprintln!("error: cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
                Some(s)
            }
            Err(e) => {
                eprintln!(
                    "error: {e}\n(the Arrow Flight SQL listener; choose another address with \
                     --flight-listen HOST:PORT or turn it off with --flight-listen off)"
                );
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let hms_server = match bind_hms(tarn, hms, &config, args).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let server = match PgServer::bind(tarn.engine().clone(), config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = server.local_addr();
    if let Some(path) = &args.port_file
        && let Err(e) = std::fs::write(path, addr.port().to_string())
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    eprintln!(
        "tarn is listening for Postgres clients on {addr} (psql -h {} -p {} -U <user> {database})",
        addr.ip(),
        addr.port()
    );
    let flight_task = match flight_server {
        Some(flight) => {
            eprintln!(
                "tarn is listening for Arrow Flight SQL clients on {}",
                flight.uri()
            );
            Some(tokio::spawn(flight.serve(shutdown_signal())))
        }
        None => None,
    };
    let hms_task = hms_server.map(|hms| {
        eprintln!(
            "tarn is serving the Hive Metastore API on thrift://{}",
            hms.local_addr()
        );
        tokio::spawn(hms.serve(shutdown_signal()))
    });
    server.serve(shutdown_signal()).await;
    if let Some(task) = hms_task {
        let _ = task.await;
    }
    if let Some(task) = flight_task {
        let _ = task.await;
    }
    eprintln!("tarn stopped");
    ExitCode::SUCCESS
}

/// The metastore listener, when configured; its port file is written before the pg one.
async fn bind_hms(
    tarn: &Tarn,
    hms: &HmsFileConfig,
    pg: &tarn::server::PgConfig,
    args: &ServeArgs,
) -> Result<Option<HmsServer>, ExitCode> {
    let mut hms = hms.clone();
    if let Some(listen) = &args.hms_listen {
        hms.listen = Some(listen.clone());
    }
    let config = match tarn::serve::hms_config(&hms, pg) {
        Ok(Some(c)) => c,
        Ok(None) => return Ok(None),
        Err(e) => {
            super::print_error(&e);
            return Err(ExitCode::FAILURE);
        }
    };
    let server = HmsServer::bind(tarn.engine().clone(), config)
        .await
        .map_err(|e| {
            eprintln!("error: {e}\n(the Hive Metastore listener; choose another address with --hms-listen)");
            ExitCode::FAILURE
        })?;
    if let Some(path) = &args.hms_port_file
        && let Err(e) = std::fs::write(path, server.local_addr().port().to_string())
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return Err(ExitCode::FAILURE);
    }
    Ok(Some(server))
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

#[derive(clap::Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user. The password comes from stdin (one line) with --password-stdin,
    /// else TARN_PASSWORD, else one is generated and printed.
    Add {
        name: String,
        #[arg(long)]
        superuser: bool,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password (same sources as `add`).
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Remove a user.
    Drop { name: String },
}

fn read_password(from_stdin: bool) -> Result<(String, bool), String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password: {e}"))?;
        let password = line.trim_end_matches(['\r', '\n']).to_string();
        if password.is_empty() {
            return Err("empty passwords are not allowed".into());
        }
        return Ok((password, false));
    }
    match std::env::var("TARN_PASSWORD") {
        Ok(p) if !p.is_empty() => Ok((p, false)),
        _ => tarn::serve::generate_password()
            .map(|p| (p, true))
            .map_err(|e| e.to_string()),
    }
}

pub async fn user(tarn: &Tarn, command: UserCommand) -> ExitCode {
    use tarn::sql::{Statement, UserOption};
    // Roles are administered by the engine's statements, as over SQL, by a local superuser.
    let session = tarn.engine().session("tarn");
    let run = |statement: Statement| {
        let session = &session;
        async move {
            session
                .execute(statement)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    };
    let result: Result<(), String> = async {
        match command {
            UserCommand::Add {
                name,
                superuser,
                password_stdin,
            } => {
                let (password, generated) = read_password(password_stdin)?;
                run(Statement::CreateUser {
                    name: name.clone(),
                    if_not_exists: false,
                    options: vec![
                        UserOption::Password(Some(password.clone())),
                        UserOption::Superuser(superuser),
                    ],
                    login_by_default: true,
                })
                .await?;
                if generated {
                    println!("password for \"{name}\": {password}");
                }
            }
            UserCommand::Passwd {
                name,
                password_stdin,
            } => {
                let (password, generated) = read_password(password_stdin)?;
                run(Statement::AlterUser {
                    name: name.clone(),
                    options: vec![UserOption::Password(Some(password.clone()))],
                })
                .await?;
                if generated {
                    println!("password for \"{name}\": {password}");
                }
            }
            UserCommand::List => {
                for u in tarn.engine().roles().await.map_err(|e| e.to_string())? {
                    let mut attributes = Vec::new();
                    if u.superuser {
                        attributes.push("superuser");
                    }
                    if !u.can_login {
                        attributes.push("cannot login");
                    }
                    println!("{}\t{}", u.name, attributes.join(", "));
                }
            }
            UserCommand::Drop { name } => {
                run(Statement::DropUser {
                    name,
                    if_exists: false,
                })
                .await?;
            }
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
