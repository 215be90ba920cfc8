/**
 * The finite-n Kolmogorov distribution: the law of the one-sample two-sided statistic
 * D_n = sup_x |F_n(x) − F(x)| for a continuous F, as scipy.stats.kstwo (scipy 1.10) evaluates it.
 * ks.ts uses its survival function for the asymptotic two-sample p-value, sf(D, round(n1·n2/(n1+n2))).
 *
 * Promises
 * - Branch for branch the recipe of Simard & L'Ecuyer (2011, J. Stat. Software 39(11)) with the
 *   cut-offs scipy 1.10 uses, so values agree with scipy to ~1e-12 relative (worst where sf = 1 − cdf cancels;
 *   tests hold 1e-9 on a grid that reaches every branch). The branches, written from the published algorithms:
 *   Ruben–Gambino closed forms near x = 1/(2n) and x = 1; 2·Smirnov (the one-sided exact
 *   Birnbaum–Tingey sum) where the two one-sided tails cannot overlap or barely do; the Durbin matrix
 *   algorithm in the Marsaglia–Tsang–Wang form; Pomeranz's recursion; the Pelz–Good asymptotic
 *   series. Where scipy uses an approximation (Pelz–Good for n > 140, 2·Smirnov below x = 0.5, the
 *   n > 10⁶ Smirnov approximation) this file uses the same one, on purpose: matching scipy is the goal.
 * - Pure functions of (n, x); n must be a positive integer, otherwise the result is NaN. x ≤ 0 gives
 *   cdf 0 / sf 1, x ≥ 1 gives cdf 1 / sf 0. Results are clipped to [0, 1].
 */

const E128 = 2 ** 128;
const EM128 = 2 ** -128;
const SQRT_2PI = Math.sqrt(2 * Math.PI);
const LOG_2PI = Math.log(2 * Math.PI);
const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;
/** Below this log-probability exp() underflows (cephes MINLOG). */
const MIN_LOG = -708.3964185322641;

const clip01 = (p: number): number => (Number.isNaN(p) ? p : Math.min(1, Math.max(0, p)));

/** m · 2^e without overflowing or underflowing the intermediate power of two. */
function ldexp(m: number, e: number): number {
  while (e > 1000) {
    m *= 2 ** 1000;
    e -= 1000;
  }
  while (e < -1000) {
    m *= 2 ** -1000;
    e += 1000;
  }
  return m * 2 ** e;
}

/** log(n! / nⁿ) by Stirling's series with Bernoulli terms up to B₁₆ (n > 140 here: error ≪ 1e-16). */
function logFactorialOverPower(n: number): number {
  // B_{2j} / (2j (2j − 1)) for j = 8 … 1, evaluated in 1/n² by Horner's rule.
  const c = [-3617 / 122400, 1 / 156, -691 / 360360, 1 / 1188, -1 / 1680, 1 / 1260, -1 / 360, 1 / 12];
  const r = 1 / n;
  const r2 = r * r;
  let poly = 0;
  for (const ci of c) poly = poly * r2 + ci;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + r * poly;
}

/**
 * One-sided Smirnov survival function P(D_n⁺ ≥ x) (scipy.special.smirnov): the Birnbaum–Tingey sum
 * x·Σ_{v < n(1−x)} C(n,v) (x + v/n)^(v−1) (1 − x − v/n)^(n−v), whose terms are all positive, summed in
 * log space; for n > 10⁶ the approximation exp(−(6nx + 1)² / (18n)), as cephes does.
 */
