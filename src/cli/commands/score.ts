/**
 * `lethe score --model DIR --data FILE.jsonl`: the NLL of each line under a model. Lines are
 * {"text"} (all tokens but the first scored), {"prompt","answer"} (answer tokens scored),
 * {"question","answer"} (asked through the QA prompt format, answer tokens scored, as evaluation
 * scores task QA) or {"input_ids":[...]} (all but the first). Prints one JSON object per line: {nll, tokens}.
 */
import type { Command } from 'commander';
import { type ExampleLine, exampleLineSchema } from '../../data/example-lines.ts';
import { DataError } from '../../errors.ts';
import { readJsonl } from '../../io/jsonl.ts';
import { qaAnswer, qaPrompt } from '../../text/format.ts';
import { loadPretrained } from '../../text/pretrained.ts';
import { type ScoreRequest, scoreSequences } from '../../text/score.ts';
import { applyPromptFormat } from '../../text/template.ts';
import type { Tokenizer } from '../../text/tokenizer/tokenizer.ts';
import { intOption } from '../options.ts';

const LineSchema = exampleLineSchema(['text', 'prompt', 'question', 'input_ids']);
export type ScoreLine = ExampleLine;

/** Tokenise a score line into a request (BOS added when the tokenizer defines one). */
export function toRequest(line: ScoreLine, tokenizer: Tokenizer, where: string): ScoreRequest {
  let req: ScoreRequest;
  if ('input_ids' in line) req = { ids: line.input_ids, start: 1 };
  else if ('text' in line) req = { ids: tokenizer.encode(line.text, { addSpecialTokens: true }), start: 1 };
  else {
    const [p, a] =
      'question' in line ? [qaPrompt(line.question), qaAnswer(line.answer)] : [line.prompt, line.answer];
    const prompt = tokenizer.encode(p, { addSpecialTokens: true });
    const answer = tokenizer.encode(a, { addSpecialTokens: false });
    req = { ids: [...prompt, ...answer], start: Math.max(1, prompt.length) };
  }
  if (req.ids.length < 2) {
    throw new DataError('nothing to score: the line has fewer than 2 tokens', { where });
  }
  return req;
}

export function registerScore(program: Command): void {
  program
    .command('score')
    .description('score each line of a JSONL file under a model (summed NLL of the scored tokens)')
    .requiredOption('--model <dir>', 'model folder with tokenizer.json')
    .requiredOption(
      '--data <file>',
      'JSONL: {"text"}, {"prompt","answer"}, {"question","answer"} or {"input_ids":[...]} per line',
    )
    .option('--batch-size <n>', 'sequences per forward pass', intOption('--batch-size', 1), 8)
    .option('--json', 'one JSON object per line on stdout (the default and only format)')
    .option('--no-chat-template', "ask {question} lines without the model's chat template")
    .action(async (opts: { model: string; data: string; batchSize: number; chatTemplate: boolean }) => {
      applyPromptFormat({ modelDir: opts.model, chatTemplate: opts.chatTemplate });
      const { model, tokenizer } = await loadPretrained(opts.model);
      const lines = await readJsonl(opts.data, { schema: LineSchema });
      const requests = lines.map((line, i) => toRequest(line, tokenizer, `${opts.data}: line ${i + 1}`));
      requests.forEach((r, i) => {
        const bad = r.ids.find((t) => t >= model.vocabSize);
        if (bad !== undefined) {
          throw new DataError(`token id ${bad} is outside the model's vocabulary [0, ${model.vocabSize})`, {
            where: `${opts.data}: line ${i + 1}`,
          });
        }
      });
      const results = scoreSequences(model, requests, {
        batchSize: opts.batchSize,
        onProgress: (done, total) => {
          if (total > 64) process.stderr.write(`scored ${done}/${total}\n`);
        },
      });
      for (const r of results) process.stdout.write(`${JSON.stringify({ nll: r.nll, tokens: r.tokens })}\n`);
    });
}
