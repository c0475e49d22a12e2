//! A whole circle through the real relay: the `kring-server` binary on a random
//! loopback port, eleven people (main person, coordinator, eight family and friends,
//! one professional), each with their own device, data directory and store.
//!
//! Offline edits and concurrent claims, a relay killed with SIGKILL and restarted on
//! the same database in the middle, then: every replica identical; the relay's files
//! hold no names or titles; a removed member's device erases the circle, and the member
//! can neither pull nor push nor read what is
//! written after the removal.

use kring_client::device::{Device, FamilyTimeChange};
use kring_client::envelope;
use kring_client::secrets::{load_identity, FileSecretStore};
use kring_client::sync::engine::{CircleTrust, Connectivity};
use kring_client::sync::http::{system_clock, RelayClient, Signer};
use kring_client::Error;
use kring_e2e::{contains, RelayProcess};
use kring_plan::plan::DeviceActor;
use kring_plan::plan::{
    CircleId, Designation, Language, LogKind, MemberId, NewTask, PlanList, PlanView, Relation,
    Schedule, TaskCategory, TaskId,
};
use kring_trust::identity::DeviceIdentity;
use kring_trust::membership::Capability;
use kring_trust::Error as TrustError;
use kring_trust::Timestamp;

const CIRCLE_NAME: &str = "Kring van Sanne";
const RIDE: &str = "Naar het ziekenhuis rijden";
const GROCERIES: &str = "Boodschappen doen op zaterdag";
const COOKING: &str = "Woensdag samen koken";
const BUDGET: &str = "Budgetplan opstellen met Sanne";
const SECRET_POST: &str = "Vanaf nu de sleutel bij de buren ophalen";

struct Person {
    name: &'static str,
    dir: std::path::PathBuf,
    device: Device,
    circle: Option<CircleId>,
}

impl Person {
    fn new(root: &std::path::Path, name: &'static str) -> Self {
        let dir = root.join(name.to_lowercase());
        Person {
            name,
            device: Device::open_in(&dir).expect("open device"),
            dir,
            circle: None,
        }
    }

    fn circle(&self) -> &CircleId {
        self.circle.as_ref().expect("in a circle")
    }

    fn sync(&mut self) -> kring_client::Result<kring_client::device::SyncReport> {
        let circle = self.circle().clone();
        self.device.sync(&circle, Timestamp::now())
    }

    #[track_caller]
    fn synced(&mut self) {
        if let Err(e) = self.sync() {
            panic!("{} could not sync: {e}", self.name);
        }
    }

    fn view(&self) -> PlanView {
        self.device.view(self.circle()).expect("view")
    }

    fn me(&self) -> MemberId {
        self.device.me(self.circle()).expect("me")
    }

    #[track_caller]
    fn edit<T>(
        &mut self,
        op: impl FnOnce(&mut kring_plan::plan::CirclePlan, &MemberId) -> kring_plan::Result<T>,
    ) -> T {
        let circle = self.circle().clone();
        match self.device.change_plan(&circle, Timestamp::now(), op) {
            Ok(value) => value,
            Err(e) => panic!("{}: {e}", self.name),
        }
    }

    #[track_caller]
    fn change_family_time(&mut self, change: FamilyTimeChange) {
        let circle = self.circle().clone();
        if let Err(e) = self
            .device
            .change_family_time(&circle, change, Timestamp::now())
        {
            panic!("{}: {e}", self.name);
        }
    }

    fn identity(&self) -> DeviceIdentity {
        let secrets = FileSecretStore::open(self.dir.join("secrets")).expect("secrets");
        load_identity(&secrets, "device")
            .expect("load")
            .expect("identity")
    }
}

/// The raw bytes of a device's store file and its write-ahead log.
fn store_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for file in ["kring.db", "kring.db-wal"] {
        if let Ok(b) = std::fs::read(dir.join(file)) {
            bytes.extend(b);
        }
    }
    bytes
}

fn invite_and_join(
    inviter: &Person,
    joiner: &mut Person,
    relation: Relation,
    capability: Capability,
) {
    let now = Timestamp::now();
    let link = inviter
        .device
        .invite(inviter.circle(), capability, now.plus_days(2), now)
        .expect("invite");
    let circle = joiner
        .device
        .join(&link, joiner.name, relation, Timestamp::now())
        .expect("join");
    assert!(
        !joiner.device.pending_joins().unwrap().contains(&circle),
        "{} joined but the plan did not arrive",
        joiner.name
    );
    joiner.circle = Some(circle);
}