export function smirnovSf(n: number, x: number): number {
  if (!(Number.isInteger(n) && n > 0 && x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const nx = n * x;
  const nxFloor = Math.floor(nx);
  if (nxFloor === 0 || (nxFloor === 1 && nx === 1)) return 1 - x * (1 + x) ** (n - 1);
  if (-2 * n * x * x < MIN_LOG) return 0;
  if (nxFloor >= n - 1) return (1 - x) ** n;
  if (n > 1_000_000) return Math.exp(-((6 * nx + 1) ** 2) / 18 / n);
  // Terms v = 0 … n − ⌊nx⌋ − 1, i.e. while 1 − x − v/n > 0.
  const last = n - nxFloor - 1;
  // log C(n, v) grows to ~n while its increments stay O(1): a compensated (Kahan) running sum keeps
  // the accumulated rounding at a few ulps instead of √n of them (1e-9 relative at n = 10⁵ otherwise).
  let logC = 0;
  let logCErr = 0;
  let sum = 0;
  for (let v = 0; v <= last; v++) {
    const lo = v / n + x;
    const hi = (n - v) / n - x;
    if (hi > 0) {
      const logTerm = logC + (v - 1) * Math.log(lo) + (n - v) * Math.log(hi);
      if (logTerm > MIN_LOG) sum += Math.exp(logTerm);
    }
    const inc = Math.log((n - v) / (v + 1)) - logCErr;
    const next = logC + inc;
    logCErr = next - logC - inc;
    logC = next;
  }
  return clip01(x * sum);
}

function matmul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k];
      if (aik === 0) continue;
      const bRow = k * m;
      const oRow = i * m;
      for (let j = 0; j < m; j++) out[oRow + j] += aik * b[bRow + j];
    }
  }
  return out;
}

/** Rescales a matrix by a power of two (exact) so its largest entry is near 1; returns the exponent taken out. */
function normalise(a: Float64Array): number {
  let big = 0;
  for (const v of a) big = Math.max(big, Math.abs(v));
  if (big === 0 || (big > EM128 && big < E128)) return 0;
  const e = Math.floor(Math.log2(big));
  const s = 2 ** -e;
  for (let i = 0; i < a.length; i++) a[i] *= s;
  return e;
}

/**
 * P(D_n ≤ d) by Durbin's matrix method (Marsaglia, Tsang & Wang 2003): with nd = k − h (k integer,
 * 0 ≤ h < 1) and m = 2k − 1, the answer is n!/nⁿ · (Hⁿ)_{k,k} for the m×m matrix H below. Powers are
 * kept as (matrix, power-of-two exponent) pairs so nothing overflows.
 */
export function kolmogorovCdfDurbin(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  // H_{ij} = 1/(i − j + 1)! where i − j + 1 ≥ 0, with the first column and last row corrected for h.
  const invFact = new Float64Array(m + 1);
  invFact[0] = 1;
  for (let j = 1; j <= m; j++) invFact[j] = invFact[j - 1] / j;
  const H = new Float64Array(m * m);
  for (let i = 0; i < m; i++)
    for (let j = 1; j < m; j++) if (i - j + 1 >= 0) H[i * m + j] = invFact[i - j + 1];
  const v = new Float64Array(m);
  for (let i = 0; i < m; i++) v[i] = (1 - h ** (i + 1)) * invFact[i + 1];
  v[m - 1] = (1 - 2 * h ** m + Math.max(2 * h - 1, 0) ** m) * invFact[m];
  for (let i = 0; i < m; i++) H[i * m] = v[i];
  for (let j = 0; j < m; j++) H[(m - 1) * m + j] = v[m - 1 - j];

  let result: Float64Array | null = null;
  let resultExp = 0;
  let base: Float64Array = H;
  let baseExp = 0;
  for (let e = n; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) {
      if (result === null) {
        result = base.slice();
        resultExp = baseExp;
      } else {
        result = matmul(result, base, m);
        resultExp += baseExp;
      }
      resultExp += normalise(result);
    }
    if (e > 1) {
      base = matmul(base, base, m);
      baseExp *= 2;
      baseExp += normalise(base);
    }
  }
  let p = result![(k - 1) * m + (k - 1)];
  let exp = resultExp;
  // × n!/nⁿ, rescaling by exact powers of two as the product shrinks.
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= E128;
      exp -= 128;
    }
  }
  return clip01(ldexp(p, exp));
}

/**
 * P(D_n < d) by Pomeranz's recursion (Pomeranz 1974, as laid out by Simard & L'Ecuyer): with t = nd,
 * ℓ = ⌊t⌋, f = t − ℓ and g = min(f, 1 − f), the mesh A₁ = 0, A₂ₖ = k − 1 + g, A₂ₖ₊₁ = k − g
 * (k = 1 … n), A₂ₙ₊₂ = n; V is convolved row by row with Poisson-like weights ((ΔA/n)^j / j!) and
 * P = n!·V_{2n+2, n+1}. The admissible columns of each row are computed in integers (from ℓ and
 * whether f is 0 or above ½) so no rounding of A ± t can move a boundary.
 */
