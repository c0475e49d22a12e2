//! The JavaScript surface: [`Kring`] over [`WebDevice`], JSON out, typed errors out
//! as `{kind, code, message}` (the app words each kind itself, in the person's
//! language). Nothing is decided here.
//!
//! Requests go out as `{method, url, headers, body (base64), delay_ms}`; the app
//! carries each with `fetch` and hands back the status, `Retry-After` and body.

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use kring_plan::plan::{CircleId, Language, Relation};
use kring_trust::time::Timestamp;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::device::{Tab, WebDevice};
use crate::driver::{Answer, Next, Outgoing};
use crate::error::Error;

/// What the page gets when something fails.
#[derive(Serialize)]
struct Failure {
    kind: String,
    code: &'static str,
    status: u16,
    message: String,
}

fn failure(error: Error) -> JsValue {
    let class = error.class();
    let failure = Failure {
        kind: format!("{:?}", class.kind),
        code: class.code,
        status: class.status,
        message: error.to_string(),
    };
    JsValue::from_str(&serde_json::to_string(&failure).unwrap_or_default())
}

fn json(value: &impl Serialize) -> Result<String, JsValue> {
    serde_json::to_string(value).map_err(|e| failure(Error::CorruptState(e.to_string())))
}

fn circle_id(text: &str) -> Result<CircleId, JsValue> {
    CircleId::parse(text).map_err(|e| failure(e.into()))
}

/// The screen's language; Dutch unless it is English.
fn language(lang: &str) -> Language {
    Language::parse(lang).unwrap_or(Language::Nl)
}

fn at(ms: f64) -> Timestamp {
    Timestamp(ms as i64)
}

#[derive(Serialize)]
struct WireRequest {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: String,
    delay_ms: u64,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireNext {
    Send(WireRequest),
    Done {
        circle: String,
        report: crate::replica::SyncReport,
    },
}

fn wire(outgoing: Outgoing) -> WireRequest {
    let (parts, body) = outgoing.request.into_parts();
    WireRequest {
        method: parts.method.to_string(),
        url: parts.uri.to_string(),
        headers: parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_owned())))
            .collect(),
        body: B64.encode(body),
        delay_ms: outgoing.delay_ms,
    }
}

fn wire_next(next: Next) -> WireNext {
    match next {
        Next::Send(outgoing) => WireNext::Send(wire(outgoing)),
        Next::Done(circle, report) => WireNext::Done {
            circle: circle.to_string(),
            report,
        },
    }
}

/// One browser device.
#[wasm_bindgen]
pub struct Kring {
    device: WebDevice,
}

