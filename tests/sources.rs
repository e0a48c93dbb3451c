//! Golden tests per source: fixture JSON -> decoded data -> families at a fixed `now` -> exact
//! exposition text, compared with `tests/golden/sources/<source>/<fixture>.prom`.
//!
//! Fixtures live in `tests/fixtures/graph/<source>/`: `*.json` is one response body,
//! `*.pages.json` an array of collection pages (as `@odata.nextLink` would chain them), and
//! `*.404` stands for Graph answering 404. Every fixture folder must belong to a source, and
//! every source must have fixtures.
//!
//! Tolerance is tested twice: a sweep over every fixture that makes each property in turn null,
//! absent or of another JSON type ([`every_property_may_be_null_absent_or_odd`]), and a
//! property test that feeds arbitrary JSON to every source's decoder
//! ([`decoders_take_any_json`]).

#![allow(clippy::unwrap_used)]

mod common;

use chrono::{DateTime, TimeZone, Utc};
use intune_exporter::graph::odata::{unwrap_singleton, Raw, Shape};
use intune_exporter::health::Thresholds;
use intune_exporter::sources::{Context, Horizon, Options, Source, SourceData};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const TENANT: &str = "4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
}

fn raw_from_fixture(source: Source, file: &std::path::Path) -> Raw {
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    if name.ends_with(".404") {
        return match source.request().shape {
            Shape::Entity => Raw::Entity(None),
            Shape::Collection => panic!("{name}: a collection never answers 404"),
        };
    }
    raw_from_bodies(source, &fixture_bodies(file)).unwrap()
}

/// The response bodies of a `.json` (one) or `.pages.json` (one per page) fixture.
fn fixture_bodies(file: &std::path::Path) -> Vec<Value> {
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    let text = std::fs::read_to_string(file).unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    if name.ends_with(".pages.json") {
        body.as_array()
            .expect("a .pages.json file holds an array of pages")
            .clone()
    } else {
        vec![body]
    }
}

