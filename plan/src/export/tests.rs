//! Export tests: snapshots of both formats in both languages, and hostile text that
//! must stay inert (checked by parsing the output, not by string matching alone).
//!
//! Snapshots live in `src/export/snapshots/`. A mismatch fails the test (under `CI`
//! insta writes nothing; locally it writes a `.snap.new` to review with
//! `cargo insta review` or `INSTA_UPDATE=always`).

use super::*;
use crate::fixtures::PlanBuilder;
use crate::plan::view::{OwnerKind, Relation, Schedule, TaskCategory};
use proptest::prelude::*;
use pulldown_cmark::{Event, Options, Parser, Tag};

fn at(y: i64, mo: u32, d: u32, h: u32, mi: u32) -> Timestamp {
    Timestamp::from_civil_utc(y, mo, d, h, mi)
}

fn now() -> Timestamp {
    at(2024, 6, 3, 12, 0)
}

/// A realistic accepted plan using every section.
fn rich_plan() -> PlanView {
    let meeting = at(2024, 5, 6, 10, 0);
    let mut b = PlanBuilder::new("Kring van Fatima", "Fatima", meeting);
    let main = b.main_person();
    let jan = b.member("Jan", Relation::Family, meeting);
    b.member_mut(&jan).role_label = "broer".into();
    let piet = b.member("Piet", Relation::Friend, meeting);
    let els = b.member("Els", Relation::Neighbour, meeting);
    let anna = b.member("Anna de Vries", Relation::Professional, meeting);
    b.member_mut(&anna).role_label = "jeugdbeschermer".into();
    let weg = b.member("Vertrokken", Relation::Other, meeting);
    b.member_mut(&weg).removed_at = Some(at(2024, 5, 20, 8, 0));

    let question = "Hoe zorgen we dat Fatima en de kinderen veilig thuis kunnen blijven wonen?";
    let concerns = [
        "De huur is drie maanden niet betaald.",
        "Fatima is vaak moe en alleen.",
    ];
    let goals = [
        "Over drie maanden zijn er geen nieuwe schulden.",
        "De kinderen gaan elke dag naar school.",
    ];
    let contingencies = ["Als Jan niet kan rijden, belt Fatima eerst Els."];
    let items = |b: &mut PlanBuilder, texts: &[&str]| {
        texts
            .iter()
            .map(|t| b.text_item(&main, meeting, t))
            .collect::<Vec<_>>()
    };
    let concerns = items(&mut b, &concerns);
    let goals = items(&mut b, &goals);
    let contingencies = items(&mut b, &contingencies);
    {
        let section = b.plan_mut();
        section.question = question.into();
        section.concerns = concerns;
        section.goals = goals;
        section.contingencies = contingencies;
    }

    let ride = b.task(
        "Naar de huisarts brengen",
        Schedule::Due {
            at: at(2024, 6, 4, 9, 30),
        },
        meeting,
    );
    b.task_mut(&ride).category = TaskCategory::Ride;
    b.task_mut(&ride).checker = Some(main.clone());
    b.claim(&ride, &jan, meeting);
    let meals = b.task(
        "Koken voor het gezin",
        Schedule::Weekly {
            first_at: at(2024, 5, 8, 17, 0),
            every_weeks: 1,
            until: Some(at(2024, 8, 28, 17, 0)),
        },
        meeting,
    );
    b.task_mut(&meals).slots = 2;
    b.task_mut(&meals).notes = "Geen varkensvlees.".into();
    b.task_mut(&meals).checker = Some(els.clone());
    b.claim(&meals, &piet, meeting);
    let move_house = b.task("Helpen met opruimen", Schedule::Unscheduled, meeting);
    b.task_mut(&move_house).slots = 2;
    let letters = b.task(
        "Post openmaken en sorteren",
        Schedule::Weekly {
            first_at: at(2024, 5, 10, 16, 0),
            every_weeks: 2,
            until: None,
        },
        meeting,
    );
    b.task_mut(&letters).owner_kind = OwnerKind::MainPerson;
    let done = b.task(
        "Kast ophalen",
        Schedule::Due {
            at: at(2024, 5, 11, 10, 0),
        },
        meeting,
    );
    b.claim(&done, &els, meeting);
    b.complete(&done, &els, at(2024, 5, 11, 12, 0), None);
    let debt = b.task(
        "Aanmelden bij schuldhulp",
        Schedule::Due {
            at: at(2024, 5, 20, 9, 0),
        },
        meeting,
    );
    {
        let t = b.task_mut(&debt);
        t.owner_kind = OwnerKind::Professional;
        t.created_by = anna.clone();
    }
    b.condition(
        "De kinderen slapen niet bij oom Karel.",
        &anna,
        meeting,
        Some(at(2024, 5, 7, 9, 0)),
    );
    b.condition(
        "Fatima gaat elke maand naar de huisarts.",
        &anna,
        meeting,
        None,
    );

    b.review_at(Some(at(2024, 8, 5, 14, 0)));
    b.held_review(&anna, at(2024, 6, 1, 14, 0), "Eerste weken gaan goed.");
    b.accept(at(2024, 5, 8, 20, 0));
    b.plan_mut().approvals.push(crate::plan::view::Approval {
        member: jan,
        at: at(2024, 5, 9, 8, 0),
    });
    b.build()
}

