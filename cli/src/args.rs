//! Command-line arguments (clap). Every read command honours the global `--json`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "kring",
    version,
    about = "Keep a circle's care plan alive: Kring from the command line"
)]
pub struct Cli {
    /// Where this device keeps its circles (default: the user's data directory).
    #[arg(long, global = true, env = "KRING_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Which circle to work on: an id or id prefix (default: the current circle).
    #[arg(long, short = 'c', global = true)]
    pub circle: Option<String>,
    /// Print reads as JSON, for scripts.
    #[arg(long, global = true)]
    pub json: bool,
    /// Language of what kring says, and of `followup`, `week` and md/html exports:
    /// nl | en (default: the circle's language). With `circle create`: the new
    /// circle's language (default nl).
    #[arg(long, global = true)]
    pub lang: Option<String>,
    /// Pretend it is this moment (UTC), for demos and tests.
    #[arg(long, global = true, env = "KRING_NOW", hide = true)]
    pub now: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the largest variant (a task with all its date
// options) costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, list and pick circles.
    #[command(subcommand)]
    Circle(CircleCmd),
    /// Show the whole plan as readable tables.
    Show,
    /// Who you are in the current circle.
    Whoami,
    /// People in the circle.
    #[command(subcommand)]
    Member(MemberCmd),
    /// Tasks: who does what, when.
    #[command(subcommand)]
    Task(TaskCmd),
    /// The plan itself: question, concerns, goals, "if it goes differently", status, evaluation.
    #[command(subcommand)]
    Plan(PlanCmd),
    /// Safety conditions set by professionals.
    #[command(subcommand)]
    Condition(ConditionCmd),
    /// Standing offers ("I can drive on Tuesdays").
    #[command(subcommand)]
    Offer(OfferCmd),
    /// Post an update, thanks, a worry or a check-in to the circle.
    Post {
        text: String,
        #[arg(long, default_value = "update", value_parser = ["update", "thanks", "concern", "checkin"])]
        kind: String,
    },
    /// Meetings and RSVPs.
    #[command(subcommand)]
    Meeting(MeetingCmd),
    /// Write the circle's plan: as a standard automerge file (the default: an unsigned,
    /// read-only interchange copy any automerge tool opens), as a signed bundle that
    /// another device of the circle can merge (--signed), readable as Markdown or a
    /// printable HTML page, or handed over to professionals (--to) as an HL7 FHIR
    /// CarePlan (fhir) or a PDF/A (pdf): only the main person or an admin, recorded in
    /// the plan.
    Export {
        /// File to write (the same as --out).
        file: Option<PathBuf>,
        /// automerge | md | html | fhir | pdf
        #[arg(long, default_value = "automerge", value_parser = ["automerge", "md", "html", "fhir", "pdf"])]
        format: String,
        /// fhir and pdf: who receives the plan ("Wijkteam Noord"), recorded in the plan.
        #[arg(long)]
        to: Option<String>,
        /// fhir and pdf: people's names go with the plan (the main person's consent);
        /// without, each person is their relation to her.
        #[arg(long)]
        names: bool,
        /// Write a signed bundle (the membership log and this device's signed changes)
        /// for `kring merge` on another device of the same circle.
        #[arg(long, conflicts_with = "format")]
        signed: bool,
        /// File to write; without one, md and html go to standard output.
        #[arg(long, conflicts_with = "file")]
        out: Option<PathBuf>,
    },
    /// Family time (besloten familietijd): open it, close it, or give the family a fresh
    /// key after someone joined, left or was marked professional. Only the main person
    /// or an admin. Without an action: whether it is open and whether this device holds
    /// the family key (a professional's device never does).
    FamilyTime {
        /// open | close | rotate | present
        #[arg(value_parser = ["open", "close", "rotate", "present"])]
        action: Option<String>,
    },
    /// Follow-up across every circle on this device: what is slipping, most urgent first.
    /// Its language: `--lang`, else the current circle's.
    Followup,
    /// "My plan this week": the main person's next seven days, in plain language
    /// (`--lang`, else the circle's language).
    Week,
    /// Write the plan as an iCalendar file (RFC 5545) for the phone's own calendar:
    /// every task and meeting, or with --mine only your own turns, with a reminder.
    /// Importing it again updates the entries.
    Calendar {
        #[arg(long)]
        mine: bool,
        #[arg(long)]
        out: PathBuf,
    },
    /// Your reminders for the coming days, across every circle (or --circle): your
    /// turns, open turns you could take, the evaluation. `kring reminders set` changes
    /// what this device reminds you of.
    #[command(args_conflicts_with_subcommands = true)]
    Reminders {
        #[command(subcommand)]
        set: Option<RemindersCmd>,
        /// How many days ahead (1 to 366).
        #[arg(long, default_value_t = kring_plan::reminders::DEFAULT_DAYS,
              value_parser = clap::value_parser!(u32).range(1..=366))]
        days: u32,
    },
    /// What changed in your circles since you last looked (or in --circle): who took
    /// what, new tasks that need someone, thanks. Sync first to hear from others.
    News,
    /// Merge a file from another device of the same circle: a signed bundle
    /// (`kring export --signed`), checked as sync checks, or, for a circle imported
    /// from a file, an automerge file.
    Merge { file: PathBuf },
    /// Play a whole circle, narrated, through a relay it starts on this computer:
    /// invites, the plan, offline claims, a conflict resolved, a member removed.
    Demo {
        /// Keep the demo's data directories here instead of a temporary folder.
        #[arg(long)]
        keep: Option<PathBuf>,
        /// Use this running relay instead of starting one inside the demo.
        #[arg(long)]
        relay: Option<String>,
        /// With --relay: that relay's database file, to show what it holds.
        #[arg(long, requires = "relay")]
        relay_db: Option<PathBuf>,
    },
    /// Add a circle to this device from an automerge file, acting as one of its members.
    Import {
        file: PathBuf,
        /// The member you are in that circle: a name or id (prefix).
        #[arg(long = "as")]
        as_member: String,
    },
    /// This device: its id (a public key) and where it keeps its data.
    Identity,
    /// The relay the current circle syncs through.
    #[command(subcommand)]
    Relay(RelayCmd),
    /// Web Push wake-ups for the current circle: the relay tells this device's push
    /// service "something changed" (no content) when others change the plan.
    #[command(subcommand)]
    Push(PushCmd),
    /// Make an invite link for one new person (prints a kring:// link; share it
    /// privately); `invite list` shows the circle's invites, `invite revoke ID` takes
    /// one back.
    #[command(args_conflicts_with_subcommands = true)]
    Invite {
        #[command(subcommand)]
        manage: Option<InviteCmd>,
        /// member | reader | admin (only the main person invites admins).
        #[arg(long, default_value = "member", value_parser = ["member", "reader", "admin"])]
        capability: String,
        /// Days until the link expires.
        #[arg(long, default_value_t = 7)]
        expires_in_days: u32,
        /// Also print the link as a QR code.
        #[arg(long)]
        qr: bool,
        /// For someone you added by name (`kring member add Jan`): whoever joins
        /// with the link becomes that person, not a second one.
        #[arg(long = "for", value_name = "NAME")]
        for_person: Option<String>,
    },
    /// Your devices in the current circle: link another one, add this one, list, remove.
    #[command(subcommand)]
    Device(DeviceCmd),
    /// What a kring:// link says (which circle, who sent it, until when) before using it.
    Preview { link: String },
    /// Print a text, say a kring:// link, as a QR code in the terminal.
    Qr { text: String },
    /// Your recovery code for the current circle.
    #[command(subcommand)]
    Recovery(RecoveryCmd),
    /// On a new device, with your recovery code: take your place in a circle back
    /// (give its id with --circle). Your old devices are removed.
    Recover {
        /// The circle's relay.
        #[arg(long)]
        relay: String,
        /// The twelve words, in quotes.
        #[arg(long)]
        code: String,
    },
    /// Join a circle with an invite link.
    Join {
        link: String,
        /// Your name, as the circle will see it (not needed with a link made for
        /// you by name).
        #[arg(long)]
        name: Option<String>,
        /// family | friend | neighbour | professional | coordinator | other
        #[arg(long, default_value = "family")]
        relation: String,
    },
    /// Sync with the relay: send this device's changes, fetch everyone else's
    /// (every circle with a relay, or the one given with --circle).
    Sync,
    /// Stay connected and sync whenever something changes (Ctrl-C to stop).
    Watch {
        /// Stop after this many seconds (for scripts and tests).
        #[arg(long, hide = true)]
        seconds: Option<u64>,
    },
    /// Sync status: last synced, changes waiting to be sent, online or offline.
    Status,
}

