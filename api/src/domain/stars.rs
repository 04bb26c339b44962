//! Star levels (星级志愿者) from cumulative approved hours.

use std::fmt;

/// Hours needed for 1★ … 5★, strictly increasing.
#[derive(Clone, PartialEq)]
pub struct StarThresholds([f64; 5]);

impl fmt::Debug for StarThresholds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl StarThresholds {
    /// Parses `100,300,600,1000,1500`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let values = raw
            .split(',')
            .map(|part| {
                part.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("not a number: {part}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let levels: [f64; 5] = values
            .try_into()
            .map_err(|_| "five thresholds are needed, for 1★ to 5★".to_string())?;
        if levels.iter().any(|h| !h.is_finite() || *h <= 0.0)
            || levels.windows(2).any(|pair| pair[0] >= pair[1])
        {
            return Err("thresholds must be positive and strictly increasing".into());
        }
        Ok(Self(levels))
    }

    /// The star level (0–5) reached with `approved_minutes` of service.
    pub fn level(&self, approved_minutes: i64) -> u8 {
        let hours = approved_minutes as f64 / 60.0;
        self.0
            .iter()
            .filter(|threshold| hours >= **threshold)
            .count() as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_levels_follow_the_contract() {
        let declared = crate::config::declared::default_of("STAR_THRESHOLDS_HOURS").unwrap();
        let t = StarThresholds::parse(declared).unwrap();
        assert_eq!(t.level(0), 0);
        assert_eq!(t.level(99 * 60 + 59), 0);
        assert_eq!(t.level(100 * 60), 1);
        assert_eq!(t.level(300 * 60), 2);
        assert_eq!(t.level(1499 * 60), 4);
        assert_eq!(t.level(1500 * 60), 5);
        assert_eq!(t.level(100_000 * 60), 5);
    }

    #[test]
    fn beijing_thresholds_parse() {
        let t = StarThresholds::parse("100, 200,500,800,1000").unwrap();
        assert_eq!(t.level(200 * 60), 2);
        assert_eq!(t.level(1000 * 60), 5);
        assert!(StarThresholds::parse("100,200").is_err());
        assert!(StarThresholds::parse("100,100,500,800,1000").is_err());
        assert!(StarThresholds::parse("a,b,c,d,e").is_err());
    }
}
