/**
 * Prompt formats: the default is lethe's historic "Question: …\nAnswer:" + " answer"; a task's QA
 * template replaces it; a model folder's chat template (tokenizer_config.json, Jinja) is rendered
 * with @huggingface/jinja — ChatML (Qwen) and Llama-2 style, string and named-list forms, BOS left
 * to the tokenizer, the trailing EOS left to the trainer — and can be turned off. Training
 * (qaExample, `lethe train` lines) and scoring (`lethe score` lines) then ask identically.
 * Exact string and id comparisons.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { toRequest } from '../cli/commands/score.ts';
import { ConfigError } from '../errors.ts';
import { openTrainingData } from '../train/text-data.ts';
import { qaAnswer, qaExample, qaPrompt } from './format.ts';
import {
  applyPromptFormat,
  DEFAULT_PROMPT_FORMAT,
  formatQaAnswer,
  formatQaPrompt,
  keepChatTemplate,
  readChatTemplate,
  usePromptFormat,
} from './template.ts';
import { trainByteLevelBpe } from './tokenizer/train-bpe.ts';

afterEach(() => usePromptFormat(DEFAULT_PROMPT_FORMAT));

const CHATML =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const LLAMA2 =
  "{% for message in messages %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + message['content'] + ' [/INST]' }}{% else %}{{ ' ' + message['content'] + ' ' + eos_token }}{% endif %}{% endfor %}";

function modelDir(config: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'lethe-template-'));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  return dir;
}

test('default format: the historic QA prompt; a task template replaces it', () => {
  assert.equal(qaPrompt('Who?'), 'Question: Who?\nAnswer:');
  assert.equal(qaAnswer(' Ada. '), ' Ada.');
  const f = applyPromptFormat({ qaTemplate: 'Q: {question}\nA:' });
  assert.equal(qaPrompt('Who?'), 'Q: Who?\nA:');
  assert.equal(formatQaPrompt('Who?', f), 'Q: Who?\nA:');
  assert.equal(qaAnswer('Ada.'), ' Ada.');
});

test('ChatML chat template: user turn + generation prompt; the answer without its end token', () => {
  const dir = modelDir({ chat_template: CHATML, eos_token: '<|im_end|>' });
  applyPromptFormat({ qaTemplate: 'ignored {question}', modelDir: dir });
  assert.equal(qaPrompt('Who?'), '<|im_start|>user\nWho?<|im_end|>\n<|im_start|>assistant\n');
  assert.equal(qaAnswer('Ada.'), 'Ada.');
  // Turned off: the task's QA template again.
  applyPromptFormat({ modelDir: dir, chatTemplate: false });
  assert.equal(qaPrompt('Who?'), 'Question: Who?\nAnswer:');
});

test('Llama-2 chat template (list form, eos as an object): BOS rendered empty, EOS stripped', () => {
  const dir = modelDir({
    chat_template: [
      { name: 'tool_use', template: 'unused' },
      { name: 'default', template: LLAMA2 },
    ],
    eos_token: { content: '</s>', lstrip: false },
  });
  const chat = readChatTemplate(dir);
  assert.ok(chat);
  const f = { qa: 'x {question}', chat };
  assert.equal(formatQaPrompt('Who?', f), '[INST] Who? [/INST]');
  assert.equal(formatQaAnswer('Ada.', f), ' Ada.');
  assert.equal(readChatTemplate(modelDir({ eos_token: '</s>' })), null);
  assert.throws(() => readChatTemplate(modelDir({ chat_template: '{% for %}' })), ConfigError);
});

test('training, train-file lines and score lines ask through the same active format', async () => {
  const tok = trainByteLevelBpe(['<|im_start|>user Who? <|im_end|> assistant Ada.'], {
    vocabSize: 300,
    specialTokens: ['<|endoftext|>'],
  });
  applyPromptFormat({ modelDir: modelDir({ chat_template: CHATML, eos_token: '<|im_end|>' }) });
  const ex = qaExample(tok, 'Who?', 'Ada.');
  const prompt = tok.encode('<|im_start|>user\nWho?<|im_end|>\n<|im_start|>assistant\n', {
    addSpecialTokens: true,
  });
  assert.deepEqual(ex.ids.slice(0, prompt.length), prompt);
  assert.equal(ex.start, prompt.length);
  const dir = mkdtempSync(join(tmpdir(), 'lethe-template-'));
  writeFileSync(join(dir, 'qa.jsonl'), `${JSON.stringify({ question: 'Who?', answer: 'Ada.' })}\n`);
  const store = await (await openTrainingData(join(dir, 'qa.jsonl'))).tokenize(tok, 256, join(dir, 'tokens'));
  const fromFile = store.get(0);
  store.close();
  assert.deepEqual(fromFile, ex);
  const req = toRequest({ question: 'Who?', answer: 'Ada.' }, tok, 'x');
  assert.deepEqual(req.ids, qaExample(tok, 'Who?', 'Ada.', false).ids);
});

test('keepChatTemplate: a folder written from a chat model asks the same way; an existing template stays', async () => {
  const f = applyPromptFormat({ modelDir: modelDir({ chat_template: CHATML, eos_token: '<|im_end|>' }) });
  const out = mkdtempSync(join(tmpdir(), 'lethe-template-'));
  await keepChatTemplate(out);
  const kept = readChatTemplate(out);
  assert.ok(kept);
  const g = { qa: f.qa, chat: kept };
  assert.equal(formatQaPrompt('Who?', g), formatQaPrompt('Who?', f));
  assert.equal(formatQaAnswer('Ada.', g), 'Ada.');
  const own = modelDir({ chat_template: LLAMA2, eos_token: '</s>', bos_token: '<s>' });
  await keepChatTemplate(own);
  assert.equal(readChatTemplate(own)?.source, LLAMA2);
  usePromptFormat(DEFAULT_PROMPT_FORMAT);
  const none = mkdtempSync(join(tmpdir(), 'lethe-template-'));
  await keepChatTemplate(none);
  assert.equal(readChatTemplate(none), null);
});