export function kolmogorovCdfPomeranz(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const fPos = f > 0 ? 1 : 0;
  const fHigh = f > 0.5 ? 1 : 0;
  const len = 2 * (ll + 1);
  const weights = (step: number): Float64Array => {
    const w = new Float64Array(len);
    w[0] = 1;
    for (let j = 1; j < len; j++) w[j] = (w[j - 1] * step) / j;
    return w;
  };
  const wG = weights(g / n);
  const w2G = weights((2 * g) / n);
  const w1m2G = weights((1 - 2 * g) / n);
  // Column range [lo, hi] (0-based, clipped to [0, n]) of row r (mesh point A_{r+1}), from
  // ⌊A − t⌋ + 1 < j + 1 ≤ ⌈A + t⌉ worked out for each kind of mesh point.
  const bounds = (r: number): [number, number] => {
    let floorLo: number;
    let ceilHi: number;
    if (r === 0) {
      floorLo = -ll - fPos;
      ceilHi = ll + fPos;
    } else if (r === 2 * n + 1) {
      floorLo = n - ll - fPos;
      ceilHi = n + ll + fPos;
    } else if (r % 2 === 1) {
      const a = (r + 1) / 2 - 1; // A = a + g
      floorLo = a - ll - fHigh;
      ceilHi = a + ll + fPos;
    } else {
      // A = b − g. For integer t (g = 0) the exact floor would be b − ℓ; using b − ℓ − 1 as if g were
      // just above 0 (as scipy does) only adds a column that the next, zero-width step drops again.
      const b = r / 2;
      floorLo = b - ll - 1;
      ceilHi = b + ll + fHigh;
    }
    return [Math.max(floorLo + 1, 0), Math.min(ceilHi - 1, n)];
  };
  let prev = new Float64Array(n + 1);
  let cur = new Float64Array(n + 1);
  let [pLo, pHi] = bounds(0);
  prev[0] = 1;
  let exp = 0;
  for (let r = 1; r <= 2 * n + 1; r++) {
    const w = r === 1 || r === 2 * n + 1 ? wG : r % 2 === 1 ? w2G : w1m2G;
    const [lo, hi] = bounds(r);
    cur.fill(0);
    let big = 0;
    for (let j = lo; j <= hi; j++) {
      let s = 0;
      const kTop = Math.min(j, pHi);
      for (let k = Math.max(pLo, j - len + 1); k <= kTop; k++) s += prev[k] * w[j - k];
      cur[j] = s;
      big = Math.max(big, s);
    }
    if (big > 0 && big < EM128) {
      for (let j = lo; j <= hi; j++) cur[j] *= E128;
      exp -= 128;
    }
    [prev, cur] = [cur, prev];
    pLo = lo;
    pHi = hi;
  }
  let ans = prev[n];
  for (let i = 1; i <= n; i++) {
    if (Math.abs(ans) > E128) {
      ans *= EM128;
      exp += 128;
    }
    ans *= i;
  }
  return clip01(ldexp(ans, exp));
}

/**
 * The Pelz–Good (1976) approximation to P(D_n ≤ x): Li-Chien/Korolyuk's expansion
 * K₀(z) + K₁(z)/√n + K₂(z)/n + K₃(z)/n^{3/2} at z = x√n, each Kᵢ rewritten through Jacobi's theta
 * transformation as sums over odd m of polynomials in z, m times exp(−π²m²/(8z²)), plus two short
 * sums over all k of exp(−π²k²/(2z²)).
 */