/// Managing the circle's invites.
#[derive(Debug, Subcommand)]
pub enum InviteCmd {
    /// The circle's invites: what each grants, until when, made by whom, used or not.
    List,
    /// Take back an open invite (by the id `invite list` shows): nobody joins with it.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum RemindersCmd {
    /// This device's reminder choices for the current circle (they stay on this device).
    Set {
        /// on: no reminders at all for this circle; off: reminders again.
        #[arg(long, value_parser = ["on", "off"])]
        mute: Option<String>,
        /// on: a short digest of the week on Monday mornings.
        #[arg(long, value_parser = ["on", "off"])]
        digest: Option<String>,
        /// Quiet hours in the circle's time, such as 22:00-08:00: no reminder then.
        #[arg(long)]
        quiet: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RecoveryCmd {
    /// Make a new recovery code (the previous one made on this device stops working).
    Setup,
}

#[derive(Debug, Subcommand)]
pub enum DeviceCmd {
    /// A one-time link (kring://device/…) that adds another device of yours to the
    /// current circle, with what you may do there. Short-lived: use it right away.
    Link {
        /// Minutes until the link expires (at most 60; default 10).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=60))]
        minutes: Option<u32>,
        /// Also print the link as a QR code.
        #[arg(long)]
        qr: bool,
        /// One link for every circle on this device that has a relay (one line each:
        /// the link, a tab, the circle's name).
        #[arg(long, conflicts_with = "qr")]
        all: bool,
    },
    /// On the new device: join the circles of one or more device links as yourself.
    Add {
        #[arg(required = true, num_args = 1..)]
        links: Vec<String>,
    },
    /// Your devices in the current circle.
    List,
    /// Remove one of your devices (a lost phone); rotates the circle's key.
    Remove {
        /// The device id (or the start of it), from `kring device list`.
        device: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PushCmd {
    /// Register a Web Push subscription (RFC 8030 endpoint, RFC 8291 keys), for
    /// testing and scripts; the apps register the one their platform gives them.
    Register {
        /// The push endpoint (https).
        endpoint: String,
        /// The subscription's P-256 public key (65 bytes, base64url).
        // base64url may start with `-`: a key, not a flag.
        #[arg(long, allow_hyphen_values = true)]
        p256dh: String,
        /// The subscription's authentication secret (16 bytes, base64url).
        #[arg(long, allow_hyphen_values = true)]
        auth: String,
    },
    /// Stop the relay's wake-ups for this device in the current circle.
    Unregister,
    /// The relay's VAPID public key, to subscribe with (applicationServerKey).
    Key,
}

#[derive(Debug, Subcommand)]
pub enum RelayCmd {
    /// Set the relay of the current circle (before its first sync).
    Set { url: String },
    /// Show the relay of the current circle.
    Show,
}

#[derive(Debug, Subcommand)]
pub enum CircleCmd {
    /// Start a new circle; you are its main person.
    Create {
        #[arg(long)]
        name: String,
        /// Your own name, as the circle will see it.
        #[arg(long = "me")]
        me: String,
        /// The relay the circle syncs through (can be set later: `kring relay set`).
        #[arg(long)]
        relay: Option<String>,
        /// IANA time zone of the circle's dates (default: this device's, else
        /// Europe/Amsterdam).
        #[arg(long)]
        timezone: Option<String>,
    },
    /// The circles on this device.
    List,
    /// Make a circle the current one.
    Use { circle: String },
    /// Change the circle's time zone (the main person decides); dates keep their
    /// time on the clock.
    Timezone { zone: String },
    /// Close the circle for everyone (the main person only): the relay deletes the
    /// plan and keeps only a tombstone; every device keeps a read-only archive.
    Close {
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Erase the circle from this device only: plan, keys, changes waiting to be
    /// sent, sync state. The circle goes on for everyone else.
    Delete {
        /// Only this device (required: there is no other kind of delete; closing for
        /// everyone is `kring circle close`).
        #[arg(long, required = true)]
        local: bool,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemberCmd {
    Add {
        name: String,
        #[arg(long, default_value = "family")]
        relation: String,
        #[arg(long, default_value = "")]
        role: String,
    },
    /// Everyone who can read the plan: name, role (owner, admin, member, reader),
    /// marks and devices, readers included.
    List,
    /// Remove someone from the circle (their past contributions stay).
    Remove { member: String },
    /// Make someone an admin, a member or a reader (through the membership log; only
    /// the main person appoints admins).
    Role {
        member: String,
        #[arg(value_parser = ["admin", "member", "reader"])]
        role: String,
    },
    /// Mark someone as the circle's professional or coordinator, or clear the mark
    /// (the main person or an admin decides; professionals set safety conditions).
    Mark {
        member: String,
        #[arg(value_parser = ["professional", "coordinator", "none"])]
        mark: String,
    },
}

#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// Done by this moment, in the circle's time zone: 2026-11-24 or "2026-11-24 18:00".
    #[arg(long, conflicts_with_all = ["weekly_from", "repeat", "date"])]
    pub due: Option<String>,
    /// On this day (shown without a time), or at --at on it: "za", 2026-12-05.
    #[arg(long, conflicts_with_all = ["weekly_from", "repeat"])]
    pub date: Option<String>,
    /// Weekly from this first time (in the circle's time zone).
    #[arg(long, conflicts_with = "repeat")]
    pub weekly_from: Option<String>,
    /// With --weekly-from: every N weeks.
    #[arg(long, default_value_t = 1, requires = "weekly_from")]
    pub every_weeks: u32,
    /// Repeat: daily | weekly | monthly | yearly (RFC 5545 in the circle's time zone).
    #[arg(long, value_parser = ["daily", "weekly", "monthly", "yearly"])]
    pub repeat: Option<String>,
    /// With --repeat: weekdays (mon,wed or ma,wo), for monthly also an nth weekday
    /// (1mon, -1fri) or days of the month (15).
    #[arg(long, requires = "repeat")]
    pub on: Option<String>,
    /// The time of day (HH:MM); without it a repeat or --date is all day.
    #[arg(long)]
    pub at: Option<String>,
    /// With --repeat: the first day (default: today).
    #[arg(long, requires = "repeat")]
    pub from: Option<String>,
    /// With --repeat: every N days, weeks, months or years.
    #[arg(long, default_value_t = 1, requires = "repeat")]
    pub every: u32,
    /// With --repeat: this many times.
    #[arg(long, requires = "repeat", conflicts_with = "until")]
    pub count: Option<u32>,
    /// The last day of a repeat.
    #[arg(long)]
    pub until: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TaskCmd {
    Add {
        title: String,
        #[arg(long, default_value = "")]
        notes: String,
        #[arg(long, default_value = "other")]
        category: String,
        /// circle | professional | main_person
        #[arg(long, default_value = "circle")]
        owner: String,
        /// People needed.
        #[arg(long, default_value_t = 1)]
        slots: u32,
        /// Who checks it is done (name or id).
        #[arg(long)]
        checker: Option<String>,
        #[command(flatten)]
        schedule: ScheduleArgs,
    },
    List,
    /// Take a place on a task.
    Claim {
        task: String,
        /// Only the turn on this day (or at this time) of a repeating task.
        #[arg(long, conflicts_with = "from")]
        on: Option<String>,
        /// Every turn of a repeating task from this day on.
        #[arg(long)]
        from: Option<String>,
    },
    /// Give your turn on a day back and ask someone to take it over.
    Handover {
        task: String,
        #[arg(long)]
        on: String,
    },
    /// Leave one occurrence of a series out ("geen koken op 24 maart").
    Skip {
        task: String,
        #[arg(long)]
        on: String,
    },
    /// Move one occurrence of a series to another day or time.
    Move {
        task: String,
        #[arg(long)]
        on: String,
        #[arg(long)]
        to: String,
    },
    /// The dates of a task in the circle's time zone, with who is on each (without
    /// --to: the next twelve).
    Occurrences {
        task: String,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
    },
    /// Give your place back.
    Unclaim {
        task: String,
    },
    /// Mark a task (or this week's occurrence) done.
    Done {
        task: String,
        #[arg(long, default_value = "")]
        note: String,
        /// For recurring tasks: which occurrence (default: the latest one).
        #[arg(long)]
        occurrence: Option<String>,
    },
    Cancel {
        task: String,
    },
    /// Open a cancelled task again.
    Reopen {
        task: String,
    },
    /// Change a task: only what is given changes (who made it, the main person or an
    /// admin may).
    Edit {
        task: String,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        notes: Option<String>,
        #[arg(long)]
        category: Option<String>,
        #[arg(long)]
        slots: Option<u32>,
        /// Who checks it is done (name or id).
        #[arg(long, conflicts_with = "no_checker")]
        checker: Option<String>,
        /// Nobody checks it any more.
        #[arg(long)]
        no_checker: bool,
        /// A new date or schedule (replaces the current one).
        #[command(flatten)]
        schedule: ScheduleArgs,
        /// The task has no date any more.
        #[arg(long, conflicts_with_all = ["due", "weekly_from", "date", "repeat"])]
        no_date: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PlanCmd {
    /// Set the circle's question.
    Question { text: String },
    /// Add a concern.
    Concern { text: String },
    /// Add a goal.
    Goal { text: String },
    /// Add an "if it goes differently" agreement.
    Contingency { text: String },
    /// Move the plan: draft | presented | accepted | archived.
    Status { status: String },
    /// Say you agree with the plan.
    Approve,
    /// Set the next evaluation date (`none` clears it).
    ReviewDate { date: String },
    /// Take a concern, goal or "if it goes differently" line out of the plan.
    Remove {
        #[arg(value_parser = ["concern", "goal", "contingency"])]
        list: String,
        /// The line's id (prefix), as `kring show --json` lists it.
        id: String,
    },
    /// Record an evaluation that took place today.
    Review {
        summary: String,
        #[arg(long)]
        next: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConditionCmd {
    /// (Professionals) set a safety condition.
    Add { text: String },
    /// (Main person) accept a safety condition.
    Accept { condition: String },
}

#[derive(Debug, Subcommand)]
pub enum OfferCmd {
    Add {
        text: String,
        #[arg(long, default_value = "")]
        when: String,
    },
    Withdraw {
        offer: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MeetingCmd {
    Add {
        #[arg(long)]
        at: String,
        #[arg(long, default_value = "")]
        place: String,
        #[arg(long, default_value = "")]
        agenda: String,
    },
    /// Answer yes, no or maybe.
    Rsvp { meeting: String, answer: String },
    /// Move a meeting or change its place or agenda.
    Edit {
        meeting: String,
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        place: Option<String>,
        #[arg(long)]
        agenda: Option<String>,
    },
    /// Call a meeting off.
    Cancel { meeting: String },
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn push_keys_that_start_with_a_dash_are_keys() {
        // One base64url key in 32 starts with `-`; it must not be taken for a flag.
        let cli = Cli::try_parse_from([
            "kring",
            "push",
            "register",
            "https://push.example/x",
            "--p256dh",
            "-BL-uOXMgm",
            "--auth",
            "-2U3SqexwOEwyes9_YF5BQ",
        ])
        .expect("parsed");
        let rendered = format!("{cli:?}");
        assert!(rendered.contains("-2U3SqexwOEwyes9_YF5BQ"), "{rendered}");
        assert!(rendered.contains("-BL-uOXMgm"), "{rendered}");
    }
}
