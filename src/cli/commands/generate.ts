/**
 * `lethe generate`: continue prompts with a model (greedy by default, or sampled).
 * Without --task, prompts are used exactly as typed. With --task SPEC, each --prompt is a question
 * asked the way the task is trained and evaluated (its QA template, and the model's chat template
 * unless --no-chat-template; src/text/template.ts); without --prompt the task's first --limit
 * forget questions are asked and their reference answers shown. The formatted prompt is printed.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { resolveTask, TASK_SPEC_HELP } from '../../data/resolve-task.ts';
import { ConfigError } from '../../errors.ts';
import { readJsonl } from '../../io/jsonl.ts';
import { generate } from '../../text/generate.ts';
import { loadPretrained } from '../../text/pretrained.ts';
import { applyPromptFormat, formatQaPrompt } from '../../text/template.ts';
import { collect, intOption, numberOption } from '../options.ts';

interface GenerateFlags {
  model: string;
  prompt?: string[];
  promptsFile?: string;
  task?: string;
  dataDir?: string;
  limit: number;
  chatTemplate: boolean;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  stop?: string[];
  json?: boolean;
}

interface Ask {
  /** What the user gave (a raw prompt, or a question under --task). */
  input: string;
  /** The text the model continues. */
  prompt: string;
  /** The task's reference answer, when the question came from the task. */
  answer?: string;
}

async function asks(opts: GenerateFlags, model: string): Promise<Ask[]> {
  const given = [...(opts.prompt ?? [])];
  if (opts.promptsFile) {
    const lines = await readJsonl(opts.promptsFile, { schema: z.strictObject({ prompt: z.string() }) });
    given.push(...lines.map((l) => l.prompt));
  }
  if (!opts.task) {
    if (given.length === 0)
      throw new ConfigError('no prompt given', {
        hint: 'pass --prompt TEXT, --prompts-file FILE or --task SPEC',
      });
    return given.map((p) => ({ input: p, prompt: p }));
  }
  const task = await resolveTask(opts.task, opts.dataDir);
  const format = applyPromptFormat({
    qaTemplate: task.prompt?.qa,
    modelDir: model,
    chatTemplate: opts.chatTemplate,
  });
  if (given.length > 0) return given.map((q) => ({ input: q, prompt: formatQaPrompt(q, format) }));
  const qa = task.splits.forget.qa.slice(0, opts.limit);
  if (qa.length === 0) {
    throw new ConfigError(`task ${task.name} has no forget questions to ask`, {
      hint: 'pass --prompt QUESTION (asked through the task format)',
    });
  }
  return qa.map((q) => ({ input: q.question, prompt: formatQaPrompt(q.question, format), answer: q.answer }));
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('generate continuations of prompts (or answers to a task’s questions, with --task)')
    .requiredOption('--model <dir>', 'model folder with tokenizer.json')
    .option('--prompt <text>', 'a prompt, or a question with --task (repeatable: one batch)', collect)
    .option('--prompts-file <file>', 'JSONL file of {"prompt"} lines')
    .option('--task <spec>', `ask questions in this task's prompt format: ${TASK_SPEC_HELP}`)
    .option('--data-dir <dir>', 'folder with staged benchmark data (default: $LETHE_DATA_DIR)')
    .option('--limit <n>', 'with --task and no --prompt: forget questions to ask', intOption('--limit', 1), 3)
    .option('--no-chat-template', "with --task: ignore the model's chat template (tokenizer_config.json)")
    .option('--max-new-tokens <n>', 'tokens to generate per prompt', intOption('--max-new-tokens', 0), 64)
    .option('--temperature <t>', '0 = greedy', numberOption('--temperature', 0), 0)
    .option('--top-k <k>', 'sample from the k most likely tokens (0 = off)', intOption('--top-k', 0), 0)
    .option('--top-p <p>', 'nucleus sampling threshold (1 = off)', numberOption('--top-p', 0), 1)
    .option('--seed <n>', 'sampling seed', intOption('--seed', 0), 0)
    .option('--stop <text>', 'stop string (repeatable)', collect)
    .option('--json', 'print one JSON object per prompt')
    .action(async (opts: GenerateFlags) => {
      const items = await asks(opts, opts.model);
      const { model, tokenizer } = await loadPretrained(opts.model);
      const ids = items.map((a) => tokenizer.encode(a.prompt, { addSpecialTokens: true }));
      const eos = tokenizer.eosId;
      // A task's answers end at the next question; stop there unless the user chose stops.
      const stop = opts.stop ?? (opts.task ? ['\nQuestion:'] : undefined);
      const out = generate(model, ids, {
        maxNewTokens: opts.maxNewTokens,
        temperature: opts.temperature,
        topK: opts.topK,
        topP: opts.topP,
        seed: opts.seed,
        eosTokenIds: eos === undefined ? [] : [eos],
        stopStrings: stop,
        decode: (t) => tokenizer.decode(t, { skipSpecialTokens: true }),
      });
      items.forEach((a, i) => {
        const text = out.texts![i];
        if (opts.json) {
          const rec: Record<string, unknown> = { prompt: a.prompt };
          if (opts.task) rec.question = a.input;
          rec.completion = text;
          if (a.answer !== undefined) rec.answer = a.answer;
          rec.tokens = out.tokens[i].length;
          rec.finish = out.finishReasons[i];
          process.stdout.write(`${JSON.stringify(rec)}\n`);
        } else {
          const ref =
            a.answer === undefined ? '' : `\n[reference:${a.answer.startsWith(' ') ? '' : ' '}${a.answer}]`;
          process.stdout.write(`${a.prompt}${text}${ref}\n${items.length > 1 ? '---\n' : ''}`);
        }
      });
    });
}
