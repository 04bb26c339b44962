//! A webhook receiver for tests: records every delivery and answers with
//! scripted replies (then 200 `{"errcode":0}` once the script runs out).

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

#[derive(Clone, Debug)]
pub struct Received {
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
    /// The body byte for byte, as signed.
    pub raw: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Shared {
    received: Vec<Received>,
    script: VecDeque<(u16, String)>,
    /// How long to sit on each delivery before answering.
    stall: std::time::Duration,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    shared: Arc<Mutex<Shared>>,
}

impl Receiver {
    pub async fn start() -> Self {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let state = shared.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(state.clone()))
                .default_service(web::to(handle))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .expect("bind receiver");
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            shared,
        }
    }

    /// Answers the next deliveries with these (status, body) pairs.
    pub fn script(&self, replies: &[(u16, &str)]) {
        let mut shared = self.shared.lock().unwrap();
        shared
            .script
            .extend(replies.iter().map(|(s, b)| (*s, b.to_string())));
    }

    /// Drops the replies not yet used: from now on every delivery succeeds
    /// at once.
    pub fn heal(&self) {
        let mut shared = self.shared.lock().unwrap();
        shared.script.clear();
        shared.stall = std::time::Duration::ZERO;
    }

    /// Holds each delivery this long before answering.
    pub fn stall(&self, duration: std::time::Duration) {
        self.shared.lock().unwrap().stall = duration;
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().unwrap().received.clone()
    }

    /// Waits until at least `n` deliveries arrived (or the time is up).
    pub async fn wait_for(&self, n: usize, seconds: u64) -> Vec<Received> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        loop {
            let got = self.received();
            if got.len() >= n || std::time::Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<Mutex<Shared>>>,
) -> HttpResponse {
    let stall = state.lock().unwrap().stall;
    if !stall.is_zero() {
        tokio::time::sleep(stall).await;
    }
    let mut shared = state.lock().unwrap();
    shared.received.push(Received {
        path_and_query: req.uri().to_string(),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        raw: body.to_vec(),
    });
    let (status, reply) = shared
        .script
        .pop_front()
        .unwrap_or((200, "{\"errcode\":0,\"code\":0}".into()));
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .content_type("application/json")
        .body(reply)
}
