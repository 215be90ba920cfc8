/** The report layer's public API: study summary JSON -> HTML (inline SVG), Markdown, PNG plots. */
export { type ChartPlan, planCharts } from './charts.ts';
export { bestPerColumn, escapeHtml, formatValue, MISSING } from './format.ts';
export { loadSummary, parseSummary } from './load.ts';
export { type RenderOptions, type ReportFiles, renderReport, reportCommand } from './render.ts';
export { renderLeaderboardText, renderMarkdown } from './text.ts';
