/** Reading lethe's own JSON config files: zod-validated, unknown keys rejected, errors name the file and key. */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';

/** Explain a zod failure as a ConfigError naming the file and the key path. */
export function configIssue(error: z.ZodError, file: string): ConfigError {
  const issue = error.issues[0];
  const path = issue.path.map(String).join('.') || '(root)';
  const keys = (issue as { keys?: string[] }).keys;
  return new ConfigError(
    keys ? `unknown key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}` : `invalid value for ${path}`,
    {
      where: `${file}: ${path}`,
      found: issue.message,
    },
  );
}

export function parseConfig<T>(schema: z.ZodType<T>, value: unknown, file: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw configIssue(parsed.error, file);
  return parsed.data;
}

export function readConfigFile<T>(schema: z.ZodType<T>, file: string): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('cannot read config file', {
      where: file,
      found: (e as NodeJS.ErrnoException).code ?? String(e),
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError('config file is not valid JSON', { where: file, found: (e as Error).message });
  }
  return parseConfig(schema, value, file);
}
