//! tarn as a library: open a data dir, run SQL, get Arrow record batches or a stream.
//! Run with `cargo run --example embedded`.

#[tokio::main]
async fn main() -> Result<(), tarn::Error> {
    let tarn = tarn::Tarn::open_dir("./tarn-data")?;
    let session = tarn.session("example");
    session
        .query("CREATE DATABASE IF NOT EXISTS web COMMENT 'clickstream'")
        .await?;
    let batches = session.query("SHOW DATABASES").await?;
    println!("{}", tarn::pretty(&batches)?);
    if let tarn::Output::Stream(stream) = session.query_stream("SELECT 41 + 1 AS answer").await? {
        println!("{}", tarn::pretty(&tarn::collect(stream).await?)?);
    }
    Ok(())
}
