//! The web app's core (`kring-web`) driven natively over the relay in-process, as
//! `web/app/relay.js` drives it with `fetch` in the browser: each request the core
//! hands out is carried, and the answer (or its absence) handed back.

use std::sync::Arc;

use kring_client::sync::transport::Transport;
use kring_trust::Timestamp;
use kring_web::device::WebDevice;
use kring_web::driver::{Answer, Next, Outgoing};
use kring_web::replica::SyncReport;

use crate::in_process::InProcessRelay;

/// Carries one operation of `web` to its end, starting with `first`.
pub fn drive(
    web: &mut WebDevice,
    relay: &Arc<InProcessRelay>,
    first: Outgoing,
) -> Result<SyncReport, kring_web::Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut outgoing = first;
    loop {
        let now = Timestamp::now();
        let next = match runtime.block_on(relay.send(outgoing.request)) {
            Ok(response) => {
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()?.parse().ok());
                let answer = Answer {
                    status: response.status().as_u16(),
                    retry_after,
                    body: response.into_body(),
                };
                web.answer(answer, now)?
            }
            Err(e) => web.unreachable(&e.to_string(), now)?,
        };
        match next {
            Next::Send(o) => outgoing = o,
            Next::Done(_, report) => return Ok(report),
        }
    }
}
