/**
 * How a QA item becomes prompt text — the one place training, scoring, generation and
 * evaluation get it from (format.ts's qaPrompt / qaAnswer read the active format here).
 *
 * A prompt format has two parts:
 * - the task's **QA template** (`prompt.qa` in task.json; default "Question: {question}\nAnswer:"),
 *   where `{question}` stands for the question; the answer follows as " {answer}" (one space);
 * - a model's **chat template** (tokenizer_config.json `chat_template`, Jinja, rendered with
 *   @huggingface/jinja) when the model folder has one and it is not turned off: the question is
 *   the user's message and the prompt is the conversation rendered with add_generation_prompt; the
 *   answer is what the template appends for the assistant's reply (rendered once with the reply
 *   and cut after the prompt), less a trailing end-of-sequence token (the trainer adds EOS itself).
 *   bos_token renders as "" because the tokenizer adds BOS when it encodes.
 *
 * A model folder lethe writes from a chat-templated model keeps the template (keepChatTemplate),
 * so the target, the unlearned model and their evaluation ask the same way.
 *
 * The active format is process-wide: a command sets it once (`usePromptFormat`), after loading
 * its task and model, before anything is tokenised; the default is the QA template alone, which
 * gives exactly lethe's historic "Question: …\nAnswer:" prompts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { ConfigError } from '../errors.ts';
import { writeJsonAtomic } from '../io/atomic.ts';

export const DEFAULT_QA_TEMPLATE = 'Question: {question}\nAnswer:';
const QUESTION = '{question}';

export interface ChatTemplate {
  /** The Jinja source, as tokenizer_config.json holds it. */
  source: string;
  /** Where it came from (for messages and manifests). */
  from: string;
  eosToken: string | null;
  render(messages: { role: string; content: string }[], addGenerationPrompt: boolean): string;
}

export interface PromptFormat {
  qa: string;
  chat: ChatTemplate | null;
}

export const DEFAULT_PROMPT_FORMAT: PromptFormat = { qa: DEFAULT_QA_TEMPLATE, chat: null };

let active: PromptFormat = DEFAULT_PROMPT_FORMAT;

/** Make `format` the one every QA prompt uses from now on; returns the previous one. */
export function usePromptFormat(format: PromptFormat): PromptFormat {
  const before = active;
  active = format;
  return before;
}

export const activePromptFormat = (): PromptFormat => active;

/** Throw unless a QA template holds {question} (where: the file and key it came from). */
export function checkQaTemplate(template: string, where: string): string {
  if (!template.includes(QUESTION)) {
    throw new ConfigError('a QA prompt template must contain {question}', {
      where,
      expected: 'e.g. "Question: {question}\\nAnswer:"',
      found: JSON.stringify(template),
    });
  }
  return template;
}

/** The prompt text of a question under `format`. */
export function formatQaPrompt(question: string, format: PromptFormat = active): string {
  if (format.chat) return format.chat.render([{ role: 'user', content: question }], true);
  return format.qa.split(QUESTION).join(question);
}

/** The answer text that follows formatQaPrompt's prompt. */
export function formatQaAnswer(answer: string, format: PromptFormat = active): string {
  const a = answer.trim();
  if (!format.chat) return ` ${a}`;
  const user = [{ role: 'user', content: 'Q' }];
  const prompt = format.chat.render(user, true);
  let full = format.chat.render([...user, { role: 'assistant', content: a }], false);
  if (!full.startsWith(prompt)) return a;
  full = full.slice(prompt.length).replace(/\s+$/, '');
  const eos = format.chat.eosToken;
  if (eos && full.endsWith(eos)) full = full.slice(0, -eos.length).replace(/\s+$/, '');
  return full;
}

function tokenName(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string')
    return (v as { content: string }).content;
  return null;
}

/**
 * The chat template of a model folder (tokenizer_config.json `chat_template`: a string, or a list
 * of {name, template} of which "default" is used), or null when it has none.
 */
export function readChatTemplate(modelDir: string): ChatTemplate | null {
  const path = join(modelDir, 'tokenizer_config.json');
  if (!existsSync(path)) return null;
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError('tokenizer_config.json is not valid JSON', {
      where: path,
      found: (e as Error).message,
    });
  }
  let source = config.chat_template;
  if (Array.isArray(source)) {
    const named = source.find(
      (t) => t && typeof t === 'object' && (t as { name?: unknown }).name === 'default',
    );
    source = named ? (named as { template?: unknown }).template : undefined;
  }
  if (source === undefined || source === null) return null;
  if (typeof source !== 'string') {
    throw new ConfigError('chat_template must be a string (or a list of {name, template})', {
      where: `${path}, key chat_template`,
      found: typeof source,
    });
  }
  let template: Template;
  try {
    template = new Template(source);
  } catch (e) {
    throw new ConfigError('chat_template is not a template lethe can parse', {
      where: `${path}, key chat_template`,
      found: (e as Error).message,
      hint: 'pass --no-chat-template to use the task QA template instead',
    });
  }
  const eosToken = tokenName(config.eos_token);
  const vars = { bos_token: '', eos_token: eosToken ?? '', pad_token: tokenName(config.pad_token) ?? '' };
  return {
    source,
    from: `${path}, key chat_template`,
    eosToken,
    render(messages, addGenerationPrompt) {
      try {
        return template.render({ ...vars, messages, add_generation_prompt: addGenerationPrompt });
      } catch (e) {
        throw new ConfigError('rendering the chat template failed', {
          where: `${path}, key chat_template`,
          found: (e as Error).message,
          hint: 'pass --no-chat-template to use the task QA template instead',
        });
      }
    },
  };
}

/**
 * The prompt format of a command: the task's QA template, and the chat template of `modelDir`
 * unless `chatTemplate` is false. Sets it active and returns it.
 */
export function applyPromptFormat(o: {
  qaTemplate?: string;
  modelDir?: string | null;
  chatTemplate?: boolean;
}): PromptFormat {
  const chat = o.modelDir && o.chatTemplate !== false ? readChatTemplate(o.modelDir) : null;
  const format: PromptFormat = { qa: o.qaTemplate ?? DEFAULT_QA_TEMPLATE, chat };
  usePromptFormat(format);
  return format;
}

/**
 * Make sure the model folder `dir` (just written from a model asked through `format`) carries the
 * chat template, so later commands ask it the same way: tokenizer_config.json gets
 * `chat_template` (and `eos_token` when it has none) unless it already has a template.
 */
export async function keepChatTemplate(dir: string, format: PromptFormat = active): Promise<void> {
  if (!format.chat) return;
  const path = join(dir, 'tokenizer_config.json');
  let config: Record<string, unknown> = {};
  if (existsSync(path)) {
    try {
      config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError('tokenizer_config.json is not valid JSON', {
        where: path,
        found: (e as Error).message,
      });
    }
  }
  if (config.chat_template !== undefined && config.chat_template !== null) return;
  config.chat_template = format.chat.source;
  if (config.eos_token === undefined && format.chat.eosToken !== null)
    config.eos_token = format.chat.eosToken;
  await writeJsonAtomic(path, config, { indent: 2 });
}
