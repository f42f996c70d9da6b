//! Corrections for testing many columns at once.

use serde::Deserialize;

/// How p-values of one check's columns are adjusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Correction {
    #[default]
    None,
    /// Family-wise error rate: p · m, capped at 1.
    Bonferroni,
    /// False discovery rate (Benjamini–Hochberg step-up adjusted p-values).
    BenjaminiHochberg,
}

/// Adjusted p-values, in the input's order.
pub fn adjust(p: &[f64], correction: Correction) -> Vec<f64> {
    let m = p.len() as f64;
    match correction {
        Correction::None => p.to_vec(),
        Correction::Bonferroni => p.iter().map(|x| (x * m).min(1.0)).collect(),
        Correction::BenjaminiHochberg => {
            let mut order: Vec<usize> = (0..p.len()).collect();
            order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
            let mut out = vec![0.0; p.len()];
            let mut running = 1.0f64;
            for (rank, &i) in order.iter().enumerate().rev() {
                running = running.min(p[i] * m / (rank + 1) as f64);
                out[i] = running.min(1.0);
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bh_matches_hand_computation() {
        // p sorted: 0.01, 0.02, 0.03, 0.5 (m = 4): 0.04, 0.04, 0.04, 0.5
        let adj = adjust(&[0.5, 0.01, 0.03, 0.02], Correction::BenjaminiHochberg);
        let want = [0.5, 0.04, 0.04, 0.04];
        assert!(adj.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12), "{adj:?}");
        assert_eq!(adjust(&[0.3, 0.2], Correction::Bonferroni), vec![0.6, 0.4]);
    }
}
