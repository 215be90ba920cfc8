/**
 * `lethe task`: the task format, checkable from the command line.
 *   lethe task schema [KIND]      JSON Schema (draft 2020-12) of a task file, or of one data line
 *                                 of KIND (qa, text, verbatim, mcq, pii, tokens), generated from the
 *                                 zod schemas lethe validates with (so it cannot drift from them)
 *   lethe task show SPEC [--json] counts per split part and eval set, and the task's warnings
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { ITEM_KINDS, type ItemKind, LINE_SCHEMAS } from '../../data/items.ts';
import { resolveTask, TASK_SPEC_HELP } from '../../data/resolve-task.ts';
import { type Task, TaskFileSchema, taskCounts, taskWarnings } from '../../data/task.ts';
import { ConfigError } from '../../errors.ts';

/** The JSON Schema of a task file, or of one line of a data file of `kind`. */
export function taskJsonSchema(kind?: string): Record<string, unknown> {
  if (kind !== undefined && !ITEM_KINDS.includes(kind as ItemKind)) {
    throw new ConfigError(`unknown item kind "${kind}"`, {
      expected: `no argument (the task file) or one of ${ITEM_KINDS.join(', ')}`,
    });
  }
  const schema = kind === undefined ? TaskFileSchema : LINE_SCHEMAS[kind as ItemKind];
  // Input side: what a file may hold (aliases, letter answers), before lethe's transforms.
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  out.title = kind === undefined ? 'lethe task file (task.json)' : `lethe ${kind} data line`;
  return out;
}

/** What `lethe task show --json` prints. */
export function taskSummary(task: Task): {
  name: string;
  counts: Record<string, number>;
  warnings: string[];
} {
  return { name: task.name, counts: taskCounts(task), warnings: taskWarnings(task) };
}

function summaryText(task: Task): string {
  const s = taskSummary(task);
  const lines = [`task ${s.name} (${task.format})${task.description ? `: ${task.description}` : ''}`];
  if (task.prompt) lines.push(`  QA prompt template: ${JSON.stringify(task.prompt.qa)}`);
  const width = Math.max(...Object.keys(s.counts).map((k) => k.length));
  for (const [k, n] of Object.entries(s.counts)) if (n > 0) lines.push(`  ${k.padEnd(width)}  ${n}`);
  const empty = Object.entries(s.counts).filter(([, n]) => n === 0);
  if (empty.length > 0) lines.push(`  (empty: ${empty.map(([k]) => k).join(', ')})`);
  for (const w of s.warnings) lines.push(`warning: ${w}`);
  return `${lines.join('\n')}\n`;
}

export function registerTask(program: Command): void {
  const cmd = program.command('task').description('inspect tasks and the task file format');
  cmd
    .command('schema [kind]')
    .description(`print the JSON Schema of a task file, or of a data line of KIND (${ITEM_KINDS.join(', ')})`)
    .action((kind: string | undefined) => {
      process.stdout.write(`${JSON.stringify(taskJsonSchema(kind), null, 2)}\n`);
    });
  cmd
    .command('show <spec>')
    .description(`load a task and print its counts and warnings; SPEC: ${TASK_SPEC_HELP}`)
    .option('--json', 'print one JSON object {name, counts, warnings}')
    .option('--data-dir <dir>', 'folder with staged benchmark data (default: $LETHE_DATA_DIR)')
    .action(async (spec: string, f: { json?: boolean; dataDir?: string }) => {
      const task = await resolveTask(spec, f.dataDir);
      process.stdout.write(f.json ? `${JSON.stringify(taskSummary(task))}\n` : summaryText(task));
    });
}
