/** `lethe generate`: continue prompts with a model (greedy by default, or sampled). */
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError } from '../../errors.ts';
import { readJsonl } from '../../io/jsonl.ts';
import { generate } from '../../text/generate.ts';
import { loadPretrained } from '../../text/pretrained.ts';
import { collect, intOption, numberOption } from '../options.ts';

interface GenerateFlags {
  model: string;
  prompt?: string[];
  promptsFile?: string;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  stop?: string[];
  json?: boolean;
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('generate continuations of prompts')
    .requiredOption('--model <dir>', 'model folder with tokenizer.json')
    .option('--prompt <text>', 'a prompt (repeatable: prompts run as one batch)', collect)
    .option('--prompts-file <file>', 'JSONL file of {"prompt"} lines')
    .option('--max-new-tokens <n>', 'tokens to generate per prompt', intOption('--max-new-tokens', 0), 64)
    .option('--temperature <t>', '0 = greedy', numberOption('--temperature', 0), 0)
    .option('--top-k <k>', 'sample from the k most likely tokens (0 = off)', intOption('--top-k', 0), 0)
    .option('--top-p <p>', 'nucleus sampling threshold (1 = off)', numberOption('--top-p', 0), 1)
    .option('--seed <n>', 'sampling seed', intOption('--seed', 0), 0)
    .option('--stop <text>', 'stop string (repeatable)', collect)
    .option('--json', 'print one JSON object per prompt')
    .action(async (opts: GenerateFlags) => {
      const prompts = [...(opts.prompt ?? [])];
      if (opts.promptsFile) {
        const lines = await readJsonl(opts.promptsFile, { schema: z.strictObject({ prompt: z.string() }) });
        prompts.push(...lines.map((l) => l.prompt));
      }
      if (prompts.length === 0)
        throw new ConfigError('no prompt given', { hint: 'pass --prompt TEXT or --prompts-file FILE' });
      const { model, tokenizer } = await loadPretrained(opts.model);
      const ids = prompts.map((p) => tokenizer.encode(p, { addSpecialTokens: true }));
      const eos = tokenizer.eosId;
      const out = generate(model, ids, {
        maxNewTokens: opts.maxNewTokens,
        temperature: opts.temperature,
        topK: opts.topK,
        topP: opts.topP,
        seed: opts.seed,
        eosTokenIds: eos === undefined ? [] : [eos],
        stopStrings: opts.stop,
        decode: (t) => tokenizer.decode(t, { skipSpecialTokens: true }),
      });
      prompts.forEach((prompt, i) => {
        const text = out.texts![i];
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify({ prompt, completion: text, tokens: out.tokens[i].length, finish: out.finishReasons[i] })}\n`,
          );
        } else process.stdout.write(`${prompt}${text}\n${prompts.length > 1 ? '---\n' : ''}`);
      });
    });
}
