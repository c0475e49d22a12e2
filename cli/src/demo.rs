//! `kring demo`: plays a whole circle from start to finish so a newcomer sees Kring
//! work with one command. Without `--relay` it starts a real relay on loopback: the
//! `kring-server` program (found next to `kring`, or as `$KRING_SERVER`), with its own
//! SQLite file — the CLI does not link the relay. Every person's phone is a real
//! device: its own data directory, keys and SQLite store, talking to the relay over
//! HTTP exactly as the CLI and the apps do.

use std::path::{Path, PathBuf};

use kring_client::device::Device;
use kring_plan::plan::{
    CircleId, Designation, Language, LogKind, MemberId, NewTask, OwnerKind, PlanList, PlanStatus,
    PlanView, Relation, Schedule, TaskCategory, TaskId,
};
use kring_trust::membership::Capability;
use kring_trust::Timestamp;

use crate::error::{CliError, CliResult};
use crate::i18n::word;
use crate::render;

/// One person's phone.
struct Phone {
    name: &'static str,
    device: Device,
    circle: CircleId,
}

impl Phone {
    fn me(&self) -> CliResult<MemberId> {
        Ok(self.device.me(&self.circle)?)
    }

    fn view(&self) -> CliResult<PlanView> {
        Ok(self.device.view(&self.circle)?)
    }

    /// Syncs with the relay and says what moved.
    fn sync(&mut self) -> CliResult<String> {
        let report = self.device.sync(&self.circle, Timestamp::now())?;
        Ok(t!(
            "demo-synced",
            name = self.name,
            sent = report.pushed,
            received = report.applied_changes
        ))
    }

    /// A plan operation as this phone's person, durable (and sealed for the relay)
    /// when it returns.
    fn edit<T>(
        &mut self,
        op: impl FnOnce(&mut kring_plan::plan::CirclePlan, &MemberId) -> kring_plan::Result<T>,
    ) -> CliResult<T> {
        Ok(self
            .device
            .change_plan(&self.circle, Timestamp::now(), op)?)
    }
}

fn yes_no(yes: bool) -> String {
    if yes {
        t!("demo-yes")
    } else {
        t!("demo-no-upper")
    }
}

fn step(text: &str) {
    say!("\n▶ {text}");
}

fn say(text: &str) {
    say!("  {text}");
}

fn phone_dir(dir: &Path, name: &str) -> PathBuf {
    dir.join(name.to_lowercase())
}

/// A new phone joins with an invite link made on `inviter`'s phone.
fn join(
    dir: &Path,
    name: &'static str,
    relation: Relation,
    capability: Capability,
    inviter: &Phone,
) -> CliResult<Phone> {
    let now = Timestamp::now();
    let link = inviter
        .device
        .invite(&inviter.circle, capability, now.plus_days(7), now)?;
    let mut device = Device::open_in(&phone_dir(dir, name))?;
    let circle = device.join(&link, name, relation, Timestamp::now())?;
    if device.pending_joins()?.contains(&circle) {
        return Err(CliError::Usage(t!("demo-join-no-plan", name = name)));
    }
    say(&t!(
        "demo-joins",
        name = name,
        relation = word("relation", &relation.to_string()),
        role = word("capability", capability.as_str()),
        length = link.len()
    ));
    Ok(Phone {
        name,
        device,
        circle,
    })
}

fn task_titled(view: &PlanView, title: &str) -> CliResult<TaskId> {
    view.tasks
        .iter()
        .find(|t| t.title == title)
        .map(|t| t.id.clone())
        .ok_or_else(|| CliError::NotFound(format!("{} {title:?}", word("thing", "task"))))
}

const RIDE: &str = "Sanne naar het spreekuur van de schuldhulp brengen";

/// The relay the demo talks to: one it starts itself, or one already running.
enum DemoRelay {
    Started {
        relay: std::process::Child,
        db: PathBuf,
    },
    External {
        db: Option<PathBuf>,
    },
}