#[wasm_bindgen]
impl Kring {
    /// A new device: fresh keys, made in this browser.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Kring {
        Kring {
            device: WebDevice::generate(),
        }
    }

    /// The device as stored by `save`.
    pub fn restore(bytes: &[u8]) -> Result<Kring, JsValue> {
        WebDevice::from_bytes(bytes)
            .map(|device| Kring { device })
            .map_err(failure)
    }

    /// Everything to store (encrypt it first).
    pub fn save(&mut self) -> Result<Vec<u8>, JsValue> {
        self.device.to_bytes().map_err(failure)
    }

    pub fn device_id(&self) -> String {
        self.device.identity().id().to_string()
    }

    /// `[{circle, name, me, standing, unsent, last_synced_at}]`.
    pub fn circles(&self) -> Result<String, JsValue> {
        json(&self.device.circles())
    }

    pub fn forget(&mut self, circle: &str) -> Result<(), JsValue> {
        self.device.forget(&circle_id(circle)?).map_err(failure)
    }

    /// What changed since the last call (save afterwards: it remembers what was seen).
    pub fn news(&mut self, circle: &str) -> Result<String, JsValue> {
        json(&self.device.news(&circle_id(circle)?).map_err(failure)?)
    }

    /// One tab of a circle's screen (`week`, `tasks`, `plan`, `news`, `followup`,
    /// `desk`), every word in `lang`.
    pub fn screen(&self, circle: &str, tab: &str, now: f64, lang: &str) -> Result<String, JsValue> {
        let tab: Tab = serde_json::from_value(serde_json::Value::String(tab.to_owned()))
            .map_err(|_| failure(Error::Input(format!("no tab {tab}"))))?;
        let screen = self
            .device
            .screen(&circle_id(circle)?, tab, at(now), language(lang))
            .map_err(failure)?;
        json(&screen)
    }

    /// What a link is, before joining by it.
    pub fn preview(&self, link: &str, now: f64) -> Result<String, JsValue> {
        json(&self.device.preview(link, at(now)).map_err(failure)?)
    }

    pub fn me(&self, circle: &str) -> Result<String, JsValue> {
        Ok(self
            .device
            .me(&circle_id(circle)?)
            .map_err(failure)?
            .to_string())
    }

    pub fn claim(&mut self, circle: &str, task: &str, now: f64) -> Result<(), JsValue> {
        self.device
            .claim(&circle_id(circle)?, task, at(now))
            .map_err(failure)
    }

    pub fn unclaim(&mut self, circle: &str, task: &str, now: f64) -> Result<(), JsValue> {
        self.device
            .unclaim(&circle_id(circle)?, task, at(now))
            .map_err(failure)
    }

    pub fn claim_turn(
        &mut self,
        circle: &str,
        task: &str,
        on: f64,
        now: f64,
    ) -> Result<(), JsValue> {
        self.device
            .claim_turn(&circle_id(circle)?, task, at(on), at(now))
            .map_err(failure)
    }

    pub fn hand_over(
        &mut self,
        circle: &str,
        task: &str,
        on: f64,
        now: f64,
    ) -> Result<(), JsValue> {
        self.device
            .hand_over(&circle_id(circle)?, task, at(on), at(now))
            .map_err(failure)
    }

    /// `on` is the occurrence for one turn of a series, or a negative number.
    pub fn complete(
        &mut self,
        circle: &str,
        task: &str,
        on: f64,
        note: &str,
        now: f64,
    ) -> Result<(), JsValue> {
        let on = (on >= 0.0).then(|| at(on));
        self.device
            .complete(&circle_id(circle)?, task, on, note, at(now))
            .map_err(failure)
    }

    pub fn thank(&mut self, circle: &str, text: &str, now: f64) -> Result<(), JsValue> {
        self.device
            .thank(&circle_id(circle)?, text, at(now))
            .map_err(failure)
    }

    pub fn approve(&mut self, circle: &str, now: f64) -> Result<(), JsValue> {
        self.device
            .approve(&circle_id(circle)?, at(now))
            .map_err(failure)
    }

    /// The first request of a join.
    pub fn begin_join(
        &mut self,
        link: &str,
        name: &str,
        relation: &str,
        now: f64,
    ) -> Result<String, JsValue> {
        let relation = Relation::parse(relation).unwrap_or(Relation::Other);
        let first = self
            .device
            .begin_join(link, name, relation, at(now))
            .map_err(failure)?;
        json(&wire(first))
    }

    /// The first request of a sync.
    pub fn begin_sync(&mut self, circle: &str, now: f64) -> Result<String, JsValue> {
        let first = self
            .device
            .begin_sync(&circle_id(circle)?, at(now))
            .map_err(failure)?;
        json(&wire(first))
    }

    /// The answer to the last request: `{type: "send", …}` or `{type: "done", …}`.
    /// `retry_after` is negative when the header was absent.
    pub fn answer(
        &mut self,
        status: u16,
        retry_after: f64,
        body: Vec<u8>,
        now: f64,
    ) -> Result<String, JsValue> {
        let answer = Answer {
            status,
            retry_after: (retry_after >= 0.0).then_some(retry_after as u64),
            body,
        };
        let next = self.device.answer(answer, at(now)).map_err(failure)?;
        json(&wire_next(next))
    }

    /// The last request got no answer (offline).
    pub fn unreachable(&mut self, why: &str, now: f64) -> Result<String, JsValue> {
        let next = self.device.unreachable(why, at(now)).map_err(failure)?;
        json(&wire_next(next))
    }
}

impl Default for Kring {
    fn default() -> Self {
        Self::new()
    }
}
