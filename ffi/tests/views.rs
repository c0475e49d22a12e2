//! The offline parts of the new calls, in Rust: what people look at, link previews,
//! recovery codes made with a circle. The journeys through the relay are tested in
//! Kotlin (scripts/kotlin-tests.sh, DeviceTests.kt) and end to end (tests/).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kring_ffi::{KringClient, KringError, SecretStore};
use kring_plan::export::ExportFormat;
use kring_plan::plan::{Language, NewTask};
use kring_trust::invite::InviteKind;
use kring_trust::membership::Capability;
use kring_trust::Timestamp;

#[derive(Default)]
struct MemorySecrets(Mutex<HashMap<String, Vec<u8>>>);

impl SecretStore for MemorySecrets {
    fn get(&self, name: String) -> Result<Option<Vec<u8>>, KringError> {
        Ok(self.0.lock().unwrap().get(&name).cloned())
    }
    fn put(&self, name: String, value: Vec<u8>) -> Result<(), KringError> {
        self.0.lock().unwrap().insert(name, value);
        Ok(())
    }
    fn delete(&self, name: String) -> Result<(), KringError> {
        self.0.lock().unwrap().remove(&name);
        Ok(())
    }
}

fn client(dir: &std::path::Path) -> Arc<KringClient> {
    KringClient::open(
        dir.to_str().unwrap().to_owned(),
        Arc::new(MemorySecrets::default()),
    )
    .unwrap()
}

#[test]
fn the_week_report_and_exports_come_from_core_in_the_asked_language() {
    let dir = tempfile::tempdir().unwrap();
    let client = client(dir.path());
    let circle = client
        .create_circle(
            "Kring voor Sanne".into(),
            Language::Nl,
            "Sanne".into(),
            None,
        )
        .unwrap();
    let mut task = NewTask::simple("Naar de dokter");
    task.schedule = kring_plan::plan::Schedule::Due {
        at: Timestamp::now().plus_days(1),
    };
    circle.add_task(task).unwrap();

    let week = circle.my_week(None).unwrap();
    assert_eq!(week.heading, "Je plan deze week");
    assert_eq!(week.items.len(), 1);
    assert_eq!(week.open_count, 1);
    assert_eq!(
        circle.my_week(Some(Language::En)).unwrap().heading,
        "Your plan this week"
    );
    let report = circle.followup_report().unwrap();
    assert_eq!(report.urgent, 1, "{report:?}");
    let sentence = kring_ffi::describe_signal(
        report.signals[0].clone(),
        Language::En,
        report.timezone.clone(),
    );
    assert!(sentence.contains("Naar de dokter"), "{sentence}");
    let overview = client.coordinator_overview().unwrap();
    assert_eq!(overview.circles.len(), 1);

    let html = String::from_utf8(circle.export_text(ExportFormat::Html, None).unwrap()).unwrap();
    assert!(html.contains("Kring voor Sanne") && html.contains("<html"));
    let md = String::from_utf8(circle.export_text(ExportFormat::Markdown, None).unwrap()).unwrap();
    assert!(md.starts_with("# "), "{md}");
}

#[test]
fn a_link_is_previewed_offline_and_nonsense_is_invalid_input_changing_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let anna = client(&dir.path().join("anna"));
    // A relay nobody listens on: invites and device links are made offline.
    let created = anna
        .create_circle_with_recovery(
            "Kring voor Anna".into(),
            Language::Nl,
            "Anna".into(),
            Some("http://127.0.0.1:9".into()),
        )
        .unwrap();
    assert_eq!(created.recovery_code.split(' ').count(), 12);
    let circle = anna.open_circle(created.circle_id.clone()).unwrap();
    let link = circle
        .invite(Capability::Member, Timestamp::now().plus_days(1))
        .unwrap();

    let bram = client(&dir.path().join("bram"));
    let preview = bram.preview_link(link.clone()).unwrap();
    assert_eq!(preview.kind, InviteKind::Person);
    assert_eq!(preview.circle_name.as_deref(), Some("Kring voor Anna"));
    assert_eq!(preview.inviter_name.as_deref(), Some("Anna"));
    assert!(!preview.already_here);
    assert!(anna.preview_link(link).unwrap().already_here);

    let device_link = circle.device_link(None).unwrap();
    let preview = bram.preview_link(device_link).unwrap();
    assert_eq!(preview.kind, InviteKind::Device);
    assert_eq!(preview.capability, Capability::Owner);
    assert!(preview.expires_at.0 - Timestamp::now().0 <= 10 * 60 * 1000);
    // At most an hour.
    assert!(matches!(
        circle.device_link(Some(Timestamp::now().plus_days(1))),
        Err(KringError::NotAllowed { .. })
    ));

    assert!(matches!(
        bram.preview_link("kring://invite/AAAA".into()),
        Err(KringError::InvalidInput { .. })
    ));
    assert!(bram.circles().unwrap().is_empty());
    // The recovery code's paper device is one of Anna's devices, marked as such.
    let devices = circle.devices().unwrap();
    assert_eq!(devices.len(), 2);
    assert_eq!(devices.iter().filter(|d| d.recovery_code).count(), 1);
}
