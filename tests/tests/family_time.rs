//! Family time through a real relay and the real `kring` binary on three devices: the
//! main person opens it, the family member's device receives the family key through
//! the signed membership log, the marked professional's device receives nothing it
//! could open the family's writing with; a new mark puts the key out of date until it
//! is rotated without her; only the main person or an admin opens, rotates and closes.

use kring_e2e::{create_sannes_circle, json, refused, run, stdout, RelayProcess};

#[test]
fn the_family_key_reaches_the_family_and_never_a_professionals_device() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = RelayProcess::start(&dir.path().join("relay.db"));
    let (sanne, jan, marloes) = (
        dir.path().join("sanne"),
        dir.path().join("jan"),
        dir.path().join("marloes"),
    );
    create_sannes_circle(&sanne, &["--relay", &relay.url(), "--lang", "nl"]);
    run(&sanne, &["sync"]);
    for (who, name, relation) in [
        (&jan, "Jan", "family"),
        (&marloes, "Marloes", "professional"),
    ] {
        let link = stdout(&sanne, &["invite"]);
        run(
            who,
            &["join", &link, "--name", name, "--relation", relation],
        );
    }
    run(&sanne, &["sync"]);
    // What Marloes calls herself grants nothing; the main person marks her.
    run(&sanne, &["member", "mark", "Marloes", "professional"]);
    run(&sanne, &["family-time", "open"]);
    let said = stdout(&sanne, &["family-time"]);
    assert!(said.contains("De familietijd is open"), "{said}");

    let status = |who: &std::path::Path| {
        run(who, &["sync"]);
        json(who, &["family-time"])
    };
    let (for_sanne, for_jan, for_marloes) = (status(&sanne), status(&jan), status(&marloes));
    assert_eq!(for_sanne["holds_key"], true);
    assert_eq!(for_jan["holds_key"], true, "{for_jan}");
    assert_eq!(for_marloes["open"], true);
    assert_eq!(for_marloes["professional"], true);
    assert_eq!(for_marloes["holds_key"], false, "{for_marloes}");
    let said = stdout(&marloes, &["family-time"]);
    assert!(said.contains("hulpverlener"), "{said}");

    // Only the main person or an admin opens, rotates and closes; twice open is refused.
    let (_, why) = refused(&jan, &["family-time", "close"]);
    assert!(
        !why.is_empty() && !why.contains("Error"),
        "a plain sentence: {why}"
    );
    let (_, why) = refused(&sanne, &["family-time", "open"]);
    assert!(!why.is_empty(), "{why}");
    assert_eq!(status(&jan)["open"], true, "nothing changed");

    // Jan is marked professional: the key is out of date until rotated, then his
    // device holds none of the new one.
    run(&sanne, &["member", "mark", "Jan", "professional"]);
    assert_eq!(status(&sanne)["key_current"], false);
    run(&sanne, &["family-time", "rotate"]);
    let (for_sanne, for_jan) = (status(&sanne), status(&jan));
    assert_eq!(
        (
            for_sanne["generation"].as_u64(),
            for_sanne["holds_key"].as_bool()
        ),
        (Some(2), Some(true))
    );
    assert_eq!(for_jan["holds_key"], false, "{for_jan}");

    run(&sanne, &["family-time", "close"]);
    assert_eq!(status(&marloes)["open"], false);
    let said = stdout(&marloes, &["family-time"]);
    assert!(said.contains("dicht"), "{said}");
}