/// What the Graph client would make of these bodies: an entity, or the items of every page.
fn raw_from_bodies(source: Source, bodies: &[Value]) -> Result<Raw, String> {
    let req = source.request();
    if req.shape == Shape::Entity {
        let [body] = bodies else {
            return Err("an entity has one body".to_string());
        };
        return Raw::from_body(Shape::Entity, req.path, body.clone()).map_err(|e| e.to_string());
    }
    let mut items = Vec::new();
    for page in bodies {
        match Raw::from_body(Shape::Collection, req.path, page.clone()) {
            Ok(Raw::Collection(v)) => items.extend(v),
            Ok(Raw::Entity(_)) => unreachable!(),
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(Raw::Collection(items))
}

/// The fixture files of a source.
fn fixtures(source: Source) -> Vec<std::path::PathBuf> {
    common::files_in(
        &common::root()
            .join("tests/fixtures/graph")
            .join(source.name()),
    )
}

/// The exposition of `data` at the fixed `now`, with the default thresholds and options.
fn render(data: &SourceData) -> String {
    let thresholds = Thresholds::default();
    let options = Options::default();
    let horizon = Horizon::new();
    let ctx = Context {
        tenant_id: TENANT,
        now: now(),
        thresholds: &thresholds,
        options: &options,
        horizon: &horizon,
    };
    data.families(&ctx).to_text()
}

fn case_name(file: &std::path::Path) -> String {
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    name.trim_end_matches(".json")
        .trim_end_matches(".pages")
        .trim_end_matches(".404")
        .to_string()
}

#[test]
fn every_fixture_matches_its_golden_file() {
    let mut checked = 0;
    for source in Source::ALL {
        let files = fixtures(source);
        assert!(
            files.len() >= 2,
            "{} needs fixtures (doc example + edge cases)",
            source.name()
        );
        for file in files {
            let data = source
                .decode(raw_from_fixture(source, &file))
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let text = render(&data);
            common::assert_golden(
                &format!(
                    "tests/golden/sources/{}/{}.prom",
                    source.name(),
                    case_name(&file)
                ),
                &text,
            );
            if !text.is_empty() {
                common::assert_promtool_clean(&text, &file.display().to_string());
            }
            checked += 1;
        }
    }
    // Every fixture directory belongs to a registered source (a renamed source leaves none
    // behind), and none was skipped.
    let dirs = common::root().join("tests/fixtures/graph");
    let mut listed = 0;
    for entry in std::fs::read_dir(&dirs).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        let source = Source::from_name(&name)
            .unwrap_or_else(|| panic!("tests/fixtures/graph/{name} is no registered source"));
        listed += fixtures(source).len();
    }
    assert_eq!(checked, listed);
}

/// Every source's data from every fixture renders without one series twice: Graph may list an
/// object twice, and Prometheus would drop one of two identical series.
#[test]
fn no_fixture_gives_a_series_twice() {
    let mut duplicated_ids = 0;
    for source in Source::ALL {
        for file in fixtures(source) {
            let data = source.decode(raw_from_fixture(source, &file)).unwrap();
            let text = render(&data);
            let mut seen = BTreeSet::new();
            for line in text.lines().filter(|l| !l.starts_with('#')) {
                let series = line.rsplit_once(' ').map_or(line, |(s, _)| s);
                assert!(seen.insert(series), "{}: {series} twice", file.display());
            }
            if has_duplicate_ids(source, &fixture_bodies_if_any(&file)) {
                duplicated_ids += 1;
            }
        }
    }
    // The fixtures that list an id twice: VPP tokens across two pages, Message center posts,
    // issues, service health, connectorStatus, licences and subscriptions.
    assert_eq!(duplicated_ids, 7);
}

fn fixture_bodies_if_any(file: &std::path::Path) -> Vec<Value> {
    if file.to_string_lossy().ends_with(".404") {
        Vec::new()
    } else {
        fixture_bodies(file)
    }
}

/// Whether the pages of a fixture list one id (for connectorStatus, one name and instance; for
/// licences, one SKU) twice.
fn has_duplicate_ids(source: Source, bodies: &[Value]) -> bool {
    let list = if source == Source::ConnectorStatus {
        "connectorStatus"
    } else {
        "value"
    };
    let items: Vec<&Value> = bodies
        .iter()
        .filter_map(|b| b[list].as_array())
        .flatten()
        .collect();
    let key = |v: &Value| match source {
        Source::ConnectorStatus => format!("{}/{}", v["connectorName"], v["connectorInstanceId"]),
        Source::SubscribedSkus => v["skuId"].to_string(),
        _ => v["id"].to_string(),
    };
    let mut seen = BTreeSet::new();
    !items.iter().all(|v| seen.insert(key(v)))
}

#[test]
fn every_fixture_folder_is_a_source() {
    let names: Vec<&str> = Source::ALL.iter().map(|s| s.name()).collect();
    for entry in std::fs::read_dir(common::root().join("tests/fixtures/graph")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        assert!(
            names.contains(&name.as_str()),
            "fixture folder {name} is no source"
        );
    }
}

#[test]
fn health_moves_with_the_scrape_time_not_the_poll_time() {
    // The same stored data scraped at different times: the certificate expires at
    // 2026-12-01T11:59:59Z, six days and 23:59:59 after the fixture's `now`.
    let source = Source::Apns;
    let file = common::root().join("tests/fixtures/graph/apns/unwrapped_expires_in_6_days.json");
    let data = source.decode(raw_from_fixture(source, &file)).unwrap();
    let thresholds = Thresholds::default();
    let options = Options::default();
    let status = |days: i64| {
        let horizon = Horizon::new();
        let ctx = Context {
            tenant_id: TENANT,
            now: now() + chrono::TimeDelta::days(days),
            thresholds: &thresholds,
            options: &options,
            horizon: &horizon,
        };
        let text = data.families(&ctx).to_text();
        let states = common::current_health(&text, &["apns"]);
        assert_eq!(states.len(), 1);
        states[0].clone()
    };
    assert_eq!(status(-2), "healthy");
    assert_eq!(status(0), "warning");
    // Six days later it expired one second ago.
    assert_eq!(status(6), "unhealthy");
}

/// Top-level properties of a collection page that the sweep leaves alone, with the reason.
/// Every property *inside* an object (the ones the sources read included) is swept.
const REQUIRED: &[(&str, &str)] = &[
    (
        "value",
        "the OData collection envelope: a page whose items are not an array is not a \
         collection, and reading it as empty would report every connector as not configured",
    ),
    (
        "@odata.nextLink",
        "a link of the wrong type cannot be followed, and dropping it would silently lose the \
         next pages (null and absence do pass: they mean the last page)",
    ),
];

/// One step from a JSON value to a part of it.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// The paths of every property (and every element of a nested array) of `v`. The items of
/// the collection envelope are walked into but not replaced themselves: an item that is not
/// an object is no Graph entity.
fn property_paths(v: &Value, path: &mut Vec<Step>, top: bool, out: &mut Vec<Vec<Step>>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                path.push(Step::Key(k.clone()));
                let required = top && REQUIRED.iter().any(|(name, _)| name == k);
                if !required {
                    out.push(path.clone());
                }
                let envelope = top && k == "value";
                if let (true, Value::Array(items)) = (envelope, child) {
                    for (i, item) in items.iter().enumerate() {
                        path.push(Step::Index(i));
                        property_paths(item, path, false, out);
                        path.pop();
                    }
                } else {
                    property_paths(child, path, false, out);
                }
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Step::Index(i));
                out.push(path.clone());
                property_paths(item, path, false, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// What a property may become: null, absent, or a value of every other JSON type.
fn mutations(original: &Value) -> Vec<Option<Value>> {
    let kind = |v: &Value| std::mem::discriminant(v);
    let mut out = vec![Some(Value::Null), None];
    for odd in [
        json!("odd"),
        json!(7),
        json!(2.5),
        json!(true),
        json!({"odd": 1}),
        json!(["odd"]),
    ] {
        if kind(&odd) != kind(original) || (original.is_number() && odd != *original) {
            out.push(Some(odd));
        }
    }
    out
}

/// Sets (`Some`) or removes (`None`) the value at `path`.
fn mutate(body: &mut Value, path: &[Step], to: Option<Value>) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut v = body;
    for step in parents {
        v = match step {
            Step::Key(k) => &mut v[k.as_str()],
            Step::Index(i) => &mut v[*i],
        };
    }
    match (last, to) {
        (Step::Key(k), Some(new)) => v[k.as_str()] = new,
        (Step::Key(k), None) => {
            if let Some(map) = v.as_object_mut() {
                map.remove(k);
            }
        }
        (Step::Index(i), Some(new)) => v[*i] = new,
        (Step::Index(i), None) => {
            if let Some(items) = v.as_array_mut() {
                items.remove(*i);
            }
        }
    }
}

fn value_at<'a>(body: &'a Value, path: &[Step]) -> &'a Value {
    path.iter().fold(body, |v, step| match step {
        Step::Key(k) => &v[k.as_str()],
        Step::Index(i) => &v[*i],
    })
}

