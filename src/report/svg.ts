/**
 * Vega-Lite spec -> standalone SVG string, headless in Node: compile to Vega, run a View with the
 * 'none' renderer (no canvas, no DOM) and serialise its scenegraph. The View gets a loader that
 * refuses every URL, so rendering can never reach the network or the file system: all data is
 * inline. Warnings from Vega-Lite and Vega are collected and handed back, not printed.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

type Logger = NonNullable<vega.ViewOptions['logger']>;

/** A logger that keeps warnings and errors in `sink` (Vega's default writes to the console). */
function collectingLogger(sink: string[], prefix: string): Logger {
  let level = vega.Warn;
  const logger: Logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: unknown[]) {
      sink.push(`${prefix}: error: ${args.map(String).join(' ')}`);
      return logger;
    },
    warn(...args: unknown[]) {
      if (level >= vega.Warn) sink.push(`${prefix}: ${args.map(String).join(' ')}`);
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger;
}

/** A Vega loader that loads nothing: the report's charts carry their data inline. */
function offlineLoader(): vega.Loader {
  const refuse = (uri: string): Promise<never> =>
    Promise.reject(new Error(`report charts load no external resources (asked for ${uri})`));
  return {
    load: refuse,
    sanitize: refuse,
    http: refuse,
    file: refuse,
  };
}

/**
 * Makes the ids inside one SVG unique within a page holding several, and stable from run to run:
 * Vega numbers clip paths and gradients with a counter shared by the whole process (clip1 in the
 * first chart, clip13 in a later one, different again in the next process), so every id is
 * renamed to `<prefix>-<n>` in order of appearance, together with every reference to it.
 */
export function prefixSvgIds(svg: string, prefix: string): string {
  const ids = new Map<string, string>();
  for (const m of svg.matchAll(/\bid="([^"]+)"/g)) {
    if (!ids.has(m[1])) ids.set(m[1], `${prefix}-${ids.size + 1}`);
  }
  const rename = (id: string): string => ids.get(id) ?? id;
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${rename(id)}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${rename(id)})`)
    .replace(/href="#([^"]+)"/g, (_, id: string) => `href="#${rename(id)}"`);
}

/** Renders a Vega-Lite spec to a standalone SVG document (with its xmlns, as the PNG step needs). */
export async function renderSvg(spec: TopLevelSpec, name: string, warnings: string[] = []): Promise<string> {
  const logger = collectingLogger(warnings, name);
  const compiled = compile(spec, { logger }).spec;
  const view = new vega.View(vega.parse(compiled), {
    renderer: 'none',
    loader: offlineLoader(),
    logger,
  });
  try {
    const svg = await view.toSVG();
    return prefixSvgIds(svg, name);
  } finally {
    view.finalize();
  }
}

/**
 * The same SVG for inlining in HTML: the namespace declarations are dropped (the HTML parser puts
 * <svg> in the SVG namespace itself) so the page holds no URL-looking strings at all, and the
 * chart gets an accessible name.
 */
export function inlineSvg(svg: string, label: string, id: string): string {
  const esc = label.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return svg
    .replace(/\s+xmlns(:xlink)?="[^"]*"/g, '')
    .replace(/^<svg\b/, `<svg id="${id}" role="img" aria-label="${esc}"`);
}
