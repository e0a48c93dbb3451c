//! Golden tests per source: fixture JSON -> decoded data -> families at a fixed `now` -> exact
//! exposition text, compared with `tests/golden/sources/<source>/<fixture>.prom`.
//!
//! Fixtures live in `tests/fixtures/graph/<source>/`: `*.json` is one response body,
//! `*.pages.json` an array of collection pages (as `@odata.nextLink` would chain them), and
//! `*.404` stands for Graph answering 404. Every fixture folder must belong to a source, and
//! every source must have fixtures.

#![allow(clippy::unwrap_used)]

mod common;

use chrono::{DateTime, TimeZone, Utc};
use intune_exporter::graph::odata::{Raw, Shape};
use intune_exporter::health::Thresholds;
use intune_exporter::sources::{Context, Horizon, Options, Source};

const TENANT: &str = "4f1c7d55-2a8e-4c3b-9d61-0b5e8a7f3c21";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
}

fn raw_from_fixture(source: Source, file: &std::path::Path) -> Raw {
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    let req = source.request();
    if name.ends_with(".404") {
        return match req.shape {
            Shape::Entity => Raw::Entity(None),
            Shape::Collection => panic!("{name}: a collection never answers 404"),
        };
    }
    let text = std::fs::read_to_string(file).unwrap();
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    if name.ends_with(".pages.json") {
        let mut items = Vec::new();
        for page in body
            .as_array()
            .expect("a .pages.json file holds an array of pages")
        {
            match Raw::from_body(Shape::Collection, req.path, page.clone()).unwrap() {
                Raw::Collection(v) => items.extend(v),
                Raw::Entity(_) => unreachable!(),
            }
        }
        return Raw::Collection(items);
    }
    Raw::from_body(req.shape, req.path, body).unwrap()
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
    let mut checked = 0;
    for source in Source::ALL {
        let dir = common::root()
            .join("tests/fixtures/graph")
            .join(source.name());
        let files = common::files_in(&dir);
        assert!(
            files.len() >= 2,
            "{} needs fixtures (doc example + edge cases)",
            source.name()
        );
        for file in files {
            let data = source
                .decode(raw_from_fixture(source, &file))
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let text = data.families(&ctx).to_text();
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
    assert_eq!(checked, 55);
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