fn empty_plan() -> PlanView {
    PlanBuilder::new("Kring", "Sam", at(2024, 6, 1, 9, 0)).build()
}

#[test]
fn snapshot_markdown_nl() {
    insta::assert_snapshot!(export_plan(
        &rich_plan(),
        now(),
        ExportFormat::Markdown,
        Language::Nl
    ));
}

#[test]
fn snapshot_markdown_en() {
    insta::assert_snapshot!(export_plan(
        &rich_plan(),
        now(),
        ExportFormat::Markdown,
        Language::En
    ));
}

#[test]
fn snapshot_html_nl() {
    insta::assert_snapshot!(export_plan(
        &rich_plan(),
        now(),
        ExportFormat::Html,
        Language::Nl
    ));
}

#[test]
fn snapshot_html_en() {
    insta::assert_snapshot!(export_plan(
        &rich_plan(),
        now(),
        ExportFormat::Html,
        Language::En
    ));
}

#[test]
fn snapshot_empty_plan_markdown_nl() {
    insta::assert_snapshot!(export_plan(
        &empty_plan(),
        now(),
        ExportFormat::Markdown,
        Language::Nl
    ));
}

#[test]
fn every_section_is_present_in_order() {
    let doc = build_document(&rich_plan(), now(), Language::Nl);
    let kinds: Vec<SectionKind> = doc.sections.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            SectionKind::Question,
            SectionKind::Concerns,
            SectionKind::Goals,
            SectionKind::Agreements,
            SectionKind::Professionals,
            SectionKind::Safety,
            SectionKind::Contingencies,
            SectionKind::Evaluation,
            SectionKind::Participants,
            SectionKind::Approvals,
        ]
    );
    // Removed members are not participants; cancelled tasks are not agreements.
    let md = markdown::render(&doc);
    assert!(!md.contains("Vertrokken"));
    assert!(md.contains("## Als het anders gaat"));
}

#[test]
fn export_format_parses_cli_words() {
    assert_eq!(
        "md".parse::<ExportFormat>().unwrap(),
        ExportFormat::Markdown
    );
    assert_eq!(
        "Markdown".parse::<ExportFormat>().unwrap(),
        ExportFormat::Markdown
    );
    assert_eq!("html".parse::<ExportFormat>().unwrap(), ExportFormat::Html);
    assert!(matches!(
        "pdf".parse::<ExportFormat>(),
        Err(crate::Error::InvalidValue { .. })
    ));
}

// ---- hostile text ------------------------------------------------------------------

