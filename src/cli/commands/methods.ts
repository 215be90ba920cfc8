/** `lethe methods`: every unlearning method with its summary, paper and arguments. */
import type { Command } from 'commander';
import type { z } from 'zod';
import { allMethods } from '../../unlearn/registry.ts';
import { TrainingArgs } from '../../unlearn/runner.ts';

function describe(schema: z.ZodObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(schema.shape)) {
    const def = (v as { def?: { defaultValue?: unknown } }).def?.defaultValue;
    out[k] = def === undefined ? 'optional' : `default ${JSON.stringify(def)}`;
  }
  return out;
}

export function registerMethods(program: Command): void {
  program
    .command('methods')
    .description('list the unlearning methods with their arguments')
    .option('--json', 'print JSON')
    .action((f: { json?: boolean }) => {
      const list = allMethods().map((m) => ({
        name: m.name,
        kind: m.kind,
        summary: m.summary,
        paper: m.paper,
        args: describe(m.args),
      }));
      if (f.json) {
        process.stdout.write(`${JSON.stringify({ methods: list, trainingArgs: describe(TrainingArgs) })}\n`);
        return;
      }
      for (const m of list) {
        process.stdout.write(`${m.name} (${m.kind}) — ${m.summary}\n  paper: ${m.paper}\n`);
        const args = Object.entries(m.args);
        if (args.length) process.stdout.write(`  args: ${args.map(([k, d]) => `${k} (${d})`).join(', ')}\n`);
      }
      const shared = Object.entries(describe(TrainingArgs)).map(([k, d]) => `${k} (${d})`);
      process.stdout.write(`\nevery gradient method also takes: ${shared.join(', ')}\n`);
    });
}
