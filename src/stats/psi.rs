//! Population Stability Index over bins fitted on the baseline.
//!
//! PSI = Σ (cur_i − ref_i) · ln(cur_i / ref_i) over bins i, where ref_i and cur_i
//! are the proportions of the baseline and current samples in bin i. A bin that
//! is empty on either side would make the logarithm infinite, so proportions are
//! floored at `epsilon` (stored in the baseline profile; default [`DEFAULT_EPSILON`]).

/// The default floor for empty-bin proportions.
pub const DEFAULT_EPSILON: f64 = 1e-4;

/// The bin of `x` for ascending inner `edges`: bin k holds edges[k-1] < x <= edges[k],
/// the first bin is open below and the last open above (right-closed, like pandas.cut).
pub fn bin_index(edges: &[f64], x: f64) -> usize {
    edges.partition_point(|&e| e < x)
}

/// Counts per bin (`edges.len() + 1` bins) of finite values.
pub fn bin_counts(edges: &[f64], values: &[f64]) -> Vec<u64> {
    let mut counts = vec![0u64; edges.len() + 1];
    for &x in values {
        counts[bin_index(edges, x)] += 1;
    }
    counts
}

/// Counts per bin of an ascending sample: one binary search per edge rather
/// than one per value.
pub fn bin_counts_sorted(edges: &[f64], sorted: &[f64]) -> Vec<u64> {
    let mut counts = Vec::with_capacity(edges.len() + 1);
    let mut below = 0usize;
    for &e in edges {
        // Values ≤ e fall in this bin or earlier (bins are right-closed).
        let upto = sorted.partition_point(|&x| x <= e);
        counts.push((upto - below) as u64);
        below = upto;
    }
    counts.push((sorted.len() - below) as u64);
    counts
}

/// PSI between two count vectors over the same bins. `None` when either side is empty.
pub fn psi_from_counts(reference: &[u64], current: &[u64], epsilon: f64) -> Option<f64> {
    debug_assert_eq!(reference.len(), current.len());
    let rn: u64 = reference.iter().sum();
    let cn: u64 = current.iter().sum();
    if rn == 0 || cn == 0 {
        return None;
    }
    let mut psi = 0.0;
    for (&r, &c) in reference.iter().zip(current) {
        let p = (r as f64 / rn as f64).max(epsilon);
        let q = (c as f64 / cn as f64).max(epsilon);
        psi += (q - p) * (q / p).ln();
    }
    Some(psi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_right_closed_with_open_outer_edges() {
        let edges = [1.0, 2.0];
        assert_eq!(bin_index(&edges, -100.0), 0);
        assert_eq!(bin_index(&edges, 1.0), 0);
        assert_eq!(bin_index(&edges, 1.5), 1);
        assert_eq!(bin_index(&edges, 2.0), 1);
        assert_eq!(bin_index(&edges, 2.1), 2);
    }

    #[test]
    fn sorted_counting_agrees_with_per_value_counting() {
        let edges = [1.0, 2.0, 2.5];
        let values = [-3.0, 1.0, 1.0, 1.5, 2.0, 2.2, 2.5, 2.5, 9.0];
        assert_eq!(bin_counts_sorted(&edges, &values), bin_counts(&edges, &values));
        assert_eq!(bin_counts_sorted(&edges, &[]), vec![0, 0, 0, 0]);
    }

    #[test]
    fn identical_distributions_have_zero_psi() {
        assert_eq!(psi_from_counts(&[10, 20, 30], &[1, 2, 3], 1e-4), Some(0.0));
    }

    #[test]
    fn hand_computed_value() {
        // ref = (0.5, 0.5), cur = (0.9, 0.1):
        // (0.9-0.5)·ln(1.8) + (0.1-0.5)·ln(0.2) = 0.4·0.587787 + 0.4·1.609438
        let psi = psi_from_counts(&[50, 50], &[90, 10], 1e-4).unwrap();
        let expected = 0.4 * 1.8f64.ln() - 0.4 * 0.2f64.ln();
        assert!((psi - expected).abs() < 1e-12);
    }

    #[test]
    fn empty_side_gives_none() {
        assert_eq!(psi_from_counts(&[0, 0], &[1, 1], 1e-4), None);
    }
}
