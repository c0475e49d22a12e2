//! The hand-over to professionals through the real `kring` binary, checked by
//! implementations no one here wrote (`tests/python/check_handover.py`: `fhir.resources`
//! for FHIR, `pypdf` and `pikepdf`/qpdf for the PDF/A; the test command installs them
//! in a virtual environment and names its Python in `KRING_HANDOVER_PYTHON`).

use std::path::Path;
use std::process::Command;

use kring_e2e::{json, kring, run};
use serde_json::{json as object, Value};

/// Runs the independent checker; its findings, and whether it found nothing wrong.
fn check(bundle: &Path, pdf: &Path, expected: &Value) -> (Value, bool) {
    let dir = bundle.parent().expect("a directory");
    let expected_file = dir.join("expected.json");
    std::fs::write(&expected_file, expected.to_string()).expect("write expectations");
    let python = std::env::var("KRING_HANDOVER_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/check_handover.py");
    let out = Command::new(&python)
        .arg(script)
        .args([bundle, pdf, &expected_file])
        .output()
        .expect("python");
    let found: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "the hand-over checker did not run (the test command installs fhir.resources, pypdf and pikepdf): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (found, out.status.success())
}

#[test]
fn the_main_person_hands_the_plan_over_as_fhir_and_pdf_a_that_independent_tools_accept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let hostile = "<script>alert(1)</script> \u{202E}lepaz\u{202C} \u{7}bel";
    run(
        d,
        &[
            "circle",
            "create",
            "--name",
            "Kring van Sanne",
            "--me",
            "Sanne Bakker",
            "--lang",
            "nl",
        ],
    );
    run(
        d,
        &[
            "member",
            "add",
            "Jan Pietersen",
            "--relation",
            "family",
            "--role",
            "broer",
        ],
    );
    run(
        d,
        &[
            "member",
            "add",
            "Marloes de Wit",
            "--relation",
            "professional",
            "--role",
            "schuldhulp",
        ],
    );
    run(
        d,
        &[
            "plan",
            "question",
            "Hoe houd ik mijn huis? Ééntje per maand.",
        ],
    );
    run(
        d,
        &[
            "plan",
            "goal",
            "Over drie maanden zijn alle rekeningen betaald.",
        ],
    );
    run(d, &["plan", "contingency", hostile]);
    run(
        d,
        &[
            "task",
            "add",
            "Naar de schuldhulp rijden",
            "--due",
            "2027-01-12 09:00",
            "--slots",
            "1",
        ],
    );

    // Without consent for names: none of the people's names leaves in the FHIR file.
    let bundle = d.join("plan.fhir.json");
    let pdf = d.join("plan.pdf");
    run(
        d,
        &[
            "export",
            "--format",
            "fhir",
            "--to",
            "Wijkteam Noord",
            "--out",
            bundle.to_str().unwrap(),
        ],
    );
    run(
        d,
        &[
            "export",
            "--format",
            "pdf",
            "--to",
            "Wijkteam Noord",
            "--out",
            pdf.to_str().unwrap(),
        ],
    );
    let texts = [
        "Hoe houd ik mijn huis? Ééntje per maand.",
        "Over drie maanden zijn alle rekeningen betaald.",
        "Naar de schuldhulp rijden",
        "Overgedragen aan: Wijkteam Noord",
        // The hostile line is drawn as its characters: the markup as text, the
        // override and the control left out.
        "<script>alert(1)</script> lepaz bel",
    ];
    let (found, ok) = check(
        &bundle,
        &pdf,
        &object!({ "texts": texts, "absent_from_fhir": ["Pietersen", "Marloes", "Bakker"] }),
    );
    assert!(ok, "independent checks: {found}");
    assert_eq!(found["pdf"]["pdfa"], "2B");
    for kind in [
        "CarePlan",
        "Goal",
        "CareTeam",
        "Patient",
        "RelatedPerson",
        "Practitioner",
    ] {
        assert!(
            found["fhir"][kind].as_u64().unwrap_or(0) >= 1,
            "{kind} in {found}"
        );
    }
    let pdf_text = found["pdf"]["text"].as_str().unwrap_or("");
    assert!(
        !pdf_text.contains("Pietersen"),
        "no names without consent: {pdf_text}"
    );
    let raw = std::fs::read_to_string(&bundle).expect("bundle");
    let parsed: Value = serde_json::from_str(&raw).expect("valid JSON");
    let care_plan = &parsed["entry"][0]["resource"];
    assert_eq!(care_plan["resourceType"], "CarePlan");
    assert!(care_plan["note"]
        .as_array()
        .expect("notes")
        .iter()
        .any(|n| n["text"].as_str().is_some_and(|t| t.contains(hostile))));

    // With consent, the names go along.
    let named = d.join("named.pdf");
    run(
        d,
        &[
            "export",
            "--format",
            "pdf",
            "--to",
            "Jeugdzorg",
            "--names",
            "--out",
            named.to_str().unwrap(),
        ],
    );
    let (found, ok) = check(
        &bundle,
        &named,
        &object!({ "texts": ["Jan Pietersen", "Marloes de Wit", "Overgedragen aan: Jeugdzorg"] }),
    );
    assert!(ok, "{found}");

    // Each hand-over is recorded in the plan.
    let shown = json(d, &["show"]);
    let handovers = shown["plan"]["handovers"]
        .as_array()
        .expect("hand-overs")
        .clone();
    let recorded: Vec<(&str, &str, bool)> = handovers
        .iter()
        .map(|h| {
            (
                h["to"].as_str().unwrap_or(""),
                h["format"].as_str().unwrap_or(""),
                h["names"].as_bool().unwrap_or(true),
            )
        })
        .collect();
    assert_eq!(
        recorded,
        [
            ("Wijkteam Noord", "fhir", false),
            ("Wijkteam Noord", "pdf", false),
            ("Jeugdzorg", "pdf", true)
        ]
    );

    // The checker is not a formality: a status outside FHIR's value set is refused.
    let mut tampered = parsed.clone();
    tampered["entry"][0]["resource"]["status"] = "bogus".into();
    let tampered_file = d.join("tampered.json");
    std::fs::write(&tampered_file, tampered.to_string()).expect("write");
    let (found, ok) = check(&tampered_file, &pdf, &object!({ "texts": [] }));
    assert!(!ok, "a bad status is caught: {found}");
}

#[test]
fn a_hand_over_without_a_recipient_or_a_file_is_refused_and_records_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    run(
        d,
        &[
            "circle",
            "create",
            "--name",
            "Kring van Sanne",
            "--me",
            "Sanne",
            "--lang",
            "nl",
        ],
    );
    let out_file = d.join("plan.pdf");
    for args in [
        vec![
            "export",
            "--format",
            "pdf",
            "--out",
            out_file.to_str().unwrap(),
        ],
        vec!["export", "--format", "fhir", "--to", "Wijkteam"],
        vec![
            "export",
            "--format",
            "pdf",
            "--to",
            "   ",
            "--out",
            out_file.to_str().unwrap(),
        ],
    ] {
        let out = kring(d).args(&args).output().expect("run kring");
        assert!(!out.status.success(), "{args:?} refused");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            !said.is_empty() && !said.contains("Error"),
            "a plain sentence: {said}"
        );
    }
    assert!(!out_file.exists(), "no file");
    assert!(!d.join("plan.partial").exists(), "nothing left behind");
    let shown = json(d, &["show"]);
    assert_eq!(shown["plan"]["handovers"], object!([]));
}