/// The schema check: for every fixture, each property in turn is made null, removed, or given
/// another JSON type, and the source must still decode (the instance may become unknown, or
/// not configured) and render. Only the envelope properties in [`REQUIRED`] are exempt.
#[test]
fn every_property_may_be_null_absent_or_odd() {
    let mut tried = 0;
    let mut failures = Vec::new();
    for source in Source::ALL {
        for file in fixtures(source) {
            let bodies = fixture_bodies_if_any(&file);
            for page in 0..bodies.len() {
                let top = source.request().shape == Shape::Collection;
                // A singleton the documentation wraps in `value` is swept inside the wrapper.
                let mut paths = Vec::new();
                property_paths(&bodies[page], &mut Vec::new(), top, &mut paths);
                for path in paths {
                    for to in mutations(value_at(&bodies[page], &path)) {
                        let mut changed = bodies.clone();
                        mutate(&mut changed[page], &path, to.clone());
                        tried += 1;
                        let result = raw_from_bodies(source, &changed)
                            .and_then(|raw| source.decode(raw).map_err(|e| e.to_string()));
                        match result {
                            Ok(data) => {
                                render(&data);
                            }
                            Err(e) => failures.push(format!(
                                "{} page {page}, {path:?} -> {to:?}: {e}",
                                file.display()
                            )),
                        }
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(tried, 8463, "mutations tried");
}

/// The singleton wrapper of the documentation is transparent to decoding.
#[test]
fn wrapped_and_bare_singletons_decode_alike() {
    let file = common::root().join("tests/fixtures/graph/apns/doc_example_wrapped.json");
    let wrapped = fixture_bodies(&file).remove(0);
    let bare = unwrap_singleton(wrapped.clone());
    assert_ne!(wrapped, bare);
    let decode = |body: Value| {
        Source::Apns
            .decode(raw_from_bodies(Source::Apns, &[body]).unwrap())
            .unwrap()
    };
    assert_eq!(decode(wrapped), decode(bare));
}

/// Property names and values the arbitrary JSON is built from, so that it reaches the
/// decoders' fields and enum members, not only unknown keys.
fn known_keys() -> Vec<String> {
    let mut keys: BTreeSet<String> = Source::ALL
        .iter()
        .flat_map(|s| s.request().select.iter().map(|k| k.to_string()))
        .collect();
    for k in [
        "value",
        "@odata.nextLink",
        "enabled",
        "suspended",
        "warning",
        "lockedOut",
        "servicePlanId",
        "servicePlanName",
        "connectorName",
        "connectorInstanceId",
    ] {
        keys.insert(k.to_string());
    }
    keys.into_iter().collect()
}

const KNOWN_STRINGS: &[&str] = &[
    "",
    "2026-11-25T10:00:00Z",
    "2026-11-21T11:00:00.1234567-08:00",
    "0001-01-01T00:00:00Z",
    "Microsoft Intune",
    "failed",
    "error",
    "inactive",
    "notSetUp",
    "none",
    "connectionPending",
    "assignedToExternalMDM",
    "onboarded",
    "incident",
    "Advisory",
    "INTUNE_A",
    "c1ec4a95-1f05-45b3-a911-aa3fa01094f5",
    "fc780465-2017-40d4-a0c5-307022471b92",
    "vppTokenExpirationDateTime",
    "https://graph.microsoft.com/v1.0/next",
];

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let keys = known_keys();
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(KNOWN_STRINGS).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    let key = prop_oneof![prop::sample::select(keys), "\\PC{0,8}"];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..10)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A response body: anything, or a collection page of arbitrary objects (the shape most
/// likely to reach deep into a decoder).
fn arbitrary_body() -> impl Strategy<Value = Value> {
    prop_oneof![
        arbitrary_json(),
        prop::collection::vec(
            arbitrary_json().prop_map(|v| match v {
                Value::Object(_) => v,
                other => json!({ "id": "x", "state": other }),
            }),
            0..6
        )
        .prop_map(|items| json!({ "value": items })),
    ]
}

proptest! {
    // 256 cases per run by default (PROPTEST_CASES overrides it). A longer local pass,
    // PROPTEST_CASES=20000 (each case feeding the body to all 22 sources), found no failure.
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Arbitrary JSON never panics a decoder: every source gives data or an error that names
    /// its path, and every object (an entity, or a page whose items are all objects) decodes.
    #[test]
    fn decoders_take_any_json(body in arbitrary_body()) {
        for source in Source::ALL {
            let req = source.request();
            let all_objects = match req.shape {
                Shape::Entity => unwrap_singleton(body.clone()).is_object(),
                Shape::Collection => body["value"]
                    .as_array()
                    .is_some_and(|items| items.iter().all(Value::is_object))
                    && body.get("@odata.nextLink").is_none_or(|l| l.is_string() || l.is_null()),
            };
            let result = Raw::from_body(req.shape, req.path, body.clone())
                .and_then(|raw| source.decode(raw));
            match result {
                Ok(data) => {
                    render(&data);
                }
                Err(e) => {
                    prop_assert!(!all_objects, "{}: {e}", source.name());
                    prop_assert!(e.to_string().contains(req.path), "{}: {e}", source.name());
                }
            }
        }
    }
}
