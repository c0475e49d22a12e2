//! What the CLI says, in the circle's language: Dutch (plain B1 language, like the
//! exports) or English. Every sentence lives in `locales/{nl,en}/kring.ftl`
//! (Fluent), embedded at compile time; the code only names messages.
//!
//! The language is chosen once per process, like the time zone in [`crate::dates`]:
//! `--lang` if given, else the current circle's language, else (before there is a
//! circle) the system's: Dutch when `LANG` (or `LC_ALL`, `LC_MESSAGES`) says `nl…`,
//! English otherwise. `--json` output and kring-core's own errors stay English.
//!
//! Fluent's Unicode isolation marks are switched off: [`crate::terminal::safe`]
//! replaces bidi controls, and our placeables are names and numbers.

use std::borrow::Cow;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use kring_plan::plan::Language;
use unic_langid::LanguageIdentifier;

const NL_FTL: &str = include_str!("../locales/nl/kring.ftl");
const EN_FTL: &str = include_str!("../locales/en/kring.ftl");

static LANGUAGE: OnceLock<Language> = OnceLock::new();

/// Speaks `lang` from now on (the first call wins).
pub fn use_language(lang: Language) {
    let _ = LANGUAGE.set(lang);
}

/// The language messages are in.
pub fn language() -> Language {
    #[cfg(test)]
    if let Some(lang) = TEST_LANGUAGE.with(std::cell::Cell::get) {
        return lang;
    }
    LANGUAGE.get().copied().unwrap_or_else(system_language)
}

/// Before there is a circle to take the language from: the system's, as POSIX
/// orders its settings (`LC_ALL`, then `LC_MESSAGES`, then `LANG`); Dutch for `nl…`,
/// English otherwise.
fn system_language() -> Language {
    let setting = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.is_empty());
    match setting {
        Some(value) if value.to_lowercase().starts_with("nl") => Language::Nl,
        _ => Language::En,
    }
}

#[cfg(test)]
thread_local! {
    /// Tests speak both languages in one process, one per test thread.
    static TEST_LANGUAGE: std::cell::Cell<Option<Language>> = const { std::cell::Cell::new(None) };
}

/// Speaks `lang` on this thread until the end of the test.
#[cfg(test)]
pub fn speak_in_test(lang: Language) {
    TEST_LANGUAGE.with(|c| c.set(Some(lang)));
}

type Bundle = FluentBundle<FluentResource>;

fn source(lang: Language) -> &'static str {
    match lang {
        Language::Nl => NL_FTL,
        Language::En => EN_FTL,
    }
}

fn bundle(lang: Language) -> &'static Bundle {
    static NL: OnceLock<Bundle> = OnceLock::new();
    static EN: OnceLock<Bundle> = OnceLock::new();
    let cell = match lang {
        Language::Nl => &NL,
        Language::En => &EN,
    };
    cell.get_or_init(|| build(lang))
}

fn build(lang: Language) -> Bundle {
    let id: LanguageIdentifier = lang.to_string().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    bundle.set_use_isolating(false);
    // Our own files, checked by the tests below: a broken entry would only be skipped
    // (and then shown in English, or as its key).
    let resource = FluentResource::try_new(source(lang).to_owned()).unwrap_or_else(|(r, _)| r);
    let _ = bundle.add_resource(resource);
    bundle
}

/// A value for a placeable: text or a number (numbers choose plural forms).
pub struct Arg(FluentValue<'static>);

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg(FluentValue::String(Cow::Owned(s.to_owned())))
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg(FluentValue::String(Cow::Owned(s)))
    }
}
impl From<&String> for Arg {
    fn from(s: &String) -> Self {
        Arg::from(s.as_str())
    }
}
macro_rules! number_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(n: $t) -> Self {
                Arg(FluentValue::from(n))
            }
        }
    )*};
}
number_arg!(u32, u64, usize, i64, i32);

/// Message `key` in the process's language, with `args`; falls back to English,
/// then to the key itself.
pub fn message(key: &str, args: &[(&str, Arg)]) -> String {
    format_in(language(), key, args)
        .or_else(|| format_in(Language::En, key, args))
        .unwrap_or_else(|| key.to_owned())
}

