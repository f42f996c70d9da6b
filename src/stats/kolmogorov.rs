//! The Kolmogorov distribution: the two-sided one-sample KS statistic D_n for
//! finite n, and its limit as n → ∞.
//!
//! For finite n the survival function picks, by region of (n, x), among exact
//! and asymptotic algorithms, following Simard & L'Ecuyer (2011) as scipy's
//! `kstwo` does, so that two-sample p-values agree with scipy's `ks_2samp`:
//! - Ruben–Gambino closed forms near the ends of the range;
//! - Durbin's matrix algorithm (Marsaglia–Tsang–Wang) for small n·x²;
//! - Pomeranz's recursion for n ≤ 140;
//! - the one-sided Smirnov tail, doubled, for large deviations;
//! - the Pelz–Good asymptotic expansion otherwise.

use std::f64::consts::PI;

use statrs::function::factorial::ln_factorial;

/// Powers of two used to rescale products that would over- or underflow.
const E128: i32 = 128;
const EP128: f64 = 3.402_823_669_209_385e38; // 2^128
const EM128: f64 = 2.938_735_877_055_719e-39; // 2^-128

/// P(K > x) for the limiting Kolmogorov distribution (scipy's `kstwobign.sf`).
pub fn kolmogorov_sf(x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x <= 0.82 {
        // Jacobi theta form of the CDF: sqrt(2π)/x · Σ_{k≥1} exp(−(2k−1)²π²/(8x²)).
        let w = (2.0 * PI).sqrt() / x;
        let logu8 = -PI * PI / (x * x);
        let u = (logu8 / 8.0).exp();
        let cdf = if u == 0.0 {
            (logu8 / 8.0 + w.ln()).exp()
        } else {
            let u8 = logu8.exp();
            let mut p = 1.0;
            p = 1.0 + u8.powi(3) * p;
            p = 1.0 + u8 * u8 * p;
            p = 1.0 + u8 * p;
            w * u * p
        };
        return (1.0 - cdf).clamp(0.0, 1.0);
    }
    // 2 Σ_{k≥1} (−1)^(k−1) exp(−2k²x²) = 2v(1 − v³(1 − v⁵(1 − v⁷ …))), v = exp(−2x²)
    let v = (-2.0 * x * x).exp();
    let mut p = 1.0;
    for odd in [7, 5, 3] {
        p = 1.0 - v.powi(odd) * p;
    }
    (2.0 * v * p).clamp(0.0, 1.0)
}

