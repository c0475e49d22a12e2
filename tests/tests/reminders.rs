//! The plan reaches people, through the real `kring` binary and a real relay: a new
//! ride is news to the others after they sync, those who can take it are asked in
//! their reminders (and only they), and once Jan took it he is reminded of his turn
//! the evening before and shortly before — while nobody's text says who did not help.

use std::path::{Path, PathBuf};

use kring_e2e::{create_sannes_circle, json, run, stdout, RelayProcess};
use kring_plan::plan::recurrence::{civil, CivilStart};
use kring_trust::Timestamp;
use serde_json::Value;

const ZONE: &str = "Europe/Amsterdam";
const RIDE: &str = "Naar de schuldhulp rijden";

/// The local date `days` from now in Amsterdam, as `YYYY-MM-DD`.
fn date_in(days: i64) -> String {
    civil(Timestamp::now().plus_days(days), ZONE)
        .format("%Y-%m-%d")
        .to_string()
}

/// The instant of `date` at `time` in Amsterdam (milliseconds, as the JSON has them).
fn at(date: &str, time: &str) -> i64 {
    CivilStart::parse(&format!("{date}T{time}"))
        .and_then(|c| c.instant(ZONE))
        .expect("a time")
        .0
}

fn kinds_about(reminders: &Value, task: &str) -> Vec<(String, i64)> {
    reminders
        .as_array()
        .expect("reminders")
        .iter()
        .filter(|r| r["task"] == task)
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or("").to_owned(),
                r["at"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

fn texts(news: &Value) -> Vec<String> {
    news.as_array()
        .expect("news")
        .iter()
        .filter_map(|n| n["text"].as_str().map(str::to_owned))
        .collect()
}

fn person(root: &Path, name: &str) -> PathBuf {
    root.join(name.to_lowercase())
}

#[test]
fn a_new_ride_is_news_is_asked_of_those_who_can_take_it_and_reminded_to_whoever_took_it() {
    let root = tempfile::tempdir().expect("tempdir");
    let relay = RelayProcess::start(&root.path().join("relay.db"));
    let (sanne, jan, piet, lies) = (
        person(root.path(), "Sanne"),
        person(root.path(), "Jan"),
        person(root.path(), "Piet"),
        person(root.path(), "Lies"),
    );
    create_sannes_circle(
        &sanne,
        &["--lang", "nl", "--timezone", ZONE, "--relay", &relay.url()],
    );
    run(&sanne, &["sync"]);
    for (dir, name) in [(&jan, "Jan"), (&piet, "Piet")] {
        let link = stdout(&sanne, &["invite"]);
        run(dir, &["join", &link, "--name", name]);
    }
    let link = stdout(&sanne, &["invite", "--capability", "reader"]);
    run(&lies, &["join", &link, "--name", "Lies"]);
    for dir in [&sanne, &jan, &piet, &lies] {
        run(dir, &["sync"]);
        // The first look starts the news from here.
        json(dir, &["news"]);
    }

    // Three days from now, at 14:00 in Amsterdam.
    let day = date_in(3);
    let when = format!("{day} 14:00");
    run(
        &sanne,
        &["task", "add", RIDE, "--due", &when, "--slots", "1"],
    );
    let ride = json(&sanne, &["task", "list"])[0]["id"]
        .as_str()
        .expect("task id")
        .to_owned();
    run(&sanne, &["sync"]);
    for dir in [&jan, &piet, &lies] {
        run(dir, &["sync"]);
    }

    // After the sync, the new ride is news to Jan and Piet, who can take it…
    for dir in [&jan, &piet] {
        let news = texts(&json(dir, &["news"]));
        assert_eq!(news.len(), 1, "{news:?}");
        assert!(
            news[0].starts_with(&format!("Nieuw in het plan: {RIDE},")),
            "{news:?}"
        );
        assert!(news[0].ends_with("Er is nog iemand nodig."), "{news:?}");
        // …and it was seen: asking again tells nothing new.
        assert!(texts(&json(dir, &["news"])).is_empty());
    }
    // …not to Lies, who reads along, nor to Sanne, who added it.
    assert!(texts(&json(&lies, &["news"])).is_empty());
    assert!(texts(&json(&sanne, &["news"])).is_empty());

    // Jan is asked at 10:00 on each of the three days up to the ride; Lies is not.
    let nudges: Vec<(String, i64)> = (1..=3)
        .map(|d| ("needs_people".to_owned(), at(&date_in(d), "10:00")))
        .collect();
    assert_eq!(kinds_about(&json(&jan, &["reminders"]), &ride), nudges);
    assert!(kinds_about(&json(&lies, &["reminders"]), &ride).is_empty());
    assert!(kinds_about(&json(&sanne, &["reminders"]), &ride).is_empty());

    // Jan takes it. He is reminded the evening before at 19:00 and at 13:00; nobody
    // is asked any more; Piet and Sanne hear that Jan does it.
    run(&jan, &["task", "claim", &ride]);
    run(&jan, &["sync"]);
    for dir in [&piet, &sanne] {
        run(dir, &["sync"]);
    }
    assert_eq!(
        kinds_about(&json(&jan, &["reminders"]), &ride),
        [
            ("turn_tomorrow".to_owned(), at(&date_in(2), "19:00")),
            ("turn_soon".to_owned(), at(&day, "13:00")),
        ]
    );
    let said = stdout(&jan, &["reminders"]);
    assert!(
        said.contains(&format!("Morgen om 14.00 uur: {RIDE}. Jij doet dit.")),
        "{said}"
    );
    // `--lang en` reaches what the device writes, in a Dutch circle too.
    let said = stdout(&jan, &["--lang", "en", "reminders"]);
    assert!(
        said.contains(&format!("Tomorrow at 14:00: {RIDE}. You are doing this.")),
        "{said}"
    );
    assert!(!said.contains("Jij doet"), "{said}");
    assert!(kinds_about(&json(&piet, &["reminders"]), &ride).is_empty());
    let news = texts(&json(&piet, &["--lang", "en", "news"]));
    assert_eq!(news.len(), 1, "{news:?}");
    assert!(
        news[0].starts_with(&format!("Jan is doing {RIDE} on ")),
        "{news:?}"
    );
    let news = texts(&json(&sanne, &["news"]));
    assert_eq!(news.len(), 1, "{news:?}");
    assert!(
        news[0].starts_with(&format!("Jan doet {RIDE} op ")),
        "{news:?}"
    );

    // Muting the circle on Jan's device silences his reminders and nobody else's.
    run(&jan, &["reminders", "set", "--mute", "on"]);
    assert_eq!(json(&jan, &["reminders"]), Value::Array(vec![]));
    let shown = stdout(&jan, &["reminders"]);
    assert!(shown.starts_with("Geen herinneringen"), "{shown}");
}