fn format_in(lang: Language, key: &str, args: &[(&str, Arg)]) -> Option<String> {
    let bundle = bundle(lang);
    let pattern = bundle.get_message(key)?.value()?;
    let mut fargs = FluentArgs::new();
    for (name, Arg(value)) in args {
        fargs.set(*name, value.clone());
    }
    let mut errors = Vec::new();
    Some(
        bundle
            .format_pattern(pattern, Some(&fargs), &mut errors)
            .into_owned(),
    )
}

/// Whether `lang` has a message `key`.
/// Whether `lang` has its own sentence `key` (a field's own refusal, say).
pub fn has_message(lang: Language, key: &str) -> bool {
    bundle(lang).get_message(key).is_some()
}

/// A word for a stored value (`relation`, `main_person` → "hoofdpersoon"): message
/// `{group}-{value}`, else the value as stored.
pub fn word(group: &str, value: &str) -> String {
    let key = format!("{group}-{value}");
    format_in(language(), &key, &[])
        .or_else(|| format_in(Language::En, &key, &[]))
        .unwrap_or_else(|| value.to_owned())
}

/// `t!("key")` or `t!("key", name = value, …)`: a message in the process's language.
macro_rules! t {
    ($key:literal) => {
        $crate::i18n::message($key, &[])
    };
    ($key:literal, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::i18n::message(
            $key,
            &[$((stringify!($name), $crate::i18n::Arg::from($value))),+],
        )
    };
}

