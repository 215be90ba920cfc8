/**
 * SVG -> PNG for plots/<name>.png, with @resvg/resvg-js (a Rust renderer shipped as prebuilt
 * binaries inside npm packages: no browser, no canvas, no system libraries). The module is loaded
 * lazily and only once: where no binary exists for the platform, PNG export is skipped with a
 * message and the HTML and Markdown outputs are unaffected.
 */
import { createRequire } from 'node:module';

type ResvgModule = typeof import('@resvg/resvg-js');

/** A loaded renderer, or why there is none. */
export type PngRenderer = { ok: true; render: (svg: string) => Uint8Array } | { ok: false; reason: string };

let cached: PngRenderer | undefined;

/**
 * Renders at 2× so the PNGs stay sharp on high-density screens and in slides. Text uses the
 * system's fonts; DejaVu Sans (Debian's default) is preferred for the generic families so PNG
 * text matches the widths Vega estimated when it laid the chart out.
 */
function makeRender(mod: ResvgModule): (svg: string) => Uint8Array {
  return (svg) => {
    const resvg = new mod.Resvg(svg, {
      fitTo: { mode: 'zoom', value: 2 },
      background: 'white',
      font: {
        loadSystemFonts: true,
        defaultFontFamily: 'DejaVu Sans',
        sansSerifFamily: 'DejaVu Sans',
      },
    });
    return resvg.render().asPng();
  };
}

export function pngRenderer(): PngRenderer {
  if (cached) return cached;
  try {
    // createRequire: resvg-js is CommonJS and resolves its platform binary with require().
    const mod = createRequire(import.meta.url)('@resvg/resvg-js') as ResvgModule;
    const render = makeRender(mod);
    // A tiny render proves the native binary really works, not merely that the JS wrapper loaded.
    render('<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"><rect width="2" height="2"/></svg>');
    cached = { ok: true, render };
  } catch (err) {
    const first = String((err as Error)?.message ?? err).split('\n')[0];
    cached = {
      ok: false,
      reason: `PNG export skipped: @resvg/resvg-js has no working binary for ${process.platform}-${process.arch} (${first}); the HTML report has every plot as SVG`,
    };
  }
  return cached;
}
