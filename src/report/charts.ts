/**
 * The report's plots as Vega-Lite specs, built from a study summary alone. Each builder returns a
 * spec, or a plain-language reason it has nothing to draw (the report prints the reason instead).
 * Every chart names and colours rows through `seriesOf`, so one method has one colour throughout;
 * the target is black and the oracle grey in every chart. Data values go into `values` only, never
 * into expressions, so run names and labels cannot change what a spec computes.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Column, RunRow, Summary } from '../study/study-schema.ts';
import { type ChartPlan, CONFIG, type Layer } from './chart-style.ts';
import { cellValue, DIRECTION_TEXT, formatValue, type Series, seriesOf } from './format.ts';
import { searchCharts } from './search.ts';

export type { ChartPlan } from './chart-style.ts';

const SHAPES = { target: 'square', oracle: 'diamond', run: 'circle' } as const;

function columnFor(summary: Summary, key: string): Column | undefined {
  return summary.columns.find((c) => c.key === key);
}

/** The first key that some row (reference or run) has a number for. */
function firstPresent(summary: Summary, keys: string[]): string | undefined {
  const rows = [summary.references.target, summary.references.oracle, ...summary.runs];
  return keys.find((k) => rows.some((r) => cellValue(r, k) !== null));
}

function axisTitle(summary: Summary, key: string, fallback: string, extra = ''): string {
  const col = columnFor(summary, key);
  const label = col?.label ?? fallback;
  const direction = col ? ` — ${DIRECTION_TEXT[col.direction]}` : '';
  return `${label}${extra}${direction}`;
}

/** Forget-side measures the trade-off plot can use, best first (forget quality is the TOFU one). */
const FORGET_KEYS = ['tofu.forgetQuality', 'muse.verbmem.forget', 'muse.knowmem.forget', 'closeness.gapLeft'];
const UTILITY_KEYS = ['tofu.modelUtility', 'muse.knowmem.retain', 'mcq.utility'];

/** Point labels for one side: anchored at their left end (text to the right of the point) or right end. */
function labelLayer(side: 'left' | 'right'): Layer {
  return {
    transform: [{ filter: { field: 'side', equal: side } }],
    mark: {
      type: 'text',
      align: side,
      dx: side === 'left' ? 9 : -9,
      dy: -10,
      fontSize: 12,
      fontWeight: 'bold',
    },
    encoding: {
      x: { field: 'x', type: 'quantitative' },
      y: { field: 'y', type: 'quantitative' },
      text: { field: 'label', type: 'nominal' },
      color: { value: '#333333' },
    },
  };
}

