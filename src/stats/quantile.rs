//! Sample quantiles.

/// Quantile `q` in [0, 1] of an ascending, non-empty sample, by linear
/// interpolation between closest ranks (numpy's default, Hyndman–Fan type 7).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    debug_assert!(!sorted.is_empty());
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The inner edges of `bins` equal-frequency bins of an ascending sample: the
/// quantiles at 1/bins … (bins-1)/bins, with repeated edges (from ties) merged,
/// so fewer bins may result. The outer edges are open (−∞, +∞).
pub fn quantile_edges(sorted: &[f64], bins: usize) -> Vec<f64> {
    let mut edges: Vec<f64> = (1..bins).map(|i| quantile_sorted(sorted, i as f64 / bins as f64)).collect();
    edges.dedup();
    edges
}

/// The inner edges of `bins` equal-width bins over [min, max] (outer bins open).
/// A constant sample has no inner edges.
#[allow(clippy::neg_cmp_op_on_partial_ord)] // written so that NaN bounds also give no edges
pub fn uniform_edges(min: f64, max: f64, bins: usize) -> Vec<f64> {
    if !(max > min) {
        return Vec::new();
    }
    let width = (max - min) / bins as f64;
    let mut edges: Vec<f64> = (1..bins).map(|i| min + width * i as f64).collect();
    edges.dedup();
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_linear_quantiles() {
        // numpy.quantile([1, 2, 3, 4, 10], [0.1, 0.5, 0.9]) = [1.4, 3.0, 7.6]
        let s = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert!((quantile_sorted(&s, 0.1) - 1.4).abs() < 1e-12);
        assert!((quantile_sorted(&s, 0.5) - 3.0).abs() < 1e-12);
        assert!((quantile_sorted(&s, 0.9) - 7.6).abs() < 1e-12);
    }

    #[test]
    fn ties_merge_edges() {
        let s = [1.0, 1.0, 1.0, 1.0, 2.0];
        assert_eq!(quantile_edges(&s, 4), vec![1.0]);
    }
}
