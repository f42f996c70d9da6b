//! Distances between distributions: Jensen–Shannon (on shared bins or
//! categories) and Wasserstein-1 (on raw values).

/// Jensen–Shannon distance with base-2 logarithms, so it lies in [0, 1]:
/// sqrt(½·KL(p‖m) + ½·KL(q‖m)) with m = (p + q)/2, for two count vectors over
/// the same bins (normalised here; empty bins contribute nothing).
/// `None` when either side is empty.
pub fn jensen_shannon(p_counts: &[u64], q_counts: &[u64]) -> Option<f64> {
    let (pn, qn) = (p_counts.iter().sum::<u64>() as f64, q_counts.iter().sum::<u64>() as f64);
    if pn == 0.0 || qn == 0.0 {
        return None;
    }
    let mut div = 0.0;
    for (&a, &b) in p_counts.iter().zip(q_counts) {
        let (p, q) = (a as f64 / pn, b as f64 / qn);
        let m = (p + q) / 2.0;
        if p > 0.0 {
            div += 0.5 * p * (p / m).log2();
        }
        if q > 0.0 {
            div += 0.5 * q * (q / m).log2();
        }
    }
    Some(div.max(0.0).sqrt())
}

/// Wasserstein-1 distance between two ascending samples: ∫ |F_a(x) − F_b(x)| dx.
/// `None` when either is empty.
pub fn wasserstein_1(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (n, m) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut prev = a[0].min(b[0]);
    let mut total = 0.0;
    while i < a.len() || j < b.len() {
        let x = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => unreachable!(),
        };
        // Between prev and x both CDFs are flat.
        total += (i as f64 / n - j as f64 / m).abs() * (x - prev);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        prev = x;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_is_zero_for_equal_and_one_for_disjoint() {
        assert_eq!(jensen_shannon(&[1, 2, 3], &[2, 4, 6]), Some(0.0));
        assert!((jensen_shannon(&[5, 0], &[0, 7]).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn wasserstein_of_a_shift_is_the_shift() {
        let a = [0.0, 1.0, 2.0, 3.0];
        let b = [0.5, 1.5, 2.5, 3.5];
        assert!((wasserstein_1(&a, &b).unwrap() - 0.5).abs() < 1e-12);
        assert_eq!(wasserstein_1(&a, &a), Some(0.0));
    }
}
