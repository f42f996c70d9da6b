//! Robust z-scores: how far a value is from the median of its history, in
//! units of the median absolute deviation (MAD). Unlike mean and standard
//! deviation, neither moves much when the history holds a few outliers (past
//! incidents), so a past incident does not hide the next one.

/// 1.4826 × MAD estimates the standard deviation of normal data.
pub const MAD_TO_SIGMA: f64 = 1.482_602_218_505_602;
/// √(π/2) × mean absolute deviation estimates it too; used when MAD is 0.
pub const MEAN_AD_TO_SIGMA: f64 = 1.253_314_137_315_500_3;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RobustScore {
    pub median: f64,
    pub mad: f64,
    /// The spread a distance is measured in: 1.4826 × MAD; when over half the
    /// history is one value (MAD 0), 1.2533 × the mean absolute deviation;
    /// never below 1e-9 × max(|median|, 1), so a flat history still scores.
    pub scale: f64,
    /// (x − median) / scale: signed, positive above the usual.
    pub score: f64,
}

fn median_of(v: &mut [f64]) -> f64 {
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

/// The robust z-score of `x` against `history` (finite values; at least one).
pub fn robust_score(history: &[f64], x: f64) -> Option<RobustScore> {
    if history.is_empty() {
        return None;
    }
    let median = median_of(&mut history.to_vec());
    let deviations: Vec<f64> = history.iter().map(|h| h - median).collect();
    Some(score_with(median, deviations, x))
}

/// The robust z-score of `x`, of season `season`, against a seasonal
/// history of (season, value): the level is the median of the same season's
/// values; the spread is the MAD of every value's deviation from the median
/// of the *other* values of its season. A season holds a few values (one a
/// week); pooling the deviations of all seasons gives a spread that a few
/// weeks of history already estimate well. `None` when the season has none.
pub fn seasonal_score(history: &[(u32, f64)], season: u32, x: f64) -> Option<RobustScore> {
    let mut by_season: std::collections::HashMap<u32, Vec<f64>> = std::collections::HashMap::new();
    for &(s, v) in history {
        by_season.entry(s).or_default().push(v);
    }
    let level = median_of(&mut by_season.get(&season)?.clone());
    let mut deviations = Vec::new();
    let mut others = Vec::new();
    for values in by_season.values().filter(|v| v.len() >= 3) {
        for (i, &v) in values.iter().enumerate() {
            others.clear();
            others.extend(values.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, o)| *o));
            deviations.push(v - median_of(&mut others));
        }
    }
    if deviations.is_empty() {
        deviations = by_season[&season].iter().map(|v| v - level).collect();
    }
    Some(score_with(level, deviations, x))
}

/// The score of `x` against `level`, with the spread of `deviations`.
fn score_with(level: f64, deviations: Vec<f64>, x: f64) -> RobustScore {
    let mut dev: Vec<f64> = deviations.iter().map(|d| d.abs()).collect();
    let mean_ad = dev.iter().sum::<f64>() / dev.len() as f64;
    let mad = median_of(&mut dev);
    let scale = if mad > 0.0 { MAD_TO_SIGMA * mad } else { MEAN_AD_TO_SIGMA * mean_ad };
    let scale = scale.max(1e-9 * level.abs().max(1.0));
    RobustScore { median: level, mad, scale, score: (x - level) / scale }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_is_distance_from_the_median_in_scaled_mads() {
        // Median 3, deviations 2,1,0,1,97 → MAD 1.
        let r = robust_score(&[1.0, 2.0, 3.0, 4.0, 100.0], 6.0).unwrap();
        assert_eq!((r.median, r.mad), (3.0, 1.0));
        assert!((r.score - 3.0 / MAD_TO_SIGMA).abs() < 1e-12);
    }

    #[test]
    fn a_mostly_constant_history_falls_back_to_the_mean_deviation() {
        let r = robust_score(&[5.0, 5.0, 5.0, 9.0], 9.0).unwrap();
        assert_eq!(r.mad, 0.0);
        assert!((r.scale - MEAN_AD_TO_SIGMA * 1.0).abs() < 1e-12 && (r.score - 4.0 / r.scale).abs() < 1e-12);
        let flat = robust_score(&[0.0, 0.0, 0.0], 5.0).unwrap();
        assert!(flat.score.is_finite() && flat.score > 1e6, "a flat history still scores a change: {flat:?}");
        assert_eq!(robust_score(&[0.0, 0.0], 0.0).unwrap().score, 0.0);
    }

    #[test]
    fn a_seasonal_score_takes_the_level_of_its_season_and_the_spread_of_all() {
        // Two seasons: 0 around 10, 1 around 100, each ±1.
        let history: Vec<(u32, f64)> = [9.0, 10.0, 11.0, 10.0].iter().map(|v| (0, *v)).chain([99.0, 100.0, 101.0, 100.0].iter().map(|v| (1, *v))).collect();
        let r = seasonal_score(&history, 1, 103.0).unwrap();
        assert_eq!(r.median, 100.0);
        // Leave-one-out deviations: 9 → -1, 10 → 0, 11 → +1, 10 → 0 (and the same in season 1): MAD 0.5.
        assert_eq!(r.mad, 0.5);
        assert!((r.score - 3.0 / (MAD_TO_SIGMA * 0.5)).abs() < 1e-12);
        assert!(seasonal_score(&history, 2, 1.0).is_none(), "a season with no history has no level");
    }
}