fn task_id(view: &PlanView, title: &str) -> TaskId {
    view.tasks
        .iter()
        .find(|t| t.title == title)
        .map(|t| t.id.clone())
        .unwrap_or_else(|| panic!("no task {title:?}"))
}

/// Every envelope the relay holds for the circle, read with `device`'s signature.
fn relay_envelopes(url: &str, device: &DeviceIdentity, circle: &CircleId) -> Vec<(u64, Vec<u8>)> {
    let runtime = tokio_runtime();
    let client = RelayClient::new(url, system_clock()).expect("client");
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = runtime
            .block_on(client.pull(device, circle, after, 1000))
            .expect("pull");
        for e in page.envelopes {
            after = e.cursor;
            out.push((e.cursor, e.envelope.0));
        }
        if !page.more {
            return out;
        }
    }
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn eleven_members_converge_through_a_real_relay_that_is_killed_and_restarted() {
    let root = tempfile::tempdir().expect("tempdir");
    let mut relay = RelayProcess::start(&root.path().join("relay.db"));
    let url = relay.url();

    // ---- the circle forms --------------------------------------------------------------
    let mut sanne = Person::new(root.path(), "Sanne");
    let circle = sanne
        .device
        .create_circle(
            CIRCLE_NAME,
            Language::Nl,
            "Sanne",
            Some(&url),
            Timestamp::now(),
        )
        .expect("create");
    sanne.circle = Some(circle.clone());
    sanne.synced();

    let mut fatima = Person::new(root.path(), "Fatima");
    invite_and_join(
        &sanne,
        &mut fatima,
        Relation::Coordinator,
        Capability::Admin,
    );
    let family: [(&str, Relation); 8] = [
        ("Jan", Relation::Family),
        ("Kees", Relation::Family),
        ("Lotte", Relation::Family),
        ("Mohammed", Relation::Friend),
        ("Ineke", Relation::Neighbour),
        ("Daan", Relation::Friend),
        ("Sophie", Relation::Family),
        ("Ahmed", Relation::Neighbour),
    ];
    let mut others: Vec<Person> = Vec::new();
    for (name, relation) in family {
        let mut person = Person::new(root.path(), name);
        // The coordinator invites most; the main person a few.
        let inviter = if others.len() % 3 == 2 {
            &sanne
        } else {
            &fatima
        };
        invite_and_join(inviter, &mut person, relation, Capability::Member);
        others.push(person);
    }
    let mut marloes = Person::new(root.path(), "Marloes");
    invite_and_join(
        &sanne,
        &mut marloes,
        Relation::Professional,
        Capability::Member,
    );

    let mut everyone: Vec<Person> = vec![sanne, fatima];
    everyone.extend(others);
    everyone.push(marloes);
    assert_eq!(everyone.len(), 11);
    let by_name = |people: &[Person], name: &str| {
        people
            .iter()
            .position(|p| p.name == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    for person in &mut everyone {
        person.synced();
    }

    // ---- the plan is made ----------------------------------------------------------------
    let now = Timestamp::now();
    everyone[0].edit(|plan, me| {
        plan.set_question(me, "Hoe blijf ik thuis wonen na de operatie?", now)?;
        plan.add_to_list(me, PlanList::Goals, "Elke dag iemand langs.", now)
    });
    everyone[1].edit(|plan, me| {
        plan.add_task(
            me,
            NewTask {
                category: TaskCategory::Ride,
                schedule: Schedule::Due {
                    at: now.plus_days(4),
                },
                slots: 1,
                ..NewTask::simple(RIDE)
            },
            now,
        )?;
        plan.add_task(
            me,
            NewTask {
                category: TaskCategory::Household,
                slots: 2,
                ..NewTask::simple(GROCERIES)
            },
            now,
        )?;
        plan.add_task(
            me,
            NewTask {
                category: TaskCategory::Meal,
                schedule: Schedule::Weekly {
                    first_at: now.plus_days(3),
                    every_weeks: 1,
                    until: None,
                },
                ..NewTask::simple(COOKING)
            },
            now,
        )
    });
    let marloes_i = by_name(&everyone, "Marloes");
    // Calling oneself a professional grants nothing: Sanne marks Marloes as one.
    let marloes_id = everyone[marloes_i].me();
    everyone[0]
        .edit(|plan, me| plan.designate(me, &marloes_id, Some(Designation::Professional), now));
    everyone[0].synced();
    everyone[marloes_i].synced();
    everyone[marloes_i].edit(|plan, me| {
        plan.set_condition(me, "Geen alcohol in huis.", now)?;
        plan.add_task(
            me,
            NewTask {
                owner_kind: kring_plan::plan::OwnerKind::Professional,
                category: TaskCategory::Professional,
                ..NewTask::simple(BUDGET)
            },
            now,
        )
    });
    for person in &mut everyone {
        person.synced();
    }
    for person in &mut everyone {
        person.synced();
    }
    let view = everyone[0].view();
    let (ride, groceries) = (task_id(&view, RIDE), task_id(&view, GROCERIES));

    // ---- offline: concurrent claims and other edits ---------------------------------------
    let base = Timestamp::now();
    for (i, name) in ["Jan", "Kees", "Lotte"].iter().enumerate() {
        let p = by_name(&everyone, name);
        let at = base.plus_millis(1000 * (i as i64 + 1));
        everyone[p].edit(|plan, me| plan.claim_task(me, &ride, at));
    }
    for (i, name) in ["Mohammed", "Ineke", "Daan"].iter().enumerate() {
        let p = by_name(&everyone, name);
        let at = base.plus_millis(500 * (i as i64 + 1));
        everyone[p].edit(|plan, me| plan.claim_task(me, &groceries, at));
    }
    let p = by_name(&everyone, "Sophie");
    everyone[p].edit(|plan, me| plan.post(me, LogKind::Thanks, "Dank voor de soep!", base));
    let p = by_name(&everyone, "Ahmed");
    everyone[p].edit(|plan, me| plan.add_offer(me, "Ik kan koken", "woensdag", base));
    everyone[0].edit(|plan, me| {
        plan.add_to_list(
            me,
            PlanList::Contingencies,
            "Bij pijn belt Sanne Fatima.",
            base,
        )
    });
    everyone[marloes_i].edit(|plan, me| plan.post(me, LogKind::Checkin, "Gesprek gepland.", base));
    for person in &everyone {
        let status = person.device.status(person.circle()).unwrap();
        assert_eq!(status.connectivity, Connectivity::Online, "{}", person.name);
    }

    // ---- half of them sync, then the relay dies mid-way ------------------------------------
    let sanne_id = everyone[0].identity();
    for person in everyone.iter_mut().take(5) {
        person.synced();
    }
    let stored_before = relay_envelopes(&url, &sanne_id, &circle).len();
    relay.kill9();
    for person in everyone.iter_mut().skip(5) {
        let err = person.sync().expect_err("the relay is down");
        assert!(err.is_transient(), "{}: {err:?}", person.name);
        let status = person.device.status(person.circle()).unwrap();
        assert_eq!(
            status.connectivity,
            Connectivity::Offline,
            "{}",
            person.name
        );
        assert!(status.pending > 0, "{} has changes waiting", person.name);
    }
    // Local-first: editing still works while the relay is down.
    let p = by_name(&everyone, "Lotte");
    everyone[p].edit(|plan, me| plan.post(me, LogKind::Update, "Relay weg, ik werk door.", base));

    relay.restart();
    assert_eq!(relay.url(), url, "restarted on the same address");
    assert_eq!(
        relay_envelopes(&url, &sanne_id, &circle).len(),
        stored_before,
        "everything acknowledged before the kill is still there"
    );
    for _ in 0..2 {
        for person in &mut everyone {
            person.synced();
        }
    }

    // ---- every replica identical ------------------------------------------------------------
    let reference = everyone[0].view();
    let heads = everyone[0].device.plan(&circle).unwrap().heads();
    for person in &everyone {
        assert_eq!(
            person.view(),
            reference,
            "{} sees another plan",
            person.name
        );
        assert_eq!(
            person.device.plan(&circle).unwrap().heads(),
            heads,
            "{}",
            person.name
        );
        let status = person.device.status(&circle).unwrap();
        assert_eq!((status.pending, status.waiting), (0, 0), "{}", person.name);
    }
    assert_eq!(reference.members.len(), 11);
    let ride_view = reference.task(&ride).expect("ride");
    let winners: Vec<_> = ride_view.winners().cloned().collect();
    assert_eq!(winners, vec![everyone[by_name(&everyone, "Jan")].me()]);
    assert!(ride_view.overbooked);
    let groceries_view = reference.task(&groceries).expect("groceries");
    assert_eq!(groceries_view.winners().count(), 2);
    assert!(groceries_view.overbooked);
    assert!(reference
        .log
        .iter()
        .any(|e| e.text == "Relay weg, ik werk door."));

    // ---- the relay's files hold no names and no titles -------------------------------------
    let raw = relay.database_bytes();
    assert!(!raw.is_empty());
    assert!(contains(&raw, circle.as_str()), "the database as stored");
    let mut secrets: Vec<&str> = vec![
        CIRCLE_NAME,
        RIDE,
        GROCERIES,
        COOKING,
        BUDGET,
        "Geen alcohol",
    ];
    // Names of five letters or more: a three-letter name ("Jan") turns up by chance in
    // a few megabytes of ciphertext and keys about one run in five; a leak of the plan
    // would show every name, so the longer ones tell as much.
    secrets.extend(everyone.iter().map(|p| p.name).filter(|n| n.len() >= 5));
    for needle in secrets {
        assert!(
            !contains(&raw, needle),
            "the relay's database contains {needle:?}"
        );
    }

    // ---- family time: the family writes alone, then Sanne presents ------------------------
    // Marloes is marked professional in the log too: the family key is never hers.
    everyone[0].change_family_time(FamilyTimeChange::Mark {
        member: marloes_id.clone(),
        professional: true,
    });
    everyone[0].change_family_time(FamilyTimeChange::Open);
    for person in &mut everyone {
        person.synced();
    }
    const DRAFT_GOAL: &str = "Oma's piano blijft in de woonkamer staan";
    const DRAFT_TASK: &str = "Elke vrijdag de post van Sanne doornemen";
    everyone[0].edit(|plan, me| plan.add_to_list(me, PlanList::Goals, DRAFT_GOAL, now));
    everyone[0].synced();
    let jan_i = by_name(&everyone, "Jan");
    everyone[jan_i].synced();
    everyone[jan_i].edit(|plan, me| plan.add_task(me, NewTask::simple(DRAFT_TASK), now));
    everyone[jan_i].synced();
    for person in &mut everyone {
        person.synced();
    }
    // Every other family member reads the draft; Marloes, from her own store and from
    // every envelope the relay holds, recovers no word of it.
    for (i, person) in everyone.iter().enumerate() {
        let shown = serde_json::to_string(&person.view()).expect("json");
        let reads = shown.contains(DRAFT_GOAL) && shown.contains(DRAFT_TASK);
        assert_eq!(reads, i != marloes_i, "{} and the draft", person.name);
    }
    let marloes_trust = everyone[marloes_i]
        .device
        .trust(&circle)
        .unwrap()
        .expect("trust");
    let mut sealed_away = 0;
    for (_, bytes) in relay_envelopes(&url, &everyone[marloes_i].identity(), &circle) {
        match envelope::open(&bytes, marloes_trust.state(), marloes_trust.keys()) {
            Ok(opened) => {
                for change in opened.changes() {
                    for word in [DRAFT_GOAL, DRAFT_TASK] {
                        assert!(!contains(change.raw_bytes(), word), "{word}");
                    }
                }
            }
            Err(_) => sealed_away += 1,
        }
    }
    assert_eq!(
        sealed_away, 2,
        "the family's two envelopes stay closed to her"
    );
    let raw = relay.database_bytes();
    let hers = store_bytes(&everyone[marloes_i].dir);
    for word in ["piano", "post van Sanne"] {
        assert!(!contains(&raw, word), "the relay holds {word:?}");
        assert!(!contains(&hers, word), "her store holds {word:?}");
    }
    everyone[0].change_family_time(FamilyTimeChange::Present);
    for person in &mut everyone {
        person.synced();
    }
    let presented = everyone[0].view();
    for person in &everyone {
        assert_eq!(
            person.view(),
            presented,
            "{} sees the presented plan",
            person.name
        );
    }
    assert!(presented.tasks.iter().any(|t| t.title == DRAFT_TASK));

    // ---- a member is removed -----------------------------------------------------------------
    let kees_i = by_name(&everyone, "Kees");
    let kees_member = everyone[kees_i].me();
    let kees_identity = everyone[kees_i].identity();
    everyone[0]
        .device
        .remove_member(&circle, &kees_member, Timestamp::now())
        .expect("remove Kees");
    let lotte_i = by_name(&everyone, "Lotte");
    everyone[lotte_i].synced();
    everyone[lotte_i]
        .edit(|plan, me| plan.post(me, LogKind::Update, SECRET_POST, Timestamp::now()));
    everyone[lotte_i].synced();

    // What Kees's device knew before it learns of the removal (it erases the circle
    // then), to try the relay with directly below.
    let kees_trust = everyone[kees_i].device.trust(&circle).unwrap().unwrap();
    let next_seq = everyone[kees_i]
        .device
        .store()
        .last_own(&circle, &kees_identity.id())
        .unwrap()
        .map_or((1, None), |(seq, hash)| (seq + 1, Some(hash)));

    // Kees cannot pull (his device learns it was removed, and erases the circle) …
    let err = everyone[kees_i].sync().expect_err("removed");
    assert!(
        matches!(err, Error::Trust(TrustError::Removed(d)) if d == kees_identity.id()),
        "{err:?}"
    );
    assert!(everyone[kees_i].device.circles().unwrap().is_empty());
    assert_eq!(
        everyone[kees_i]
            .device
            .departures()
            .unwrap()
            .iter()
            .map(|d| d.circle.clone())
            .collect::<Vec<_>>(),
        vec![circle.clone()]
    );
    let kees_db = store_bytes(&everyone[kees_i].dir);
    for title in [RIDE, GROCERIES, COOKING, CIRCLE_NAME] {
        assert!(
            !contains(&kees_db, title),
            "{title:?} is still in Kees's store"
        );
    }
    let runtime = tokio_runtime();
    let client = RelayClient::new(&url, system_clock()).unwrap();
    let pulled = runtime.block_on(client.pull(&kees_identity, &circle, 0, 10));
    assert!(
        matches!(pulled, Err(Error::Trust(TrustError::Removed(_)))),
        "{pulled:?}"
    );
    let log = runtime.block_on(client.membership(Signer::Device(&kees_identity), &circle, 0));
    assert!(log.is_err(), "a removed device reads no log");

    // … nor push: not through his app, and not by going to the relay directly with an
    // envelope sealed under the membership he knew.
    let circle_for_kees = circle.clone();
    let err = everyone[kees_i]
        .device
        .change_plan(&circle_for_kees, Timestamp::now(), |plan, me| {
            plan.post(me, LogKind::Update, "Ik ben er nog", Timestamp::now())
        })
        .expect_err("removed devices do not write");
    assert!(matches!(err, Error::UnknownCircle(_)), "{err:?}");
    let change = {
        let mut doc = automerge::AutoCommit::new().with_actor(kees_identity.actor_id());
        automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "x", "y").unwrap();
        doc.commit();
        doc.get_last_local_change().unwrap()
    };
    let forged = envelope::seal(
        &kees_identity,
        kees_trust.state(),
        kees_trust.keys(),
        next_seq.0,
        next_seq.1,
        &[change],
    )
    .expect("Kees can still seal locally");
    let pushed = runtime.block_on(client.push(&kees_identity, &circle, &[forged.as_bytes()]));
    assert!(
        pushed.is_err(),
        "the relay took a removed member's envelope"
    );

    // … nor read what is written after the removal, even holding the whole log.
    let full_log = everyone[0].device.store().membership_log(&circle).unwrap();
    let kees_full = CircleTrust::from_log(&kees_identity, &full_log).unwrap();
    assert_eq!(kees_full.keys().epochs().collect::<Vec<_>>(), vec![0]);
    let lotte_identity = everyone[lotte_i].identity();
    let posted = everyone[lotte_i]
        .device
        .store()
        .own_envelopes_from(&circle, &lotte_identity.id(), 1)
        .unwrap()
        .pop()
        .expect("Lotte's latest envelope");
    assert!(posted.acked);
    let err = envelope::open(&posted.bytes, kees_full.state(), kees_full.keys()).unwrap_err();
    assert!(
        matches!(err, kring_sync::Error::Trust(TrustError::UnknownEpoch(1))),
        "{err:?}"
    );
    let on_relay = relay_envelopes(&url, &sanne_id, &circle);
    assert!(on_relay.iter().any(|(_, bytes)| *bytes == posted.bytes));
    assert!(on_relay
        .iter()
        .all(
            |(_, bytes)| envelope::read_header(bytes).unwrap().author != kees_identity.id()
                || envelope::read_header(bytes).unwrap().device_seq < next_seq.0
        ));

    // Everyone else converges again, with the post; Kees has no copy any more.
    for _ in 0..2 {
        for (i, person) in everyone.iter_mut().enumerate() {
            if i != kees_i {
                person.synced();
            }
        }
    }
    let reference = everyone[0].view();
    assert!(reference.log.iter().any(|e| e.text == SECRET_POST));
    assert!(reference
        .members
        .iter()
        .any(|m| m.id == kees_member && m.removed_at.is_some()));
    for (i, person) in everyone.iter().enumerate() {
        if i == kees_i {
            assert!(person.device.view(&circle).is_err());
        } else {
            assert_eq!(person.view(), reference, "{}", person.name);
        }
    }
    assert!(!contains(&relay.database_bytes(), SECRET_POST));
}