const HOSTILE: &[&str] = &[
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "# heading",
    "![img](https://evil.example/x.png)",
    "<img src=x onerror=alert(1)>",
    "`code` and ```fence```",
    "line one\n# injected heading\n<b>bold</b>",
    "| cell | break |",
    "**bold** _em_ ~~strike~~",
    "www.evil.example and https://evil.example and a@b.example",
    "&lt;b&gt; &amp; &#60;",
    "---",
    "1. list",
    "> quote",
    "<!-- comment -->",
    "[ref]: https://evil.example",
    "\u{0}\u{7}tab\there\r\nnext",
    "\"quoted\" 'single' /slash/ \\backslash\\",
];

/// A plan where people wrote `text` in every field a person can write.
fn hostile_plan(text: &str) -> PlanView {
    let t = at(2024, 5, 6, 10, 0);
    let mut b = PlanBuilder::new(text, text, t);
    let main = b.main_person();
    let helper = b.member(text, Relation::Family, t);
    b.member_mut(&helper).role_label = text.into();
    let pro = b.member(text, Relation::Professional, t);
    b.member_mut(&pro).role_label = text.into();
    let item = b.text_item(&main, t, text);
    {
        let section = b.plan_mut();
        section.question = text.into();
        section.concerns = vec![item.clone()];
        section.goals = vec![item.clone()];
        section.contingencies = vec![item];
    }
    let task = b.task(
        text,
        Schedule::Due {
            at: at(2024, 6, 4, 9, 30),
        },
        t,
    );
    b.task_mut(&task).notes = text.into();
    b.task_mut(&task).checker = Some(helper.clone());
    b.claim(&task, &helper, t);
    let professional = b.task(text, Schedule::Unscheduled, t);
    b.task_mut(&professional).owner_kind = OwnerKind::Professional;
    b.task_mut(&professional).created_by = pro.clone();
    b.condition(text, &pro, t, None);
    b.held_review(&pro, t, text);
    b.review_at(Some(at(2024, 8, 5, 14, 0)));
    b.accept(t);
    b.build()
}

/// How people's text should read after export: control characters as spaces, trimmed.
fn as_one_line(text: &str) -> String {
    let s: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    s.trim().to_owned()
}

/// Parses the Markdown (CommonMark + GFM tables/strikethrough/footnotes/task lists)
/// and checks its structure is exactly what Kring wrote.
fn assert_markdown_inert(md: &str, text: &str) {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TASKLISTS;
    let mut headings = 0;
    let mut tables = 0;
    let mut rules = 0;
    let mut all_text = String::new();
    for event in Parser::new_ext(md, options) {
        match &event {
            Event::Start(Tag::Heading { .. }) => headings += 1,
            Event::Start(Tag::Table(_)) => tables += 1,
            Event::Text(t) => all_text.push_str(t),
            Event::Start(
                Tag::Link { .. }
                | Tag::Image { .. }
                | Tag::CodeBlock(_)
                | Tag::BlockQuote(_)
                | Tag::Strikethrough
                | Tag::HtmlBlock
                | Tag::FootnoteDefinition(_),
            )
            | Event::Html(_)
            | Event::InlineHtml(_)
            | Event::Code(_)
            | Event::FootnoteReference(_)
            | Event::TaskListMarker(_) => panic!("user text became markup: {event:?}\n{md}"),
            Event::Rule => rules += 1,
            _ => {}
        }
    }
    assert_eq!(
        headings, 11,
        "one title and ten sections, no injected headings\n{md}"
    );
    assert_eq!(tables, 3, "agreements, professionals, participants\n{md}");
    assert_eq!(rules, 1, "only Kring's footer rule\n{md}");
    let expected = as_one_line(text);
    if !expected.is_empty() {
        assert!(
            all_text.contains(&expected),
            "text {expected:?} not shown literally in\n{all_text}"
        );
    }
}

const HTML_TAGS: &[&str] = &[
    "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "ul", "li",
    "section", "p", "table", "thead", "tbody", "tr", "th", "td", "strong", "br", "footer",
];

