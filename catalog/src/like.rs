//! The one LIKE matcher: SQL `LIKE` (`%`, `_`, backslash escape) and Hive's `SHOW ... LIKE`
//! (`*` any run, `|` alternatives).
//!
//! Patterns arrive from clients (Flight `GetTables` filters, `SHOW TABLES LIKE`), so matching
//! must be bounded: it is iterative (no recursion, so no stack to exhaust) and backtracks only
//! to the most recent `%`, which keeps the work at O(pattern × text) in the worst case instead
//! of the exponential blow-up of naive backtracking on `%a%a%a…`.

/// One compiled pattern element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// Any run of characters (`%`, Hive `*`).
    Any,
    /// Exactly one character (`_`).
    One,
    Literal(char),
}

/// Which pattern syntax a [`LikePattern`] is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LikeSyntax {
    /// SQL `LIKE`: `%`, `_`, and `\` escaping the next character.
    Sql,
    /// Hive's `SHOW ... LIKE`: `*` for any run, `|` separating alternatives.
    Hive,
}

/// A compiled LIKE pattern (one or more alternatives).
#[derive(Debug, Clone)]
pub struct LikePattern {
    alternatives: Vec<Vec<Token>>,
    case_insensitive: bool,
}

impl LikePattern {
    /// Compiles `pattern`; with `case_insensitive` both sides are lower-cased.
    pub fn new(pattern: &str, syntax: LikeSyntax, case_insensitive: bool) -> Self {
        let pattern = if case_insensitive {
            pattern.to_lowercase()
        } else {
            pattern.to_string()
        };
        let alternatives = match syntax {
            LikeSyntax::Sql => vec![compile_sql(&pattern)],
            LikeSyntax::Hive => pattern.split('|').map(|p| compile_hive(p.trim())).collect(),
        };
        Self {
            alternatives,
            case_insensitive,
        }
    }

    /// Whether `text` matches any alternative.
    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = if self.case_insensitive {
            text.to_lowercase().chars().collect()
        } else {
            text.chars().collect()
        };
        self.alternatives.iter().any(|p| match_tokens(p, &text))
    }
}

fn compile_sql(pattern: &str) -> Vec<Token> {
    let mut out = Vec::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '%' => Token::Any,
            '_' => Token::One,
            // A trailing backslash stands for itself, as in PostgreSQL's lenient reading.
            '\\' => Token::Literal(chars.next().unwrap_or('\\')),
            c => Token::Literal(c),
        });
    }
    out
}

fn compile_hive(pattern: &str) -> Vec<Token> {
    pattern
        .chars()
        .map(|c| match c {
            '*' => Token::Any,
            c => Token::Literal(c),
        })
        .collect()
}

/// Iterative matching with a single backtrack point (the last `Any` seen): a later `Any` makes
/// retrying earlier ones pointless, since it can absorb whatever they would have.
fn match_tokens(pattern: &[Token], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(Token::Any) => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(Token::One) => (p, t) = (p + 1, t + 1),
            Some(Token::Literal(c)) if *c == text[t] => (p, t) = (p + 1, t + 1),
            _ => match backtrack {
                Some((bp, bt)) => {
                    backtrack = Some((bp, bt + 1));
                    (p, t) = (bp + 1, bt + 1);
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|tok| *tok == Token::Any)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(pattern: &str, text: &str) -> bool {
        LikePattern::new(pattern, LikeSyntax::Sql, false).matches(text)
    }

    #[test]
    fn sql_patterns() {
        let cases = [
            ("%", "anything", true),
            ("%", "", true),
            ("lin%", "lineitem", true),
            ("lin%", "orders", false),
            ("_rders", "orders", true),
            ("a\\_b", "a_b", true),
            ("a\\_b", "axb", false),
            ("a\\%", "a%", true),
            ("a\\%", "ab", false),
            ("a\\\\b", "a\\b", true),
            ("a\\", "a\\", true),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("", "", true),
            ("", "x", false),
            ("%x%y", "axbxcy", true),
            ("%x_y", "axbxcy", true),
            ("%x_y", "axbxy", false),
            ("_%_", "a", false),
            ("_%_", "ab", true),
            ("Ab%", "ab", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(sql(pattern, text), expected, "{pattern:?} ~ {text:?}");
        }
    }

    #[test]
    fn hive_patterns_and_case() {
        let m = |p: &str, t: &str| LikePattern::new(p, LikeSyntax::Hive, true).matches(t);
        assert!(m("ev*", "Events"));
        assert!(m("raw*|ev*", "events"));
        assert!(!m("raw*|x*", "events"));
        assert!(m("*", "anything"));
        assert!(!m("e_ents", "events"), "`_` is literal in Hive patterns");
    }

    /// A plain dynamic-programming LIKE, the reference the matcher must agree with.
    fn reference(pattern: &[Token], text: &[char]) -> bool {
        let mut row = vec![false; text.len() + 1];
        row[0] = true;
        for token in pattern {
            let mut next = vec![false; text.len() + 1];
            for t in 0..=text.len() {
                next[t] = match token {
                    Token::Any => row[t] || (t > 0 && next[t - 1]),
                    Token::One => t > 0 && row[t - 1],
                    Token::Literal(c) => t > 0 && row[t - 1] && text[t - 1] == *c,
                };
            }
            row = next;
        }
        row[text.len()]
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_the_reference(pattern in "[ab%_\\\\]{0,12}", text in "[ab%_]{0,12}") {
            let compiled = compile_sql(&pattern);
            let chars: Vec<char> = text.chars().collect();
            proptest::prop_assert_eq!(
                sql(&pattern, &text),
                reference(&compiled, &chars),
                "{:?} ~ {:?}", pattern, text
            );
        }

        #[test]
        fn arbitrary_patterns_never_panic(pattern in "\\PC{0,64}", text in "\\PC{0,64}") {
            let _ = sql(&pattern, &text);
            let _ = LikePattern::new(&pattern, LikeSyntax::Hive, true).matches(&text);
        }
    }

    /// Naive backtracking takes exponential time on this; ours is bounded by pattern × text.
    #[test]
    fn pathological_pattern_is_bounded() {
        let pattern = "%a".repeat(300) + "%b";
        let text = "a".repeat(5_000);
        assert!(!sql(&pattern, &text));
        let long = "%".repeat(100_000) + "x";
        assert!(!sql(&long, "abc"));
        assert!(sql(&long, "abcx"));
    }
}
