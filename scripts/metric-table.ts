// Prints README's metric table from the metric registry, or with --write puts it into README.md
// between its markers. Run: node --import tsx scripts/metric-table.ts [--write]
import { readFileSync, writeFileSync } from 'node:fs';
import { metricTableMarkdown, withMetricTable } from '../src/eval/metric-table.ts';

const readme = new URL('../README.md', import.meta.url);
if (process.argv.includes('--write')) {
  writeFileSync(readme, withMetricTable(readFileSync(readme, 'utf8')));
} else {
  process.stdout.write(`${metricTableMarkdown()}\n`);
}
