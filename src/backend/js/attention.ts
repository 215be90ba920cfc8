/**
 * Reference scaled dot-product attention, forward and backward, for `groups` independent heads.
 * Promise: exactly the Backend contract — query group g reads kv group floor(g / kvGroup) and mask
 * block floor(g / maskGroup); causal lets query i see keys j <= i + (tk − tq); a row with no
 * visible key, or whose visible scores are all −∞, gives out 0, lse −∞ and zero gradients.
 * Scores, softmax sums and all gradient sums are kept in double; dk and dv sum over every query
 * of every query group that shares the kv group. NaN in any visible score makes its row NaN.
 */
import type { F32 } from '../backend.ts';

/** One past the last key query i may see. */
function visibleKeys(i: number, tq: number, tk: number, causal: boolean): number {
  return causal ? Math.max(0, Math.min(tk, i + (tk - tq) + 1)) : tk;
}

/** scale · q_row · k_j + mask (double). */
function score(
  q: F32,
  qOff: number,
  k: F32,
  kOff: number,
  d: number,
  scale: number,
  mask: F32 | null,
  maskIdx: number,
): number {
  let dot = 0;
  for (let c = 0; c < d; c++) dot += q[qOff + c] * k[kOff + c];
  return scale * dot + (mask === null ? 0 : mask[maskIdx]);
}

export function attention(
  q: F32,
  k: F32,
  v: F32,
  mask: F32 | null,
  out: F32,
  lse: F32,
  groups: number,
  tq: number,
  tk: number,
  d: number,
  scale: number,
  causal: boolean,
  maskGroup: number,
  kvGroup: number,
): void {
  const s = new Float64Array(tk);
  const acc = new Float64Array(d);
  for (let g = 0; g < groups; g++) {
    const kvOff = Math.floor(g / kvGroup) * tk * d;
    const maskOff = mask === null ? 0 : Math.floor(g / maskGroup) * tq * tk;
    for (let i = 0; i < tq; i++) {
      const row = g * tq + i;
      const qOff = row * d;
      const jEnd = visibleKeys(i, tq, tk, causal);
      let mx = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < jEnd; j++) {
        const sc = score(q, qOff, k, kvOff + j * d, d, scale, mask, maskOff + i * tk + j);
        s[j] = sc;
        if (sc > mx || Number.isNaN(sc)) mx = sc;
        if (Number.isNaN(mx)) break;
      }
      if (mx === Number.NEGATIVE_INFINITY) {
        out.fill(0, qOff, qOff + d);
        lse[row] = Number.NEGATIVE_INFINITY;
        continue;
      }
      if (Number.isNaN(mx)) {
        out.fill(Number.NaN, qOff, qOff + d);
        lse[row] = Number.NaN;
        continue;
      }
      acc.fill(0);
      let sum = 0;
      for (let j = 0; j < jEnd; j++) {
        const p = Math.exp(s[j] - mx);
        sum += p;
        const vOff = kvOff + j * d;
        for (let c = 0; c < d; c++) acc[c] += p * v[vOff + c];
      }
      for (let c = 0; c < d; c++) out[qOff + c] = acc[c] / sum;
      lse[row] = mx + Math.log(sum);
    }
  }
}

export function attentionBackward(
  q: F32,
  k: F32,
  v: F32,
  mask: F32 | null,
  out: F32,
  lse: F32,
  dout: F32,
  dq: F32,
  dk: F32,
  dv: F32,
  groups: number,
  tq: number,
  tk: number,
  d: number,
  scale: number,
  causal: boolean,
  maskGroup: number,
  kvGroup: number,
): void {
  const kvGroups = Math.ceil(groups / kvGroup);
  const dkAcc = new Float64Array(kvGroups * tk * d);
  const dvAcc = new Float64Array(kvGroups * tk * d);
  const dqAcc = new Float64Array(d);
  for (let g = 0; g < groups; g++) {
    const kvOff = Math.floor(g / kvGroup) * tk * d;
    const maskOff = mask === null ? 0 : Math.floor(g / maskGroup) * tq * tk;
    for (let i = 0; i < tq; i++) {
      const row = g * tq + i;
      const qOff = row * d;
      const l = lse[row];
      if (l === Number.NEGATIVE_INFINITY) {
        dq.fill(0, qOff, qOff + d);
        continue;
      }
      // With P = softmax(S): dS_ij = P_ij (dout_i·v_j − D_i), D_i = Σ_j P_ij dout_i·v_j = dout_i·out_i.
      let D = 0;
      for (let c = 0; c < d; c++) D += dout[qOff + c] * out[qOff + c];
      dqAcc.fill(0);
      const jEnd = visibleKeys(i, tq, tk, causal);
      for (let j = 0; j < jEnd; j++) {
        const kOff = kvOff + j * d;
        const p = Math.exp(score(q, qOff, k, kOff, d, scale, mask, maskOff + i * tk + j) - l);
        let dp = 0;
        for (let c = 0; c < d; c++) dp += dout[qOff + c] * v[kOff + c];
        const ds = p * (dp - D);
        for (let c = 0; c < d; c++) {
          dqAcc[c] += ds * k[kOff + c];
          dkAcc[kOff + c] += scale * ds * q[qOff + c];
          dvAcc[kOff + c] += p * dout[qOff + c];
        }
      }
      for (let c = 0; c < d; c++) dq[qOff + c] = scale * dqAcc[c];
    }
  }
  for (let e = 0; e < dkAcc.length; e++) {
    dk[e] = dkAcc[e];
    dv[e] = dvAcc[e];
  }
}