/// P(D_n > x), the survival function of the two-sided one-sample KS statistic
/// for sample size `n` (scipy's `kstwo.sf`).
pub fn kstwo_sf(n: u64, x: f64) -> f64 {
    if n == 0 || x.is_nan() {
        return f64::NAN;
    }
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let nf = n as f64;
    let t = nf * x;
    if t <= 1.0 {
        if t <= 0.5 {
            return 1.0;
        }
        // Ruben–Gambino: P(D_n ≤ x) = n!/nⁿ (2t − 1)ⁿ for 1/(2n) ≤ x ≤ 1/n.
        let cdf = if n <= 140 {
            (1..=n).fold(1.0, |p, i| p * (i as f64 / nf) * (2.0 * t - 1.0))
        } else {
            (ln_factorial(n) - nf * nf.ln() + nf * (2.0 * t - 1.0).ln()).exp()
        };
        return (1.0 - cdf).clamp(0.0, 1.0);
    }
    if t >= nf - 1.0 {
        return (2.0 * (1.0 - x).powf(nf)).clamp(0.0, 1.0);
    }
    if x >= 0.5 {
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    let nxx = t * x;
    if n <= 140 {
        if nxx <= 0.754693 {
            return (1.0 - durbin_cdf(n, x)).clamp(0.0, 1.0);
        }
        if nxx <= 4.0 {
            return (1.0 - pomeranz_cdf(n, x)).clamp(0.0, 1.0);
        }
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    if nxx >= 370.0 {
        return 0.0;
    }
    if nxx >= 2.2 {
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    let cdf = if n <= 100_000 && nf * x.powf(1.5) <= 1.4 { durbin_cdf(n, x) } else { pelz_good_cdf(n, x) };
    (1.0 - cdf).clamp(0.0, 1.0)
}

/// P(D⁺_n > x), the one-sided Smirnov statistic, by the Birnbaum–Tingey sum
///   Σ_{v=0}^{⌊n(1−x)⌋} C(n, v) · x · (x + v/n)^(v−1) · (1 − x − v/n)^(n−v),
/// whose terms are all positive and rise then fall in v: summed in logs around
/// the largest, and cut once past it they fall below 1e-20 of it (for n in the
/// millions this keeps a few thousand of the terms, not all of them).
pub fn smirnov_sf(n: u64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x >= 1.0 {
        return 0.0;
    }
    let nf = n as f64;
    let last = (nf * (1.0 - x)).floor() as u64;
    let (lx, mut ln_binom) = (x.ln(), 0.0f64);
    let mut max = f64::NEG_INFINITY;
    // Running Σ exp(l − max), rescaled whenever max grows.
    let mut sum = 0.0f64;
    for v in 0..=last {
        if v > 0 {
            ln_binom += ((nf - (v - 1) as f64) / v as f64).ln();
        }
        let vf = v as f64;
        let mut l = ln_binom + lx + (vf - 1.0) * (x + vf / nf).ln();
        if v < n {
            l += (nf - vf) * (1.0 - x - vf / nf).max(0.0).ln();
        }
        if !l.is_finite() {
            continue;
        }
        if l > max {
            sum = sum * (max - l).exp() + 1.0;
            max = l;
        } else {
            sum += (l - max).exp();
            if l < max - 46.0 {
                break;
            }
        }
    }
    if sum == 0.0 {
        return 0.0;
    }
    (max + sum.ln()).exp().clamp(0.0, 1.0)
}

/// P(D_n ≤ d) by Durbin's matrix algorithm (Marsaglia, Tsang & Wang 2003).
fn durbin_cdf(n: u64, d: f64) -> f64 {
    let nd = n as f64 * d;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    let mut v: Vec<f64> = (1..=m).map(|i| 1.0 - h.powi(i as i32)).collect();
    let mut w = vec![0.0; m];
    let mut fac = 1.0;
    for j in 1..=m {
        w[j - 1] = fac;
        fac /= j as f64;
        v[j - 1] *= fac;
    }
    let tt = (2.0 * h - 1.0).max(0.0).powi(m as i32) - 2.0 * h.powi(m as i32);
    v[m - 1] = (1.0 + tt) * fac;
    let mut hm = vec![0.0; m * m];
    for i in 1..m {
        for r in (i - 1)..m {
            hm[r * m + i] = w[r - (i - 1)];
        }
    }
    for r in 0..m {
        hm[r * m] = v[r];
    }
    for c in 0..m {
        hm[(m - 1) * m + c] = v[m - 1 - c];
    }
    let mut pw = identity(m);
    let (mut nn, mut expnt, mut hexpnt) = (n, 0i32, 0i32);
    while nn > 0 {
        if nn % 2 == 1 {
            pw = matmul(&pw, &hm, m);
            expnt += hexpnt;
        }
        hm = matmul(&hm, &hm, m);
        hexpnt *= 2;
        if hm[(k - 1) * m + (k - 1)].abs() > EP128 {
            hm.iter_mut().for_each(|x| *x /= EP128);
            hexpnt += E128;
        }
        nn /= 2;
    }
    let mut p = pw[(k - 1) * m + (k - 1)];
    let nf = n as f64;
    for i in 1..=n {
        p = i as f64 * p / nf;
        if p.abs() < EM128 {
            p *= EP128;
            expnt -= E128;
        }
    }
    ldexp(p, expnt).clamp(0.0, 1.0)
}

/// P(D_n ≤ x) by Pomeranz's recursion (1974).
fn pomeranz_cdf(n: u64, x: f64) -> f64 {
    let n_i = n as i64;
    let t = n as f64 * x;
    let ll = t.floor() as i64;
    let f = t - ll as f64;
    let g = f.min(1.0 - f);
    let ceilf = i64::from(f > 0.0);
    let roundf = i64::from(f > 0.5);
    let npwrs = (2 * (ll + 1)) as usize;
    let nf = n as f64;
    let mut gpower = vec![1.0; npwrs];
    let mut twogpower = vec![1.0; npwrs];
    let mut onem2gpower = vec![1.0; npwrs];
    for m in 1..npwrs {
        gpower[m] = gpower[m - 1] * (g / nf) / m as f64;
        twogpower[m] = twogpower[m - 1] * (2.0 * g / nf) / m as f64;
        onem2gpower[m] = onem2gpower[m - 1] * ((1.0 - 2.0 * g) / nf) / m as f64;
    }
    let bounds = |i: i64| -> (i64, i64) {
        let (j1, j2) = if i == 0 {
            (-ll - ceilf - 1, ll + ceilf - 1)
        } else {
            let (half, odd) = ((i + 1) / 2, (i + 1) % 2 == 0);
            if odd {
                if half == n_i + 1 {
                    (n_i - ll - ceilf - 1, n_i + ll + ceilf - 1)
                } else {
                    (half - 1 - ll - roundf - 1, half + ll - 1 + ceilf - 1)
                }
            } else {
                (half - 1 - ll - 1, half + ll + roundf - 1)
            }
        };
        ((j1 + 2).max(0), j2.min(n_i))
    };
    let mut v0 = vec![0.0; npwrs];
    let mut v1 = vec![0.0; npwrs];
    v1[0] = 1.0;
    let (mut v0s, mut v1s) = (0i64, 0i64);
    let mut expnt = 0i32;
    let (mut j1, mut _j2) = bounds(0);
    for i in 1..=(2 * n_i + 1) {
        let k1 = j1;
        std::mem::swap(&mut v0, &mut v1);
        std::mem::swap(&mut v0s, &mut v1s);
        v1.iter_mut().for_each(|x| *x = 0.0);
        let (nj1, nj2) = bounds(i);
        j1 = nj1;
        _j2 = nj2;
        let pwrs = if i == 1 || i == 2 * n_i + 1 {
            &gpower
        } else if i % 2 == 1 {
            &twogpower
        } else {
            &onem2gpower
        };
        let ln2 = nj2 - k1 + 1;
        if ln2 > 0 {
            // conv[c] = Σ_a V0[k1 − V0s + a] · pwrs[c − a], for the entries we keep.
            let start = (j1 - k1) as usize;
            let len = (nj2 - j1 + 1) as usize;
            let src = &v0[(k1 - v0s) as usize..];
            for (out, slot) in v1.iter_mut().enumerate().take(len) {
                let c = start + out;
                let mut s = 0.0;
                for a in 0..=c.min(ln2 as usize - 1) {
                    let b = c - a;
                    if b < ln2 as usize {
                        s += src.get(a).copied().unwrap_or(0.0) * pwrs[b];
                    }
                }
                *slot = s;
            }
            let max = v1.iter().copied().fold(0.0, f64::max);
            if max > 0.0 && max < EM128 {
                v1.iter_mut().for_each(|x| *x *= EP128);
                expnt -= E128;
            }
            v1s = v0s + j1 - k1;
        }
    }
    let mut ans = v1[(n_i - v1s) as usize];
    for m in 1..=n {
        if ans.abs() > EP128 {
            ans *= EM128;
            expnt += E128;
        }
        ans *= m as f64;
    }
    ldexp(ans, expnt).clamp(0.0, 1.0)
}

/// P(D_n ≤ x) by the Pelz–Good asymptotic expansion (1976).
fn pelz_good_cdf(n: u64, x: f64) -> f64 {
    let z = (n as f64).sqrt() * x;
    let (z2, z3, z4, z6) = (z * z, z.powi(3), z.powi(4), z.powi(6));
    let (pi2, pi4, pi6) = (PI * PI, PI.powi(4), PI.powi(6));
    let qlog = -pi2 / 8.0 / z2;
    if qlog < -708.0 {
        return 0.0;
    }
    let q = qlog.exp();
    let k1a = -z2;
    let k1b = pi2 / 4.0;
    let k2a = 6.0 * z6 + 2.0 * z4;
    let k2b = (2.0 * z4 - 5.0 * z2) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * z2) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * z2) / 64.0;
    let k3c = pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0;
    let k3b = pi2 * (135.0 * z4 - 96.0 * z6) / 4.0;
    let k3a = -30.0 * z6 - 90.0 * z.powi(8);
    let mut k = [0.0f64; 4];
    let maxk = (16.0 * z / PI).ceil() as i64;
    for kk in (1..=maxk).rev() {
        let m = (2 * kk - 1) as f64;
        let (m2, m4, m6) = (m * m, m.powi(4), m.powi(6));
        let qp = q.powf(8.0 * kk as f64);
        let coeffs = [1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
        for (acc, c) in k.iter_mut().zip(coeffs) {
            *acc = *acc * qp + c;
        }
    }
    let s2pi = (2.0 * PI).sqrt();
    let denoms = [z, 6.0 * z4, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (acc, d) in k.iter_mut().zip(denoms) {
        *acc = *acc * q * s2pi / d;
    }
    let q2 = (-pi2 / 2.0 / z2).exp();
    let sqrt3z = 3f64.sqrt() * z;
    let (mut k2extra, mut k3extra) = (0.0, 0.0);
    for kk in (1..=maxk).rev() {
        let kf = kk as f64;
        let qp = q2.powf(kf * kf);
        k2extra += kf * kf * qp;
        let kspi = PI * kf;
        k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * kf * kf * qp;
    }
    k[2] += k2extra * pi2 * s2pi / (-36.0 * z3);
    k[3] += k3extra * pi2 * s2pi / (216.0 * z6);
    let nf = n as f64;
    let total: f64 = k.iter().enumerate().map(|(i, v)| v / nf.powf(i as f64 / 2.0)).sum();
    total.clamp(0.0, 1.0)
}

fn identity(m: usize) -> Vec<f64> {
    let mut out = vec![0.0; m * m];
    for i in 0..m {
        out[i * m + i] = 1.0;
    }
    out
}

fn matmul(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut out = vec![0.0; m * m];
    for i in 0..m {
        for k in 0..m {
            let aik = a[i * m + k];
            if aik == 0.0 {
                continue;
            }
            for j in 0..m {
                out[i * m + j] += aik * b[k * m + j];
            }
        }
    }
    out
}

fn ldexp(x: f64, e: i32) -> f64 {
    x * 2f64.powi(e)
}