/// Where the `kring-server` program is: `$KRING_SERVER`, else beside this `kring`
/// (cargo builds both into the same directory), else on the `PATH`.
fn relay_program() -> PathBuf {
    if let Some(path) = std::env::var_os("KRING_SERVER") {
        return PathBuf::from(path);
    }
    std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name("kring-server"))
        .filter(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from("kring-server"))
}

impl DemoRelay {
    /// Starts `kring-server` on a free loopback port with its database `db` and waits
    /// for the address it prints ("listening on …").
    fn start(db: PathBuf) -> CliResult<(String, DemoRelay)> {
        use std::io::BufRead;
        let program = relay_program();
        let cannot_start = |e: std::io::Error| {
            CliError::Usage(t!(
                "demo-relay-missing",
                program = program.display().to_string(),
                error = e.to_string()
            ))
        };
        let mut relay = std::process::Command::new(&program)
            .args(["--listen", "127.0.0.1:0", "--db"])
            .arg(&db)
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map_err(cannot_start)?;
        let stdout = relay
            .stdout
            .take()
            .ok_or_else(|| cannot_start(std::io::Error::other("no output from the relay")))?;
        let mut lines = std::io::BufReader::new(stdout).lines();
        let first = lines
            .next()
            .transpose()
            .map_err(cannot_start)?
            .unwrap_or_default();
        let Some(addr) = first.strip_prefix("listening on ") else {
            let _ = relay.kill();
            let _ = relay.wait();
            return Err(cannot_start(std::io::Error::other(format!(
                "it said {first:?} instead of its address"
            ))));
        };
        let url = format!("http://{}", addr.trim());
        // Keep reading its output so the relay never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok((url, DemoRelay::Started { relay, db }))
    }

    /// Stops a relay the demo started (SIGTERM, so it finishes writing its database)
    /// and returns the database file to inspect, if known.
    fn finish(self) -> CliResult<Option<PathBuf>> {
        match self {
            DemoRelay::Started { mut relay, db } => {
                stop(&mut relay)?;
                Ok(Some(db))
            }
            DemoRelay::External { db } => Ok(db),
        }
    }
}

