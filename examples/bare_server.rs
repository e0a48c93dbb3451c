//! The floor `scripts/bench` compares `/metrics` against: a bare hyper handler serving fixed
//! bytes from memory, the same bytes the exporter served (its gzip body to clients that accept
//! gzip, its plain body to the others), on the same runtime and server stack as the exporter.
//!
//! Usage: `bare_server LISTEN PLAIN_FILE GZIP_FILE`, e.g. `bare_server 127.0.0.1:0 m.txt m.gz`.
//! Prints the bound address on stdout, then serves until killed.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

struct Bodies {
    plain: Bytes,
    gzip: Bytes,
}

fn respond(bodies: &Bodies, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let gzip = request
        .headers()
        .get(ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("gzip"));
    let body = if gzip { &bodies.gzip } else { &bodies.plain };
    let mut response = Response::new(Full::new(body.clone()));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    if gzip {
        response
            .headers_mut()
            .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [listen, plain, gzip] = args.as_slice() else {
        return Err("usage: bare_server LISTEN PLAIN_FILE GZIP_FILE".into());
    };
    let bodies = Arc::new(Bodies {
        plain: Bytes::from(std::fs::read(plain)?),
        gzip: Bytes::from(std::fs::read(gzip)?),
    });
    let listener = TcpListener::bind(listen.as_str()).await?;
    println!("{}", listener.local_addr()?);
    let builder = auto::Builder::new(TokioExecutor::new());
    loop {
        let (stream, _) = listener.accept().await?;
        let bodies = Arc::clone(&bodies);
        let service = service_fn(move |request: Request<Incoming>| {
            let response = respond(&bodies, &request);
            async move { Ok::<_, Infallible>(response) }
        });
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        tokio::spawn(async move {
            // A client hanging up mid-response is no concern of a benchmark floor.
            let _ = connection.await;
        });
    }
}
