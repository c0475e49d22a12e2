//! Everything the CLI writes for people goes through here, because much of it is
//! text other people typed: a member name with an escape sequence must not move the
//! cursor, recolour, retitle or clear someone else's terminal.
//!
//! Control characters (C0 except newline and tab, DEL, C1) and the Unicode bidi
//! overrides and isolates (which reorder what is shown) are replaced by U+FFFD.
//! JSON output is not touched: serde escapes control characters itself and machines
//! need the exact text.

/// `text` with every character that could steer a terminal replaced.
pub fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars()
            .map(|c| if is_unsafe(c) { '\u{FFFD}' } else { c })
            .collect(),
    )
}

fn is_unsafe(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        c if c.is_control() => true,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

/// `println!` for people: the formatted line passes through [`safe`].
macro_rules! say {
    ($($arg:tt)*) => {
        println!("{}", $crate::terminal::safe(&format!($($arg)*)))
    };
}

/// `print!` for people (no newline added).
macro_rules! say_raw {
    ($($arg:tt)*) => {
        print!("{}", $crate::terminal::safe(&format!($($arg)*)))
    };
}

/// `eprintln!` for people.
macro_rules! warn_user {
    ($($arg:tt)*) => {
        eprintln!("{}", $crate::terminal::safe(&format!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::safe;

    #[test]
    fn escapes_and_bidi_tricks_are_neutralised_and_plain_text_is_kept() {
        assert_eq!(safe("Jan de Vries\n\tbroer"), "Jan de Vries\n\tbroer");
        assert_eq!(safe("Ørjan — Zoë 🙂"), "Ørjan — Zoë 🙂");
        assert_eq!(
            safe("Kees\u{1b}[2J\u{1b}]0;pwned\u{7}"),
            "Kees\u{FFFD}[2J\u{FFFD}]0;pwned\u{FFFD}"
        );
        assert_eq!(
            safe("a\rb\u{8}c\u{7f}d\u{9b}e"),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}e"
        );
        assert_eq!(safe("evil\u{202E}gnp.exe"), "evil\u{FFFD}gnp.exe");
        assert_eq!(safe("x\u{2066}y"), "x\u{FFFD}y");
    }
}