/// Asks the relay to stop and waits for it; a relay that does not stop within 10 s is
/// killed.
fn stop(relay: &mut std::process::Child) -> CliResult {
    let pid = relay.id().to_string();
    let asked = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .is_ok_and(|s| s.success());
    if asked {
        for _ in 0..100 {
            if relay.try_wait().map_err(kring_client::Error::Io)?.is_some() {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    relay.kill().map_err(kring_client::Error::Io)?;
    relay.wait().map_err(kring_client::Error::Io)?;
    Ok(())
}

pub fn run(
    keep: Option<PathBuf>,
    external: Option<String>,
    external_db: Option<PathBuf>,
) -> CliResult {
    let temp = tempfile::tempdir().map_err(kring_client::Error::Io)?;
    let dir = keep.unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir).map_err(kring_client::Error::Io)?;

    let (url, relay) = match external {
        Some(url) => {
            step(&t!("demo-relay-external", url = &url));
            (url, DemoRelay::External { db: external_db })
        }
        None => {
            let (url, relay) = DemoRelay::start(dir.join("relay.db"))?;
            step(&t!("demo-relay-local", url = &url));
            (url, relay)
        }
    };

    step(&t!("demo-step-create"));
    let mut sanne_device = Device::open_in(&phone_dir(&dir, "Sanne"))?;
    let circle = sanne_device.create_circle(
        "Kring van Sanne",
        Language::Nl,
        "Sanne",
        Some(&url),
        Timestamp::now(),
    )?;
    let mut sanne = Phone {
        name: "Sanne",
        device: sanne_device,
        circle,
    };
    say(&t!(
        "demo-founded",
        circle = sanne.circle.short(),
        device = sanne.device.id().short()
    ));
    say(&sanne.sync()?);

    step(&t!("demo-step-invite"));
    let mut fatima = join(
        &dir,
        "Fatima",
        Relation::Coordinator,
        Capability::Admin,
        &sanne,
    )?;
    let mut jan = join(&dir, "Jan", Relation::Family, Capability::Member, &sanne)?;
    let mut piet = join(
        &dir,
        "Piet",
        Relation::Neighbour,
        Capability::Member,
        &sanne,
    )?;
    let mut marloes = join(
        &dir,
        "Marloes",
        Relation::Professional,
        Capability::Member,
        &fatima,
    )?;
    say(&t!("demo-marloes"));
    say(&sanne.sync()?);
    let members: Vec<String> = sanne
        .view()?
        .members
        .iter()
        .map(|m| {
            format!(
                "{} ({})",
                m.display_name,
                word("relation", &m.relation.to_string())
            )
        })
        .collect();
    say(&t!("demo-members", names = members.join(", ")));

    step(&t!("demo-step-designate"));
    let now = Timestamp::now();
    let (fatima_id, marloes_id) = (fatima.me()?, marloes.me()?);
    sanne.edit(|plan, me| {
        plan.designate(me, &fatima_id, Some(Designation::Coordinator), now)?;
        plan.designate(me, &marloes_id, Some(Designation::Professional), now)
    })?;
    say(&sanne.sync()?);

    step(&t!("demo-step-plan"));
    sanne.edit(|plan, me| {
        plan.set_question(me, "Hoe houd ik mijn huis en kom ik uit de schulden?", now)?;
        plan.add_to_list(
            me,
            PlanList::Goals,
            "Over drie maanden zijn alle rekeningen op tijd betaald.",
            now,
        )?;
        plan.add_to_list(
            me,
            PlanList::Contingencies,
            "Als Sanne een brief niet snapt, belt ze Jan dezelfde dag.",
            now,
        )
    })?;
    say(&fatima.sync()?);
    fatima.edit(|plan, me| {
        plan.add_task(
            me,
            NewTask {
                category: TaskCategory::Ride,
                schedule: Schedule::Due {
                    at: now.plus_days(3),
                },
                slots: 1,
                checker: Some(fatima_id.clone()),
                ..NewTask::simple(RIDE)
            },
            now,
        )?;
        plan.add_task(
            me,
            NewTask {
                category: TaskCategory::Meal,
                schedule: Schedule::Weekly {
                    first_at: now.plus_days(2),
                    every_weeks: 1,
                    until: None,
                },
                ..NewTask::simple("Woensdag samen koken")
            },
            now,
        )
    })?;
    marloes.edit(|plan, me| {
        plan.add_task(
            me,
            NewTask {
                owner_kind: OwnerKind::Professional,
                category: TaskCategory::Professional,
                ..NewTask::simple("Budgetplan maken")
            },
            now,
        )
    })?;
    for phone in [&mut sanne, &mut fatima, &mut marloes] {
        say(&phone.sync()?);
    }

    step(&t!("demo-step-fetch"));
    say(&jan.sync()?);
    say(&piet.sync()?);
    match piet.edit(|plan, me| plan.set_question(me, "Een andere vraag", now)) {
        Err(e) => say(&t!("demo-piet-tries", error = e.to_string())),
        Ok(()) => return Err(CliError::Usage(t!("demo-expected-refusal"))),
    }
    say(&t!("demo-modified-app"));

    step(&t!("demo-step-offline"));
    let ride = task_titled(&jan.view()?, RIDE)?;
    let claimed_at = Timestamp::now();
    jan.edit(|plan, me| plan.claim_task(me, &ride, claimed_at))?;
    piet.edit(|plan, me| plan.claim_task(me, &ride, claimed_at.plus_millis(60_000)))?;
    say(&t!("demo-claims"));
    say(&t!(
        "demo-outboxes",
        jan = jan.device.status(&jan.circle)?.pending,
        piet = piet.device.status(&piet.circle)?.pending
    ));

    step(&t!("demo-step-online"));
    say(&piet.sync()?);
    say(&jan.sync()?);
    say(&piet.sync()?);
    let (jan_view, piet_view) = (jan.view()?, piet.view()?);
    let task = jan_view.task(&ride).cloned();
    let winner = task.as_ref().and_then(|t| t.winners().next().cloned());
    say(&t!(
        "demo-resolved",
        same = yes_no(jan_view == piet_view),
        winner = winner
            .as_ref()
            .map_or_else(|| t!("demo-nobody"), |w| jan_view.display_name(w)),
        overbooked = yes_no(task.is_some_and(|t| t.overbooked)),
    ));

    step(&t!("demo-step-offer"));
    let later = Timestamp::now();
    piet.edit(|plan, me| {
        plan.unclaim_task(me, &ride, later)?;
        plan.add_offer(me, "Ik kan rijden", "dinsdag", later)?;
        Ok(())
    })?;
    say(&piet.sync()?);

    step(&t!("demo-step-condition"));
    say(&marloes.sync()?);
    let condition = marloes
        .edit(|plan, me| plan.set_condition(me, "Post wordt elke week samen geopend.", later))?;
    say(&marloes.sync()?);
    say(&sanne.sync()?);
    sanne.edit(|plan, me| {
        plan.accept_condition(me, &condition, later)?;
        plan.set_plan_status(me, PlanStatus::Presented, later)?;
        plan.approve_plan(me, later)?;
        plan.set_plan_status(me, PlanStatus::Accepted, later)
    })?;
    say(&sanne.sync()?);

    step(&t!("demo-step-remove"));
    let piet_id = piet.me()?;
    sanne
        .device
        .remove_member(&sanne.circle, &piet_id, Timestamp::now())?;
    let epoch = sanne.device.status(&sanne.circle)?.epoch.unwrap_or(0);
    say(&t!("demo-removed", epoch = epoch));
    say(&jan.sync()?);
    jan.edit(|plan, me| {
        plan.post(
            me,
            LogKind::Update,
            "Afspraak bij de schuldhulp ging goed.",
            Timestamp::now(),
        )
    })?;
    say(&jan.sync()?);
    match piet.device.sync(&piet.circle, Timestamp::now()) {
        Ok(_) => say(&t!("demo-piet-synced")),
        Err(e) => say(&t!("demo-piet-refused", error = e.to_string())),
    }
    let piet_keys: Vec<u64> = piet
        .device
        .trust(&piet.circle)?
        .map(|t| t.keys().epochs().collect())
        .unwrap_or_default();
    say(&t!(
        "demo-piet-keys",
        epochs = format!("{piet_keys:?}"),
        epoch = epoch
    ));

    step(&t!("demo-step-same"));
    let mut views = Vec::new();
    for phone in [&mut sanne, &mut fatima, &mut jan, &mut marloes] {
        say(&phone.sync()?);
    }
    for phone in [&sanne, &fatima, &jan, &marloes] {
        views.push(phone.view()?);
    }
    say(&t!(
        "demo-identical",
        same = yes_no(views.windows(2).all(|w| w[0] == w[1]))
    ));

    step(&t!("demo-step-relay"));
    match relay.finish()? {
        Some(relay_db) => {
            let mut raw = Vec::new();
            for suffix in ["", "-wal"] {
                let path = PathBuf::from(format!("{}{suffix}", relay_db.display()));
                if let Ok(bytes) = std::fs::read(&path) {
                    raw.extend(bytes);
                }
            }
            for needle in ["Sanne", "Piet", "schuldhulp", "Budgetplan"] {
                let found = raw.windows(needle.len()).any(|w| w == needle.as_bytes());
                say(&t!(
                    "demo-in-relay-db",
                    needle = format!("{needle:?}"),
                    found = if found {
                        t!("demo-found")
                    } else {
                        t!("demo-no")
                    }
                ));
            }
        }
        None => say(&t!("demo-pass-relay-db")),
    }

    step(&t!("demo-step-show"));
    say!("{}", render::plan(&sanne.view()?, &sanne.me()?));
    say!(
        "{}",
        t!(
            "demo-stores",
            dir = dir.display().to_string(),
            kept = if dir == temp.path() {
                t!("demo-stores-removed")
            } else {
                t!("demo-stores-kept")
            }
        )
    );
    Ok(())
}