/// Every stored value that [`word`] translates, by group (checked by the tests).
#[cfg(test)]
pub const WORDS: &[(&str, &[&str])] = &[
    ("invite-state", &["open", "used", "expired", "revoked"]),
    (
        "relation",
        &[
            "main_person",
            "family",
            "friend",
            "neighbour",
            "professional",
            "coordinator",
            "other",
        ],
    ),
    ("designation", &["professional", "coordinator"]),
    (
        "plan-status",
        &["draft", "presented", "accepted", "archived"],
    ),
    ("task-status", &["open", "cancelled", "archived"]),
    ("log-kind", &["update", "thanks", "concern", "checkin"]),
    ("rsvp", &["yes", "no", "maybe"]),
    ("capability", &["reader", "member", "admin", "owner"]),
    ("language", &["nl", "en"]),
    (
        "thing",
        &[
            "circle",
            "device",
            "line",
            "meeting",
            "offer",
            "member",
            "task",
            "condition",
        ],
    ),
];

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use fluent_syntax::ast;

    use super::*;

    /// Message id → the variables it uses.
    fn messages(lang: Language) -> BTreeMap<String, BTreeSet<String>> {
        let resource = match FluentResource::try_new(source(lang).to_owned()) {
            Ok(r) => r,
            Err((_, errors)) => panic!("{lang}: the .ftl does not parse: {errors:?}"),
        };
        let mut out = BTreeMap::new();
        for entry in resource.entries() {
            if let ast::Entry::Message(m) = entry {
                let mut vars = BTreeSet::new();
                if let Some(p) = &m.value {
                    pattern_vars(p, &mut vars);
                }
                out.insert(m.id.name.to_owned(), vars);
            }
        }
        out
    }

    fn pattern_vars(p: &ast::Pattern<&str>, vars: &mut BTreeSet<String>) {
        for el in &p.elements {
            if let ast::PatternElement::Placeable { expression } = el {
                expression_vars(expression, vars);
            }
        }
    }

    fn expression_vars(e: &ast::Expression<&str>, vars: &mut BTreeSet<String>) {
        match e {
            ast::Expression::Inline(i) => inline_vars(i, vars),
            ast::Expression::Select { selector, variants } => {
                inline_vars(selector, vars);
                for v in variants {
                    pattern_vars(&v.value, vars);
                }
            }
        }
    }

    fn inline_vars(i: &ast::InlineExpression<&str>, vars: &mut BTreeSet<String>) {
        match i {
            ast::InlineExpression::VariableReference { id } => {
                vars.insert(id.name.to_owned());
            }
            ast::InlineExpression::Placeable { expression } => expression_vars(expression, vars),
            ast::InlineExpression::FunctionReference { arguments, .. } => {
                for a in &arguments.positional {
                    inline_vars(a, vars);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn both_languages_have_the_same_messages_with_the_same_arguments() {
        let nl = messages(Language::Nl);
        let en = messages(Language::En);
        let nl_ids: BTreeSet<_> = nl.keys().collect();
        let en_ids: BTreeSet<_> = en.keys().collect();
        assert_eq!(
            nl_ids.symmetric_difference(&en_ids).collect::<Vec<_>>(),
            Vec::<&&String>::new(),
            "messages in only one language"
        );
        // Dutch may leave out what English says in core's own words (a refusal's
        // reason written in English); it never uses an argument English does not get.
        for (id, vars) in &nl {
            let en_vars = en.get(id).expect("in both");
            assert!(
                vars.is_subset(en_vars),
                "arguments of {id}: {vars:?} not in {en_vars:?}"
            );
        }
    }

    #[test]
    fn every_message_formats_with_its_arguments() {
        for lang in [Language::Nl, Language::En] {
            let bundle = bundle(lang);
            for (id, vars) in messages(lang) {
                for sample in [FluentValue::from(1), FluentValue::from(3), "Zoë".into()] {
                    let mut args = FluentArgs::new();
                    for v in &vars {
                        args.set(v.clone(), sample.clone());
                    }
                    let pattern = bundle
                        .get_message(&id)
                        .and_then(|m| m.value())
                        .unwrap_or_else(|| panic!("{lang}: {id} has no value"));
                    let mut errors = Vec::new();
                    let text = bundle.format_pattern(pattern, Some(&args), &mut errors);
                    assert!(errors.is_empty(), "{lang}: {id}: {errors:?}");
                    assert!(!text.contains('\u{2068}'), "{lang}: {id}: isolation marks");
                }
            }
        }
    }

    #[test]
    fn every_key_the_code_uses_exists() {
        let en = messages(Language::En);
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut used = 0;
        let sources = std::fs::read_dir(dir)
            .expect("src")
            .flatten()
            .flat_map(|entry| match std::fs::read_dir(entry.path()) {
                Ok(inner) => inner.flatten().map(|e| e.path()).collect(),
                Err(_) => vec![entry.path()],
            });
        for path in sources {
            let text = std::fs::read_to_string(&path).expect("read");
            for (at, _) in text.match_indices("t!(") {
                let before = text[..at].chars().next_back().unwrap_or(' ');
                if before.is_alphanumeric() || before == '_' {
                    continue; // format!( and friends
                }
                let Some(rest) = text[at + 3..].trim_start().strip_prefix('"') else {
                    continue;
                };
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                    .unwrap_or(rest.len());
                let key = &rest[..end];
                if key.is_empty() || !rest[end..].starts_with('"') || key == "key" {
                    continue; // not a message id, or the macro's own documentation
                }
                assert!(en.contains_key(key), "{path:?} uses {key:?}");
                used += 1;
            }
        }
        assert!(used > 100, "only {used} messages used?");
        for (group, values) in WORDS {
            for value in *values {
                let key = format!("{group}-{value}");
                assert!(en.contains_key(&key), "no word {key}");
            }
        }
    }

    #[test]
    fn placeables_are_filled_in_without_marks_and_plurals_follow_the_number() {
        let nl = format_in(Language::Nl, "days-ago", &[("days", Arg::from(1))]);
        assert_eq!(nl.as_deref(), Some("1 dag geleden"));
        let nl = format_in(Language::Nl, "days-ago", &[("days", Arg::from(4))]);
        assert_eq!(nl.as_deref(), Some("4 dagen geleden"));
        let en = format_in(Language::En, "days-ago", &[("days", Arg::from(4))]);
        assert_eq!(en.as_deref(), Some("4 days ago"));
        assert_eq!(word("nonsense", "kept"), "kept");
    }
}
