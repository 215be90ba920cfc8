/**
 * What every report chart shares: the plan a chart builder returns (a Vega-Lite spec or the reason
 * there is nothing to draw) and the common look (type sizes, grids, white background).
 */
import type { TopLevelSpec } from 'vega-lite';

export interface ChartPlan {
  /** File-safe name: plots/<name>.png and the HTML id. */
  name: string;
  title: string;
  /** One or two sentences under the chart: what it shows and how to read it. */
  caption: string;
  /** Null when there is nothing to draw; `reason` says why. */
  spec: TopLevelSpec | null;
  reason?: string;
  /** Rows left out of the chart, with why (missing values). */
  omitted: string[];
}

export const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

/** Shared look: readable type sizes, light grids, white background (the PNGs need one too). */
export const CONFIG = {
  font: FONT,
  background: 'white',
  padding: 8,
  view: { stroke: '#d0d0d0' },
  axis: { labelFontSize: 12, titleFontSize: 13, titleFontWeight: 'normal', gridColor: '#ececec' },
  // Label limits 0 = none: run names are shown whole, never cut with an ellipsis.
  legend: { labelFontSize: 12, titleFontSize: 13, labelLimit: 0, symbolSize: 110 },
  header: { labelFontSize: 13, labelFontWeight: 'bold', labelLimit: 0, labelPadding: 6 },
  title: { fontSize: 16, subtitleFontSize: 13, anchor: 'start', offset: 12 },
  text: { fontSize: 12 },
} as const;

/** One layer of a layered Vega-Lite spec. */
export type Layer = NonNullable<Extract<TopLevelSpec, { layer: unknown }>['layer']>[number];
