/**
 * The report's entry points: `renderReport` turns a validated study summary into report.html,
 * summary.md and plots/<name>.png inside a folder; `reportCommand` is what `lethe report
 * runs/<study>` calls. Every file is written atomically (temporary name in the same folder, then
 * rename), so a reader never sees half a report. Output depends only on the summary (no clock, no
 * randomness): rendering the same summary twice gives byte-identical HTML and Markdown.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.ts';
import type { Summary } from '../study/study-schema.ts';
import { planCharts } from './charts.ts';
import { type RenderedChart, renderHtml } from './html.ts';
import { loadSummary } from './load.ts';
import { pngRenderer } from './png.ts';
import { forDisplay } from './seeds.ts';
import { inlineSvg, renderSvg } from './svg.ts';
import { renderMarkdown } from './text.ts';

export interface RenderOptions {
  /** Write plots/<name>.png (default true; skipped with a warning where no PNG renderer loads). */
  png?: boolean;
  /** Where warnings go (PNG skipped, chart warnings); default: stderr, one line each. */
  onWarning?: (message: string) => void;
}

export interface ReportFiles {
  /** Path of report.html. */
  html: string;
  /** Path of summary.md. */
  markdown: string;
  /** Paths of the plot PNGs written (empty when PNG export was skipped). */
  pngs: string[];
  /** Everything that went less than perfectly (also passed to onWarning). */
  warnings: string[];
}

const stderrWarning = (message: string): void => {
  process.stderr.write(`warning: ${message}\n`);
};

export async function renderReport(
  summary: Summary,
  outDir: string,
  options: RenderOptions = {},
): Promise<ReportFiles> {
  // Seeds merged for the leaderboard; the searches are drawn per seed, from the rows as written.
  const raw = summary;
  summary = forDisplay(summary);
  const warn = options.onWarning ?? stderrWarning;
  const warnings: string[] = [];
  const plans = planCharts(summary, raw);
  const standalone = new Map<string, string>();
  const charts: RenderedChart[] = [];
  for (const plan of plans) {
    if (!plan.spec) {
      charts.push({ plan, svg: null });
      continue;
    }
    const svg = await renderSvg(plan.spec, plan.name, warnings);
    standalone.set(plan.name, svg);
    charts.push({ plan, svg: inlineSvg(svg, `${plan.title}. ${plan.caption}`, `svg-${plan.name}`) });
  }

  await mkdir(outDir, { recursive: true });
  const html = join(outDir, 'report.html');
  const markdown = join(outDir, 'summary.md');
  await writeFileAtomic(html, renderHtml(summary, charts, raw));
  await writeFileAtomic(markdown, renderMarkdown(raw));

  const pngs: string[] = [];
  if (options.png !== false && standalone.size > 0) {
    const renderer = pngRenderer();
    if (!renderer.ok) warnings.push(renderer.reason);
    else {
      await mkdir(join(outDir, 'plots'), { recursive: true });
      for (const [name, svg] of standalone) {
        const path = join(outDir, 'plots', `${name}.png`);
        await writeFileAtomic(path, renderer.render(svg));
        pngs.push(path);
      }
    }
  }
  for (const w of warnings) warn(w);
  return { html, markdown, pngs, warnings };
}

/**
 * `lethe report <dir>`: reads <dir>/summary.json (or the summary file itself, if given one) and
 * writes the report next to it. Returns every path written, HTML first.
 */
export async function reportCommand(dir: string, options: RenderOptions = {}): Promise<string[]> {
  const isFile = dir.endsWith('.json') && (await stat(dir).catch(() => null))?.isFile();
  const summaryPath = isFile ? dir : join(dir, 'summary.json');
  const outDir = isFile ? dirname(dir) : dir;
  const files = await renderReport(loadSummary(summaryPath), outDir, options);
  return [files.html, files.markdown, ...files.pngs];
}