/// Every tag in the page is one Kring writes; people's text appears escaped.
fn assert_html_inert(html: &str, text: &str) {
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let tag_end = rest[start..]
            .find('>')
            .map(|e| start + e)
            .expect("closed tag");
        let tag = &rest[start + 1..tag_end];
        let name = tag
            .trim_start_matches('/')
            .split([' ', '>'])
            .next()
            .unwrap_or("");
        assert!(
            HTML_TAGS.contains(&name),
            "unexpected tag <{tag}> in\n{html}"
        );
        rest = &rest[tag_end + 1..];
    }
    assert!(!html.contains("href") && !html.contains("src=\"") && !html.contains("<script"));
    let expected = as_one_line(text);
    if !expected.is_empty() {
        let escaped = html_escape::encode_safe(&expected).replace('\n', "<br>");
        // Line breaks inside the text are kept as <br>; compare the first line.
        let first_line = escaped.split("<br>").next().unwrap_or("");
        assert!(html.contains(first_line), "escaped {first_line:?} missing");
    }
}

#[test]
fn hostile_text_stays_inert_in_markdown() {
    for text in HOSTILE {
        for lang in [Language::Nl, Language::En] {
            let md = export_plan(&hostile_plan(text), now(), ExportFormat::Markdown, lang);
            assert_markdown_inert(&md, text);
        }
    }
}

#[test]
fn hostile_text_stays_inert_in_html() {
    for text in HOSTILE {
        for lang in [Language::Nl, Language::En] {
            let html = export_plan(&hostile_plan(text), now(), ExportFormat::Html, lang);
            assert_html_inert(&html, text);
        }
    }
    let html = export_plan(
        &hostile_plan("<script>alert(1)</script>"),
        now(),
        ExportFormat::Html,
        Language::Nl,
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"));
    assert!(html.contains("<title>Familiegroepsplan: &lt;script&gt;"));
}

#[test]
fn markdown_escapes_every_ascii_punctuation_in_user_text() {
    assert_eq!(
        markdown::escape_user_text(" [x](javascript:alert(1)) "),
        r"\[x\]\(javascript\:alert\(1\)\)"
    );
    assert_eq!(markdown::escape_user_text("# a\nb"), r"\# a b");
    assert_eq!(markdown::escape_user_text("Jan-Willem"), r"Jan\-Willem");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_text_stays_inert(text in "\\PC{0,40}|[\\[\\]()<>#*_`!|~&:/.\\\\ a-z\n-]{0,40}") {
        let plan = hostile_plan(&text);
        assert_markdown_inert(&export_plan(&plan, now(), ExportFormat::Markdown, Language::Nl), &text);
        assert_html_inert(&export_plan(&plan, now(), ExportFormat::Html, Language::En), &text);
    }
}

/// All-day tasks, a deadline typed as a date and an evaluation day read as days in
/// both formats and languages; a ride at 10:00 keeps its time on the day the clock
/// goes back.
#[test]
fn whole_days_are_exported_without_a_clock_time() {
    let (c, now) = crate::fixtures::amsterdam::whole_days(Language::Nl);
    let plan = c.plan.view();
    for format in [ExportFormat::Markdown, ExportFormat::Html] {
        let nl = export_plan(&plan, now, format, Language::Nl);
        for expected in [
            "Op zaterdag 24 oktober 2026",
            "Uiterlijk maandag 26 oktober 2026",
            "Op zondag 25 oktober 2026 om 10.00 uur",
            "dinsdag 27 oktober 2026",
        ] {
            assert!(nl.contains(expected), "{expected} in {nl}");
        }
        assert!(!nl.contains(" 0.00 uur"), "{nl}");
        let en = export_plan(&plan, now, format, Language::En);
        for expected in [
            "On Saturday 24 October 2026",
            "By Monday 26 October 2026",
            "On Sunday 25 October 2026 at 10:00",
            "Tuesday 27 October 2026",
        ] {
            assert!(en.contains(expected), "{expected} in {en}");
        }
        assert!(!en.contains(" 0:00"), "{en}");
    }
}