export function tradeoffChart(summary: Summary, series: Series[] = seriesOf(summary)): ChartPlan {
  const name = 'tradeoff';
  const title = 'Forgetting vs utility';
  const xKey = firstPresent(summary, FORGET_KEYS);
  const yKey = firstPresent(summary, UTILITY_KEYS);
  if (!xKey || !yKey) {
    const missing = [!xKey && 'a forget measure', !yKey && 'a utility measure'].filter(Boolean).join(' and ');
    return {
      name,
      title,
      caption: '',
      spec: null,
      reason: `the summary has no values for ${missing} (looked for ${[...FORGET_KEYS, ...UTILITY_KEYS].join(', ')})`,
      omitted: [],
    };
  }
  const omitted: string[] = [];
  const points: { name: string; role: string; x: number; y: number; shown: string }[] = [];
  for (const s of series) {
    const x = cellValue(s.row, xKey);
    const y = cellValue(s.row, yKey);
    if (x === null || y === null) {
      const label = (k: string): string => columnFor(summary, k)?.label ?? k;
      const what = [x === null && label(xKey), y === null && label(yKey)].filter(Boolean).join(' and ');
      omitted.push(`${s.name} (no ${what})`);
      continue;
    }
    points.push({ name: s.name, role: s.role, x, y, shown: '' });
  }
  // KS p-values span many decades (1e-12 for the target, 1 for the oracle): only a log axis shows
  // the runs apart. A zero p-value (underflow) has no log, so it sits at the floor, marked "≤".
  const positive = points.map((p) => p.x).filter((x) => x > 0);
  const logX =
    xKey === 'tofu.forgetQuality' &&
    positive.length > 0 &&
    Math.max(...positive) / Math.min(...positive) > 100;
  let floorNote = '';
  if (logX) {
    const floor = Math.min(...positive) / 10;
    for (const p of points) {
      if (p.x <= 0) {
        p.x = floor;
        p.shown = ' (≤)';
        floorNote = ' Points marked (≤) have a value of 0, drawn at the axis floor.';
      }
    }
  }
  const plotted = series.filter((s) => points.some((p) => p.name === s.name));
  // Labels of points near the right edge go to their left, so they stay inside the plot instead of
  // running into the legend.
  const pos = (x: number): number => (logX ? Math.log10(x) : x);
  const xs = points.map((p) => pos(p.x));
  const [lo, hi] = [Math.min(...xs), Math.max(...xs)];
  const side = (x: number): 'left' | 'right' =>
    hi > lo && (pos(x) - lo) / (hi - lo) > 0.7 ? 'right' : 'left';
  const xCol = columnFor(summary, xKey);
  const caption =
    `Each point is one row of the leaderboard. Better forgetting is to the ${
      xCol?.direction === 'lower' ? 'left' : 'right'
    }, better utility is up; the oracle (grey diamond) is what retraining without the forget set gives, ` +
    `the target (black square) is the model before unlearning.${floorNote}`;
  const spec: TopLevelSpec = {
    config: CONFIG,
    title: {
      text: title,
      subtitle: `${xCol?.label ?? xKey} against ${columnFor(summary, yKey)?.label ?? yKey}`,
    },
    width: 720,
    height: 400,
    data: {
      values: points.map((p) => ({ ...p, label: `${p.name}${p.shown}`, side: side(p.x) })),
    },
    layer: [
      {
        mark: { type: 'point', filled: true, size: 130, opacity: 0.9, stroke: 'white', strokeWidth: 1 },
        encoding: {
          x: {
            field: 'x',
            type: 'quantitative',
            title: axisTitle(summary, xKey, xKey, logX ? ' (log scale)' : ''),
            scale: logX ? { type: 'log' } : { zero: false, nice: true },
            axis: logX ? { format: '.0e', tickCount: 8 } : {},
          },
          y: {
            field: 'y',
            type: 'quantitative',
            title: axisTitle(summary, yKey, yKey),
            scale: { zero: false, nice: true },
          },
          color: {
            field: 'name',
            type: 'nominal',
            title: 'Row',
            scale: { domain: plotted.map((s) => s.name), range: plotted.map((s) => s.colour) },
            sort: null,
          },
          shape: {
            field: 'name',
            type: 'nominal',
            title: 'Row',
            scale: { domain: plotted.map((s) => s.name), range: plotted.map((s) => SHAPES[s.role]) },
            sort: null,
          },
        },
      },
      labelLayer('left'),
      labelLayer('right'),
    ],
  };
  return { name, title, caption, spec, omitted };
}

const CURVES = ['forget loss', 'retain loss', 'total loss'];

/**
 * What each method's logged forget-side loss is, and which way it moves while the method forgets:
 * the curves of different methods are different quantities (NPO's falls while it forgets, gradient
 * ascent's NLL rises), so the caption says so per method shown.
 */
export const FORGET_LOSS_MEANING: Record<string, string> = {
  ga: 'the NLL of the forget answers, which rises as it forgets (it is maximised)',
  'grad-diff': 'the NLL of the forget answers, which rises as it forgets',
  'ga-kl': 'the NLL of the forget answers, which rises as it forgets',
  'random-label': 'the NLL of the forget answers, which rises as it forgets',
  npo: "the NPO loss −(2/β)·log σ(−β·log(p_θ/p_ref)) on the forget answers, which falls towards 0 as it forgets (the model's likelihood drops below the reference's)",
  'npo-rt': 'the NPO loss on the forget answers, which falls towards 0 as it forgets',
  'npo-kl': 'the NPO loss on the forget answers, which falls towards 0 as it forgets',
  simnpo:
    'the SimNPO loss (reference-free, length-normalised NPO) on the forget answers, which falls as it forgets',
  idk: 'the NLL of "I don\'t know"-style answers to the forget questions, which falls as it learns to decline',
  dpo: 'the DPO loss preferring a refusal over the true answer, which falls as it forgets',
  rmu: 'the distance of layer activations on forget text to a fixed random direction, which falls as it forgets',
};
const DASHES: Record<string, number[]> = {
  'forget loss': [1, 0],
  'retain loss': [6, 3],
  'total loss': [2, 2],
};

