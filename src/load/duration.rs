//! Durations as people write them in a profile or on the command line: `90s`, `10m`, `1h`,
//! `1h30m`, `500ms`. Used for the run's deadline.

use std::time::Duration;

/// A duration with its text as written, so that messages quote the user's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenDuration {
    pub text: String,
    pub duration: Duration,
}

impl std::str::FromStr for WrittenDuration {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        parse(s).map(|duration| WrittenDuration {
            text: s.trim().to_string(),
            duration,
        })
    }
}

impl std::fmt::Display for WrittenDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// One or more `<number><unit>` parts (units `ms`, `s`, `m`, `h`), added up; never zero.
pub fn parse(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!("`{text}` is not a duration: write a number and a unit (ms, s, m, h), such as `90s`, `10m` or `1h30m`")
    };
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let part = match &rest[..unit_len] {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.saturating_mul(60)),
            "h" => Duration::from_secs(n.saturating_mul(3600)),
            _ => return Err(bad()),
        };
        total = total.saturating_add(part);
        rest = &rest[unit_len..];
    }
    if total.is_zero() {
        return Err(format!("`{text}` is zero: a run needs some time"));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_written() {
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse(" 500ms "), Ok(Duration::from_millis(500)));
        for bad in ["", "90", "s", "10 m", "1d", "-5s", "1.5h"] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("is not a duration"), "{bad}: {e}");
        }
        assert!(parse("0s").unwrap_err().contains("is zero"));
        let w: WrittenDuration = "2m".parse().unwrap();
        assert_eq!(
            (w.to_string(), w.duration),
            ("2m".into(), Duration::from_secs(120))
        );
    }
}
