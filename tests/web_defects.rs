//! The web server under hostile use, through the real binary: a web config with a bcrypt cost
//! too high to check, a flood of wrong passwords, a web config swapped for a FIFO, timing that
//! would tell known users from unknown ones, and SIGTERM while a slow client reads a large
//! `/metrics`. Timeouts here are hang guards, never performance assertions; the timings are in
//! docs/performance.md.

#![allow(clippy::unwrap_used)]

mod common;

use common::sim::{self, DEMO_TENANT};
use common::{config_text, quick_hash, Exporter, TempDir, PASSWORD};
use intune_graph_simulator::Scenario;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Long enough for anything to answer on a loaded machine; only a hang reaches it.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// A well-formed hash with the given cost, made at cost 4 and relabelled: checking it would
/// take as long as its cost says (hours at 31), while making it takes nothing.
fn costly_hash(cost: u32) -> String {
    quick_hash("anything").replacen("$04$", &format!("${cost:02}$"), 1)
}

/// A folder holding `web.yml`.
fn web_dir(name: &str, text: &str) -> (TempDir, String) {
    let dir = TempDir::new(name);
    let path = dir.0.join("web.yml");
    std::fs::write(&path, text).unwrap();
    let path = path.to_string_lossy().into_owned();
    (dir, path)
}

/// A client that opens a new connection for every request, as the exporter reads a changed web
/// config when a connection opens.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(HANG_GUARD)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// Waits until the exporter's log has a line containing every one of `parts`, and returns it.
fn log_line(exporter: &Exporter, parts: &[&str]) -> String {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        let log = exporter.log();
        if let Some(line) = log.lines().find(|l| parts.iter().all(|p| l.contains(p))) {
            return line.to_string();
        }
        assert!(Instant::now() < deadline, "no line with {parts:?}:\n{log}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs the binary to its end, killing it (and failing) if it outlives the hang guard.
fn run_to_end(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_intune-exporter"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + HANG_GUARD;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} did not end");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.code(), stderr)
}

fn too_costly(user: &str, cost: u32, time: &str) -> String {
    format!(
        "basic_auth_users.{user}: bcrypt cost {cost} is above 12, the highest accepted: one \
         check at cost {cost} takes about {time} of CPU, and every new scrape would wait for \
         it; make the hash with cost 10 to 12: `htpasswd -nBC 10 \"\" | tr -d ':\\n'`"
    )
}

#[test]
fn config_check_and_start_refuse_a_hash_too_costly_to_check_at_once() {
    let (_dir, web) = web_dir(
        "web-costly-check",
        &format!(
            "basic_auth_users:\n  prometheus: {}\n  alice: {}\n",
            quick_hash(PASSWORD),
            costly_hash(31)
        ),
    );
    let config = common::root().join("tests/fixtures/config/valid/multi_tenant.yaml");
    let check = [
        "--config.check",
        "--config.file",
        config.to_str().unwrap(),
        "--web.config.file",
        &web,
    ];
    // Starting with it fails the same way, before listening.
    let start = [
        "--demo",
        "--web.listen-address",
        "127.0.0.1:0",
        "--web.config.file",
        &web,
    ];
    for args in [&check, &start] {
        let (code, stderr) = run_to_end(args);
        assert_eq!(code, Some(2), "{stderr}");
        assert_eq!(
            stderr.lines().last().unwrap(),
            format!("{web}: {}", too_costly("alice", 31, "41 hours"))
        );
    }
}