export function lossCurvesChart(summary: Summary, series: Series[] = seriesOf(summary)): ChartPlan {
  const name = 'loss-curves';
  const title = 'Unlearning loss per step';
  const rows: { name: string; step: number; value: number; curve: string }[] = [];
  const omitted: string[] = [];
  const panels: Series[] = [];
  for (const s of series.filter((x) => x.role === 'run')) {
    const c = s.row.curves;
    if (c.step.length === 0) {
      omitted.push(`${s.name} (no training steps: ${s.row.kind} method)`);
      continue;
    }
    const add = (values: number[] | undefined, curve: string): boolean => {
      if (!values || values.length === 0) return false;
      const n = Math.min(values.length, c.step.length);
      for (let i = 0; i < n; i++) {
        if (Number.isFinite(values[i])) rows.push({ name: s.name, step: c.step[i], value: values[i], curve });
      }
      return true;
    };
    const hasForget = add(c.forgetLoss, 'forget loss');
    const hasRetain = add(c.retainLoss, 'retain loss');
    // The total objective only when the split losses were not logged: it mixes signs (ascent on the
    // forget set) and would squash the two curves that tell the story.
    if (!hasForget && !hasRetain) add(c.loss, 'total loss');
    panels.push(s);
  }
  if (panels.length === 0) {
    return {
      name,
      title,
      caption: '',
      spec: null,
      reason: 'no run logged training steps (all methods are non-gradient)',
      omitted,
    };
  }
  const usedCurves = CURVES.filter((c) => rows.some((r) => r.curve === c));
  const methods = [...new Set(panels.map((s) => s.row.method))];
  const meanings = methods.map(
    (m) =>
      `${m}: ${FORGET_LOSS_MEANING[m] ?? 'the forget-side term the method logged (see its documentation)'}`,
  );
  const caption =
    'One panel per run; each panel has its own loss scale. The solid line is the forget-side loss, a ' +
    'different quantity per method — ' +
    `${meanings.join('; ')}. A dashed line is the loss on the retain set (flat is good).`;
  const spec: TopLevelSpec = {
    config: CONFIG,
    title: { text: title, subtitle: 'per-token loss logged by the unlearning run' },
    data: { values: rows },
    facet: {
      field: 'name',
      type: 'nominal',
      sort: panels.map((s) => s.name),
      header: { title: null },
    },
    columns: Math.min(3, panels.length),
    spec: {
      width: 320,
      height: 190,
      mark: { type: 'line', strokeWidth: 2, interpolate: 'monotone' },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'Step' },
        y: { field: 'value', type: 'quantitative', title: 'Loss', scale: { zero: false } },
        color: {
          field: 'name',
          type: 'nominal',
          legend: null,
          scale: { domain: panels.map((s) => s.name), range: panels.map((s) => s.colour) },
        },
        strokeDash: {
          field: 'curve',
          type: 'nominal',
          title: 'Curve',
          scale: { domain: usedCurves, range: usedCurves.map((c) => DASHES[c]) },
        },
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
  return { name, title, caption, spec, omitted };
}

/** The first attack a row reports, as the summary orders them. */
export function firstAttack(row: RunRow): string | undefined {
  return Object.keys(row.roc)[0];
}

export function rocChart(summary: Summary, series: Series[] = seriesOf(summary)): ChartPlan {
  const name = 'mia-roc';
  const title = 'Membership inference: ROC curves';
  const oracle = summary.references.oracle;
  const rows: Record<string, string | number>[] = [];
  const panels: string[] = [];
  const omitted: string[] = [];
  const colours = new Map<string, string>();
  const curve = (row: RunRow, attack: string): { fpr: number; tpr: number }[] => {
    const r = row.roc[attack];
    if (!r) return [];
    const n = Math.min(r.fpr.length, r.tpr.length);
    return Array.from({ length: n }, (_, i) => ({ fpr: r.fpr[i], tpr: r.tpr[i] }));
  };
  // The oracle gets no panel of its own: it is drawn, dashed, in every other panel as the bar.
  for (const s of series.filter((x) => x.role !== 'oracle')) {
    const attack = firstAttack(s.row);
    const own = attack ? curve(s.row, attack) : [];
    if (!attack || own.length === 0) {
      omitted.push(`${s.name} (no ROC curve recorded)`);
      continue;
    }
    const auc = s.row.roc[attack].auc;
    const oracleAttack = oracle.roc[attack] ? attack : firstAttack(oracle);
    const oracleAuc = oracleAttack ? oracle.roc[oracleAttack].auc : null;
    const panel = s.name;
    panels.push(panel);
    // The AUCs go inside the panel (bottom right, where a ROC curve never is), not in the header,
    // which would truncate them.
    // The oracle's AUC with its 95% interval (the summary keeps intervals by metric name,
    // mia.<attack>): where forget and holdout are exchangeable it covers 0.5; a bare number would not say.
    const ci = oracleAttack ? oracle.intervals?.[`mia.${oracleAttack}`] : undefined;
    const oracleText =
      oracleAuc === null
        ? ''
        : `\noracle ${formatValue(oracleAuc, 3)}${ci ? ` [${formatValue(ci.lo, 3)}, ${formatValue(ci.hi, 3)}]` : ''}`;
    const text = `${attack} AUC ${formatValue(auc, 3)}${oracleText}`;
    rows.push({ panel, series: s.name, role: 'label', i: 0, fpr: 0.97, tpr: 0.04, text });
    colours.set(s.name, s.colour);
    own.forEach((p, i) => rows.push({ panel, series: s.name, role: 'this row', i, ...p }));
    if (oracleAttack) {
      const oracleName = series.find((x) => x.role === 'oracle')?.name ?? 'oracle';
      colours.set(oracleName, series.find((x) => x.role === 'oracle')?.colour ?? '#8c8c8c');
      curve(oracle, oracleAttack).forEach((p, i) =>
        rows.push({ panel, series: oracleName, role: 'oracle', i, ...p }),
      );
    }
    rows.push({ panel, series: 'chance', role: 'chance (diagonal)', i: 0, fpr: 0, tpr: 0 });
    rows.push({ panel, series: 'chance', role: 'chance (diagonal)', i: 1, fpr: 1, tpr: 1 });
  }
  colours.set('chance', '#b5b5b5');
  if (panels.length === 0) {
    return {
      name,
      title,
      caption: '',
      spec: null,
      reason: 'no row recorded a membership-inference ROC curve',
      omitted,
    };
  }
  const caption =
    'Attack telling forget-set members from held-out non-members, one panel per row (the first attack ' +
    'each row lists). The oracle never saw the forget set, so its curve (grey, dashed) is where a ' +
    'perfectly unlearned model lands; the dotted diagonal is a coin flip.';
  const spec: TopLevelSpec = {
    config: CONFIG,
    title: { text: title, subtitle: 'forget set (members) vs holdout (non-members)' },
    data: { values: rows },
    facet: { field: 'panel', type: 'nominal', sort: panels, header: { title: null } },
    columns: Math.min(4, panels.length),
    spec: {
      width: 230,
      height: 230,
      layer: [
        {
          transform: [{ filter: { not: { field: 'role', equal: 'label' } } }],
          mark: { type: 'line', strokeWidth: 2, clip: true },
          encoding: {
            x: {
              field: 'fpr',
              type: 'quantitative',
              title: 'False positive rate',
              scale: { domain: [0, 1] },
            },
            y: { field: 'tpr', type: 'quantitative', title: 'True positive rate', scale: { domain: [0, 1] } },
            order: { field: 'i', type: 'quantitative' },
            color: {
              field: 'series',
              type: 'nominal',
              legend: null,
              scale: { domain: [...colours.keys()], range: [...colours.values()] },
            },
            strokeDash: {
              field: 'role',
              type: 'nominal',
              title: 'Curve',
              scale: {
                domain: ['this row', 'oracle', 'chance (diagonal)'],
                range: [
                  [1, 0],
                  [6, 3],
                  [2, 3],
                ],
              },
            },
          },
        },
        {
          transform: [{ filter: { field: 'role', equal: 'label' } }],
          mark: {
            type: 'text',
            align: 'right',
            baseline: 'bottom',
            fontSize: 12,
            lineBreak: '\n',
            color: '#333333',
          },
          encoding: {
            x: { field: 'fpr', type: 'quantitative' },
            y: { field: 'tpr', type: 'quantitative' },
            text: { field: 'text', type: 'nominal' },
          },
        },
      ],
    },
  };
  return { name, title, caption, spec, omitted };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function truthRatioChart(summary: Summary, series: Series[] = seriesOf(summary)): ChartPlan {
  const name = 'truth-ratios';
  const title = 'Truth ratios on the forget set';
  const omitted: string[] = [];
  // Oracle first: it is the distribution every other row is read against.
  const ordered = [
    ...series.filter((s) => s.role === 'oracle'),
    ...series.filter((s) => s.role === 'target'),
    ...series.filter((s) => s.role === 'run'),
  ];
  const shown = ordered.filter((s) => {
    const ok = s.row.truthRatios.some(Number.isFinite);
    if (!ok) omitted.push(`${s.name} (no truth ratios)`);
    return ok;
  });
  if (shown.length === 0) {
    return {
      name,
      title,
      caption: '',
      spec: null,
      reason: 'no row recorded truth ratios (not a TOFU task)',
      omitted,
    };
  }
  // Raw R per question (not the folded min(R, 1/R)), on a log axis: R spans decades and R = 1 is
  // the middle (no preference). A non-positive R has no logarithm and is listed as left out.
  let dropped = 0;
  const values = shown.flatMap((s) =>
    s.row.truthRatios
      .filter((v) => {
        const ok = Number.isFinite(v) && v > 0;
        if (!ok) dropped++;
        return ok;
      })
      .map((v) => ({ name: s.name, value: v })),
  );
  if (dropped > 0) omitted.push(`${dropped} truth ratios ≤ 0 or not finite (no logarithm)`);
  const oracleSeries = shown.find((s) => s.role === 'oracle');
  const oracleR = oracleSeries ? oracleSeries.row.truthRatios.filter((v) => Number.isFinite(v) && v > 0) : [];
  const oracleMedian = oracleR.length > 0 ? median(oracleR) : null;
  const colour = {
    field: 'name',
    type: 'nominal',
    legend: null,
    scale: { domain: shown.map((s) => s.name), range: shown.map((s) => s.colour) },
  } as const;
  const y = {
    field: 'name',
    type: 'nominal',
    title: null,
    sort: shown.map((s) => s.name),
    axis: { labelLimit: 0 },
  } as const;
  const caption =
    "Each row's raw truth ratio R on every forget question (R = geometric mean of the wrong answers' " +
    "probabilities over the right answer's, log scale): R below 1 means the model still prefers the " +
    'right answer, R near 1 no preference. The box spans the middle half, whiskers the full range, ' +
    "ticks the questions. Forget quality is the KS test of each row's R against the oracle's (top row, " +
    'dashed line at its median): the closer the shapes, the better.';
  const layers: Layer[] = [
    {
      mark: { type: 'tick', thickness: 1.5, size: 26, opacity: 0.45 },
      encoding: { x: { field: 'value', type: 'quantitative', scale: { type: 'log' } }, y, color: colour },
    },
    {
      mark: {
        type: 'boxplot',
        extent: 'min-max',
        size: 16,
        opacity: 0.55,
        median: { color: '#111111', strokeWidth: 2 },
      },
      encoding: {
        x: {
          field: 'value',
          type: 'quantitative',
          title: 'Truth ratio R per forget question (log scale; < 1 prefers the right answer)',
          scale: { type: 'log' },
        },
        y,
        color: colour,
      },
    },
  ];
  if (oracleMedian !== null) {
    layers.push({
      data: { values: [{ m: oracleMedian }] },
      mark: { type: 'rule', strokeDash: [5, 4], color: '#555555', strokeWidth: 1.5 },
      encoding: { x: { field: 'm', type: 'quantitative' } },
    });
  }
  const spec: TopLevelSpec = {
    config: CONFIG,
    title: { text: title, subtitle: 'each row against the oracle (top)' },
    width: 720,
    height: { step: 40 },
    data: { values },
    layer: layers,
  };
  return { name, title, caption, spec, omitted };
}

/**
 * Every plot of the report, in page order. `raw` is the summary before seeds were merged (the
 * searches are per seed); by default the one given.
 */
export function planCharts(summary: Summary, raw: Summary = summary): ChartPlan[] {
  const series = seriesOf(summary);
  return [
    tradeoffChart(summary, series),
    ...searchCharts(raw, summary),
    lossCurvesChart(summary, series),
    rocChart(summary, series),
    truthRatioChart(summary, series),
  ];
}