export function kolmogorovCdfPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const z8 = z4 * z4;
  const qLog = -PI2 / 8 / z2;
  if (qLog < -708) return 0;
  const maxK = Math.ceil((16 * z) / Math.PI);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let k = maxK; k >= 1; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    const q = Math.exp(qLog * m2);
    s0 += q;
    s1 += (-z2 + (PI2 / 4) * m2) * q;
    s2 += (6 * z6 + 2 * z4 + (((2 * z4 - 5 * z2) * PI2) / 4) * m2 + ((PI4 * (1 - 2 * z2)) / 16) * m4) * q;
    s3 +=
      (-30 * z6 -
        90 * z8 +
        ((PI2 * (135 * z4 - 96 * z6)) / 4) * m2 +
        ((PI4 * (-60 * z2 + 212 * z4)) / 16) * m4 +
        ((PI6 * (5 - 30 * z2)) / 64) * m6) *
      q;
  }
  const k0 = (SQRT_2PI * s0) / z;
  const k1 = (SQRT_2PI * s1) / (6 * z4);
  let k2 = (SQRT_2PI * s2) / (72 * z ** 7);
  let k3 = (SQRT_2PI * s3) / (6480 * z ** 10);
  let e2 = 0;
  let e3 = 0;
  for (let k = maxK; k >= 1; k--) {
    const k2sq = k * k;
    const q = Math.exp((-PI2 / 2 / z2) * k2sq);
    e2 += k2sq * q;
    e3 += (3 * z2 - PI2 * k2sq) * k2sq * q;
  }
  k2 += (e2 * PI2 * SQRT_2PI) / (-36 * z2 * z);
  k3 += (e3 * PI2 * SQRT_2PI) / (216 * z6);
  return k0 + k1 / Math.sqrt(n) + k2 / n + k3 / n ** 1.5;
}

function kolmogorov(n: number, x: number, wantCdf: boolean): number {
  if (Number.isNaN(x) || !Number.isInteger(n) || n <= 0) return Number.NaN;
  const pick = (cdf: number, sf: number) => clip01(wantCdf ? cdf : sf);
  if (x >= 1) return pick(1, 0);
  if (x <= 0) return pick(0, 1);
  const t = n * x;
  if (t <= 1) {
    // Ruben–Gambino: P(D_n ≤ x) = n!/nⁿ (2t − 1)ⁿ for 1/(2n) ≤ x ≤ 1/n.
    if (t <= 0.5) return pick(0, 1);
    let p: number;
    if (n <= 140) {
      p = 1;
      for (let i = 1; i <= n; i++) p *= i * (1 / n) * (2 * t - 1);
    } else {
      p = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return pick(p, 1 - p);
  }
  if (t >= n - 1) {
    // Ruben–Gambino at the top: P(D_n ≥ x) = 2(1 − x)ⁿ for x ≥ 1 − 1/n.
    const p = 2 * (1 - x) ** n;
    return pick(1 - p, p);
  }
  if (x >= 0.5) {
    // The two one-sided tails are disjoint: exactly twice the one-sided tail.
    const p = 2 * smirnovSf(n, x);
    return pick(1 - p, p);
  }
  const nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 0.754693) {
      const p = kolmogorovCdfDurbin(n, x);
      return pick(p, 1 - p);
    }
    if (nx2 <= 4) {
      const p = kolmogorovCdfPomeranz(n, x);
      return pick(p, 1 - p);
    }
    const p = 2 * smirnovSf(n, x);
    return pick(1 - p, p);
  }
  // Large n: the survival function has its own cut-offs (scipy computes it directly when small).
  if (!wantCdf) {
    if (nx2 >= 370) return 0;
    if (nx2 >= 2.2) return clip01(2 * smirnovSf(n, x));
  }
  let cdf: number;
  if (nx2 >= 18) cdf = 1;
  else if (n <= 100000 && n * x ** 1.5 <= 1.4) cdf = kolmogorovCdfDurbin(n, x);
  else cdf = kolmogorovCdfPelzGood(n, x);
  return pick(cdf, 1 - cdf);
}

/** P(D_n ≤ x) for the one-sample two-sided Kolmogorov–Smirnov statistic (scipy.stats.kstwo.cdf). */
export function kolmogorovCdf(n: number, x: number): number {
  return kolmogorov(n, x, true);
}

/** P(D_n ≥ x) for the one-sample two-sided Kolmogorov–Smirnov statistic (scipy.stats.kstwo.sf). */
export function kolmogorovSf(n: number, x: number): number {
  return kolmogorov(n, x, false);
}