#[tokio::test]
async fn a_costly_hash_added_while_serving_is_refused_and_scrapes_go_on() {
    let users = format!(
        "basic_auth_users:\n  prometheus: {}\n",
        quick_hash(PASSWORD)
    );
    let (_dir, web) = web_dir("web-costly-live", &users);
    let exporter = Exporter::start(&[
        "--demo",
        "--web.config.file",
        &web,
        "--web.enable-lifecycle",
    ]);
    let client = client();
    let get = |path: &str| {
        client
            .get(exporter.url(path))
            .basic_auth("prometheus", Some(PASSWORD))
            .send()
    };
    assert_eq!(get("/-/healthy").await.unwrap().status(), 200);

    // A user with cost 17 (seconds per check) added while serving: the next connection reads
    // the change, refuses it, and is served with the configuration in force.
    std::fs::write(&web, format!("{users}  alice: {}\n", costly_hash(17))).unwrap();
    let healthy = get("/-/healthy").await.unwrap();
    assert_eq!(healthy.status(), 200);
    assert_eq!(healthy.text().await.unwrap(), "Healthy.\n");
    let metrics = get("/metrics").await.unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(metrics
        .text()
        .await
        .unwrap()
        .contains("\nintune_exporter_build_info{"));
    log_line(
        &exporter,
        &[
            "the changed web config is refused",
            "basic_auth_users.alice: bcrypt cost 17 is above 12, the highest accepted: one \
             check at cost 17 takes about 9 s of CPU",
        ],
    );
    // A reload refuses it too, saying why.
    let reload = client
        .post(exporter.url("/-/reload"))
        .basic_auth("prometheus", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(reload.status(), 500);
    assert!(reload
        .text()
        .await
        .unwrap()
        .contains(&format!("{web}: {}", too_costly("alice", 17, "9 s"))));
    // The user it would have added is not let in; the old one still is.
    let alice = client
        .get(exporter.url("/-/healthy"))
        .basic_auth("alice", Some("anything"))
        .send()
        .await
        .unwrap();
    assert_eq!(alice.status(), 401);
    // (Health, not readiness: whether the first polls are done yet depends on the machine.)
    assert_eq!(get("/-/healthy").await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_flood_of_wrong_passwords_leaves_scrapes_their_answers() {
    const ATTACKERS: usize = 600;
    const TRIES: usize = 5;
    let (_dir, web) = web_dir(
        "web-flood",
        &format!(
            "basic_auth_users:\n  prometheus: {}\n  grafana: {}\n",
            quick_hash(PASSWORD),
            quick_hash("grafana's own")
        ),
    );
    // 600 attackers against the default 512 connections.
    let exporter = Exporter::start(&["--demo", "--web.config.file", &web]);
    let client = client();
    // Prometheus scraped once before: its password is remembered.
    let first = client
        .get(exporter.url("/metrics"))
        .basic_auth("prometheus", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);

    let stop = Arc::new(AtomicBool::new(false));
    let statuses: Arc<std::sync::Mutex<Vec<u16>>> = Arc::default();
    let started = Arc::new(AtomicUsize::new(0));
    let mut attackers = Vec::new();
    // One pool: with 600 requests in flight, 600 connections.
    let attacker = reqwest::Client::builder()
        .timeout(HANG_GUARD)
        .build()
        .unwrap();
    for i in 0..ATTACKERS {
        let (stop, statuses, started) = (stop.clone(), statuses.clone(), started.clone());
        let url = exporter.url("/metrics");
        let attacker = attacker.clone();
        attackers.push(tokio::spawn(async move {
            started.fetch_add(1, Ordering::Relaxed);
            for n in 0..TRIES {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let r = attacker
                    .get(&url)
                    .basic_auth("prometheus", Some(format!("guess {i} {n}")))
                    .send()
                    .await;
                if let Ok(r) = r {
                    statuses.lock().unwrap().push(r.status().as_u16());
                }
            }
        }));
    }
    while started.load(Ordering::Relaxed) < ATTACKERS {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    // During the flood: the remembered scrape, and a client at another address whose password
    // still needs a check.
    let at = Instant::now();
    let scrape = client
        .get(exporter.url("/metrics"))
        .basic_auth("prometheus", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    let remembered = at.elapsed();
    assert_eq!(scrape.status(), 200);
    assert!(scrape
        .text()
        .await
        .unwrap()
        .contains("\nintune_exporter_build_info{"));
    let other = reqwest::Client::builder()
        .timeout(HANG_GUARD)
        .pool_max_idle_per_host(0)
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let at = Instant::now();
    let checked = other
        .get(exporter.url("/-/healthy"))
        .basic_auth("grafana", Some("grafana's own"))
        .send()
        .await
        .unwrap();
    let fresh = at.elapsed();
    assert_eq!(checked.status(), 200);
    stop.store(true, Ordering::Relaxed);
    for a in attackers {
        a.await.unwrap();
    }
    let statuses = statuses.lock().unwrap().clone();
    println!(
        "during {ATTACKERS} wrong-password clients: remembered scrape {remembered:?}, \
         a password checked from another address {fresh:?}; {} answers to the flood",
        statuses.len()
    );
    // Every guess was refused: checked (401), or, past the budget of one client, at once (429).
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&429),
        "no guess was turned away unchecked"
    );
    assert!(statuses.contains(&401), "no guess was checked");
}

#[tokio::test]
async fn unknown_users_and_wrong_passwords_run_the_same_checks() {
    // Two users with different costs: an unknown user must cost what a known one does.
    let (_dir, web) = web_dir(
        "web-timing",
        &format!(
            "basic_auth_users:\n  alice: {}\n  bob: {}\n",
            quick_hash(PASSWORD),
            bcrypt::hash("bob's", 5).unwrap()
        ),
    );
    let exporter = Exporter::start(&["--demo", "--web.config.file", &web, "--log.level", "debug"]);
    let client = client();
    for (user, password) in [
        ("alice", "wrong"),
        ("mallory", "wrong"),
        ("bob", "wrong"),
        ("alice", PASSWORD),
        ("bob", "bob's"),
    ] {
        let r = client
            .get(exporter.url("/-/healthy"))
            .basic_auth(user, Some(password))
            .send()
            .await
            .unwrap();
        let right = password == PASSWORD || password == "bob's";
        assert_eq!(r.status(), if right { 200 } else { 401 }, "{user}");
    }
    let log = exporter.log();
    let refusals: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("message=\"basic auth refused\""))
        .map(|l| {
            l.split_whitespace()
                .find(|kv| kv.starts_with("bcrypt_costs="))
                .unwrap_or("")
        })
        .collect();
    // One bcrypt at each cost in the file, whoever asks.
    assert_eq!(
        refusals,
        ["bcrypt_costs=4,5", "bcrypt_costs=4,5", "bcrypt_costs=4,5"],
        "{log}"
    );
}

/// Sends `GET path` on a new connection and returns the response head.
fn raw_get(addr: &str, path: &str) -> std::io::Result<String> {
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(HANG_GUARD))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

#[cfg(unix)]
#[test]
fn a_web_config_swapped_for_a_fifo_does_not_hang_the_server() {
    let (dir, web) = web_dir(
        "web-fifo",
        "http_server_config:\n  headers:\n    X-Frame-Options: deny\n",
    );
    // Three copies, so that each time a file is swapped in it differs from the one in force
    // and is read again.
    let regular: Vec<PathBuf> = (0..3)
        .map(|i| {
            let copy = dir.0.join(format!("regular-{i}.yml"));
            std::fs::copy(&web, &copy).unwrap();
            copy
        })
        .collect();
    let fifo = dir.0.join("fifo.yml");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let exporter = Exporter::start(&["--demo", "--web.config.file", &web]);

    // The web config path flips between the file and the FIFO (a symlink replaced atomically)
    // while connections make the exporter look at it and read it: sooner or later the FIFO is
    // swapped in between its look and its open.
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, dir) = (stop.clone(), dir.0.clone());
        let web = PathBuf::from(&web);
        std::thread::spawn(move || {
            let link = dir.join("next");
            let mut flips = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let target = if flips % 2 == 0 {
                    &fifo
                } else {
                    &regular[(flips / 2 % 3) as usize]
                };
                let _ = std::fs::remove_file(&link);
                std::os::unix::fs::symlink(target, &link).unwrap();
                std::fs::rename(&link, &web).unwrap();
                flips += 1;
            }
            std::fs::remove_file(&web).unwrap();
            flips
        })
    };
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut answers = 0;
    while Instant::now() < deadline {
        let head = raw_get(&exporter.addr, "/-/healthy").unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        answers += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let flips = swapper.join().unwrap();
    println!("{answers} answers while the web config flipped {flips} times");
    assert!(exporter.log().contains("not a regular file but a FIFO"));

    // A real change afterwards is read and put in force: nothing is stuck on the FIFO.
    std::fs::write(
        &web,
        "http_server_config:\n  headers:\n    X-Frame-Options: sameorigin\n",
    )
    .unwrap();
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        let head = raw_get(&exporter.addr, "/-/healthy").unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        if head.contains("x-frame-options: sameorigin\r\n") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new web config never came into force:\n{}",
            exporter.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

const PARTNER: &str = "f0000000-0000-4000-8000-000000000000";

#[tokio::test]
async fn sigterm_lets_a_slow_reader_finish_a_large_scrape_and_exits_0() {
    // The demo tenant and 120 tenants generated from it, found through the partner's GDAP
    // customers: a /metrics body of several megabytes, more than the kernel buffers hold.
    let scenario = format!(
        "{}fleets:\n  - count: 120\n    template: {DEMO_TENANT}\n    latency: 0s\n    \
         partner: {PARTNER}\n",
        sim::demo_and_partner(PARTNER, "    page_size: 300\n")
    );
    let (sim, dir) =
        sim::start_with_dir(Scenario::from_yaml(&scenario).unwrap(), "web-drain").await;
    std::fs::write(
        dir.0.join("config.yml"),
        format!(
            "{}poll:\n  startup_spread: 1s\n{}{}",
            config_text::graph(sim.base_url()),
            config_text::demo_app_defaults(),
            config_text::gdap(PARTNER)
        ),
    )
    .unwrap();
    let mut exporter =
        Exporter::start(&["--config.file", dir.0.join("config.yml").to_str().unwrap()]);
    exporter.wait_ready().await;
    let addr = exporter.addr.clone();

    // A client with a small receive buffer asks for /metrics and reads only the head.
    let stream = {
        use socket2::{Domain, Socket, Type};
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        socket.set_recv_buffer_size(16 << 10).unwrap();
        socket
            .connect(&addr.parse::<std::net::SocketAddr>().unwrap().into())
            .unwrap();
        std::net::TcpStream::from(socket)
    };
    let mut stream = stream;
    stream.set_read_timeout(Some(HANG_GUARD)).unwrap();
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(length > 4 << 20, "only {length} bytes");

    // SIGTERM with most of the body unread; the process must not end meanwhile.
    exporter.signal("TERM");
    std::thread::sleep(Duration::from_millis(500));
    assert!(exporter.running(), "exited with the answer half sent");
    // No new connection is taken once shutdown has begun.
    assert!(raw_get(&addr, "/-/healthy").is_err());
    // Read the rest slowly: 64 KiB every 5 ms, well within the 10 s grace.
    let started = Instant::now();
    let mut body = Vec::with_capacity(length);
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = stream.read(&mut chunk).unwrap();
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
        std::thread::sleep(Duration::from_millis(5));
    }
    println!(
        "read {} of {length} bytes in {:?} after SIGTERM",
        body.len(),
        started.elapsed()
    );
    assert_eq!(body.len(), length);
    let text = String::from_utf8(body).unwrap();
    assert!(text.ends_with('\n'));
    assert!(text.contains("\nintune_exporter_build_info{"));
    let status = exporter.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", exporter.log());
    assert!(exporter.log().contains("message=stopped"));
    sim.shutdown().await;
}
