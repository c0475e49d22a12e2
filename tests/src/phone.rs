//! A phone for tests and benchmarks: a device in a temporary directory, with the
//! steps a person takes (post, sync, look at the plan) and a panic with the reason
//! when one fails.

use std::sync::Arc;

use kring_client::device::{Device, SyncReport};
use kring_client::sync::transport::Transport;
use kring_plan::plan::{CircleId, LogKind, PlanView};
use kring_trust::Timestamp;

pub struct Phone {
    _dir: tempfile::TempDir,
    pub device: Device,
}

impl Phone {
    /// A new device over HTTP.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let device = Device::open_in(dir.path()).expect("device");
        Self { _dir: dir, device }
    }

    /// A new device whose requests go through `transport` (an in-process relay).
    pub fn over(transport: Arc<dyn Transport>) -> Self {
        let mut phone = Self::new();
        phone.device.set_transport(transport);
        phone
    }

    /// Posts an update in the circle's log.
    pub fn post(&mut self, circle: &CircleId, text: &str) {
        self.device
            .change_plan(circle, Timestamp::now(), |plan, me| {
                plan.post(me, LogKind::Update, text, Timestamp::now())
                    .map(drop)
            })
            .expect("post");
    }

    #[track_caller]
    pub fn synced(&mut self, circle: &CircleId) -> SyncReport {
        match self.device.sync(circle, Timestamp::now()) {
            Ok(report) => report,
            Err(e) => panic!("sync failed: {e}"),
        }
    }

    /// A sync that fails as "offline" (transient): nothing lost, tried again later.
    #[track_caller]
    pub fn sync_fails_offline(&mut self, circle: &CircleId) {
        match self.device.sync(circle, Timestamp::now()) {
            Ok(report) => panic!("expected the sync to fail, it did {report:?}"),
            Err(e) => assert!(e.is_transient(), "{e}"),
        }
    }

    pub fn view(&self, circle: &CircleId) -> PlanView {
        self.device.view(circle).expect("view")
    }

    pub fn member_names(&self, circle: &CircleId) -> Vec<String> {
        self.view(circle)
            .members
            .into_iter()
            .map(|m| m.display_name)
            .collect()
    }

    /// This device's changes the relay has not acknowledged yet.
    pub fn pending(&self, circle: &CircleId) -> u64 {
        self.device.status(circle).expect("status").pending
    }
}

impl Default for Phone {
    fn default() -> Self {
        Self::new()
    }
}
