//! Property tests over the parsers that read operator input: the config loader, the duration
//! parser and the web config parser. Whatever the text, they return a value or an error that
//! names the file or the input; they never panic.
//!
//! Each property runs 256 cases in the test command. A longer local pass ran
//! `PROPTEST_CASES=20000 cargo test --test web_fuzz` (20,000 cases per property, 100,000 in
//! all; 15 minutes on a busy two-core machine) without a failure.

#![allow(clippy::unwrap_used)]

use intune_duration as duration;
use intune_exporter::config::Config;
use intune_exporter::web::WebConfig;
use proptest::prelude::*;
use serde_yaml_ng::{Mapping, Value};
use std::path::Path;

/// A YAML value tree whose keys come from `keys`, so that generated documents reach deep into
/// the real structure instead of stopping at the first unknown key.
fn yaml_tree(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<f64>().prop_map(|n| Value::Number(n.into())),
        prop::sample::select(SCALARS).prop_map(|s| Value::String(s.to_string())),
        ".{0,12}".prop_map(Value::String),
    ];
    scalar.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Sequence),
            prop::collection::vec((prop::sample::select(keys), inner), 0..6).prop_map(|kv| {
                let mut m = Mapping::new();
                for (k, v) in kv {
                    m.insert(Value::String(k.to_string()), v);
                }
                Value::Mapping(m)
            }),
        ]
    })
}

const SCALARS: &[&str] = &[
    "5m",
    "1ms",
    "0",
    "1h30m",
    "https://graph.microsoft.com",
    "http://x",
    "usgov",
    "4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21",
    "/dev/zero",
    "/nonexistent",
    "TLS12",
    "TLS10",
    "RequireAndVerifyClientCert",
    "$2y$04$abc",
    "nosniff",
    "ps256",
];

const CONFIG_KEYS: &[&str] = &[
    "graph",
    "cloud",
    "graph_url",
    "authority_host",
    "ca_file",
    "request_timeout",
    "poll",
    "interval",
    "timeout",
    "health",
    "expiry_warning",
    "sync_warning",
    "sync_unhealthy",
    "sources",
    "messages",
    "enabled",
    "service_communications",
    "services",
    "message_center_latest",
    "tenants",
    "tenant_id",
    "auth",
    "client_id",
    "client_secret_file",
    "client_secret_env",
    "certificate_file",
    "pkcs12_file",
    "assertion",
    "workload_identity",
    "token_file",
    "managed_identity",
];

const WEB_KEYS: &[&str] = &[
    "tls_server_config",
    "cert_file",
    "key_file",
    "cert",
    "key",
    "client_auth_type",
    "client_ca_file",
    "client_allowed_sans",
    "min_version",
    "max_version",
    "cipher_suites",
    "curve_preferences",
    "prefer_server_cipher_suites",
    "http_server_config",
    "http2",
    "headers",
    "X-Frame-Options",
    "basic_auth_users",
    "alice",
    "rate_limit",
];

fn no_env(_: &str) -> Option<String> {
    None
}

proptest! {
    #[test]
    fn durations_parse_or_say_why(text in prop_oneof![
        ".{0,24}",
        "([0-9.]{0,25}(ms|s|m|h|d|w|y)?){0,4}",
    ]) {
        if let Err(e) = duration::parse(&text) {
            prop_assert!(e.to_string().starts_with("invalid duration "), "{e}");
        }
    }

    #[test]
    fn any_text_as_config_is_a_config_or_an_error_naming_the_file(text in ".{0,200}") {
        if let Err(e) = Config::parse_with_env(&text, Path::new("fuzz.yaml"), &no_env) {
            prop_assert!(e.to_string().starts_with("fuzz.yaml: "), "{e}");
        }
    }

    #[test]
    fn structured_configs_are_validated_without_panicking(tree in yaml_tree(CONFIG_KEYS)) {
        let text = serde_yaml_ng::to_string(&tree).unwrap();
        if let Err(e) = Config::parse_with_env(&text, Path::new("fuzz.yaml"), &no_env) {
            prop_assert!(e.to_string().starts_with("fuzz.yaml: "), "{e}");
        }
    }

    #[test]
    fn any_text_as_web_config_is_a_config_or_problems(text in ".{0,200}") {
        if let Err(problems) = WebConfig::parse(&text, Path::new("/nonexistent")) {
            prop_assert!(!problems.is_empty());
            prop_assert!(problems.iter().all(|p| !p.trim().is_empty()));
        }
    }

    #[test]
    fn structured_web_configs_are_validated_without_panicking(tree in yaml_tree(WEB_KEYS)) {
        let text = serde_yaml_ng::to_string(&tree).unwrap();
        if let Err(problems) = WebConfig::parse(&text, Path::new("/nonexistent")) {
            prop_assert!(!problems.is_empty());
            prop_assert!(problems.iter().all(|p| !p.trim().is_empty()));
        }
    }
}
