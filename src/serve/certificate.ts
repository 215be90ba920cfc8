/**
 * Forget certificates: what a requester gets once their request is verified — request id,
 * subject, the items' content hashes (never the items), the model versions before and after with
 * their folder hashes, method and settings, every verification check with its threshold, and the
 * time — signed with the service's HMAC-SHA256 key over the canonical JSON of everything else.
 *
 * `checkCertificate` recomputes the signature and, to name what was changed, compares the
 * certificate field by field with the copy the ledger keeps.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../data/hash.ts';
import type { RequestItem } from './ledger.ts';
import type { Check } from './verify.ts';

export const CERT_FORMAT = 'lethe-forget-certificate/1';

export interface Certificate {
  format: typeof CERT_FORMAT;
  requestId: string;
  subject: string;
  kind: string;
  itemHashes: string[];
  modelBefore: { version: number; hash: string };
  modelAfter: { version: number; hash: string };
  method: string;
  settings: Record<string, unknown>;
  verification: Check[];
  issuedAt: string;
  signature: { alg: 'HMAC-SHA256'; keyId: string; value: string };
}

/** sha256 of one item's canonical JSON (what the ledger keeps once the item itself is erased). */
export const itemHash = (item: RequestItem): string =>
  createHash('sha256')
    .update(`lethe-item-v1\n${canonicalJson(item)}`)
    .digest('hex');

/** A short public id of the key (so a verifier can tell which key signed), not the key. */
export const keyId = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 16);

function mac(key: Buffer, body: Omit<Certificate, 'signature'>): string {
  return createHmac('sha256', key).update(canonicalJson(body)).digest('hex');
}

export function signCertificate(key: Buffer, body: Omit<Certificate, 'signature' | 'format'>): Certificate {
  const full = { format: CERT_FORMAT, ...body } as Omit<Certificate, 'signature'>;
  return { ...full, signature: { alg: 'HMAC-SHA256', keyId: keyId(key), value: mac(key, full) } };
}

/** Paths (a.b.0.c) where two JSON values differ; [] when equal. */
export function diffPaths(a: unknown, b: unknown, path = ''): string[] {
  if (canonicalJson(a) === canonicalJson(b)) return [];
  const isObj = (x: unknown) => x !== null && typeof x === 'object';
  if (!isObj(a) || !isObj(b) || Array.isArray(a) !== Array.isArray(b)) return [path || '(root)'];
  const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
  const out: string[] = [];
  for (const k of [...keys].sort()) {
    out.push(
      ...diffPaths(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        path ? `${path}.${k}` : k,
      ),
    );
  }
  return out;
}

export interface CertificateCheck {
  ok: boolean;
  /** Fields that differ from the ledger's copy (or that make the signature fail). */
  changed: string[];
  message: string;
}

/**
 * Check a certificate: the signature must match the key and the content must equal the ledger's
 * copy. `stored` is the ledger's certificate for the same request id (null if none).
 */
export function checkCertificate(key: Buffer, cert: unknown, stored: unknown | null): CertificateCheck {
  if (cert === null || typeof cert !== 'object' || Array.isArray(cert)) {
    return { ok: false, changed: ['(root)'], message: 'not a certificate (expected a JSON object)' };
  }
  const c = cert as Record<string, unknown>;
  const { signature, ...body } = c;
  const sig = signature as Certificate['signature'] | undefined;
  const expected = mac(key, body as Omit<Certificate, 'signature'>);
  const sigOk =
    typeof sig?.value === 'string' &&
    sig.value.length === expected.length &&
    timingSafeEqual(Buffer.from(sig.value), Buffer.from(expected));
  const changed = stored === null ? [] : diffPaths(stored, cert);
  if (stored === null) {
    return {
      ok: false,
      changed: ['requestId'],
      message: `the ledger has no certificate for requestId ${JSON.stringify(c.requestId)}${sigOk ? '' : ' and the signature does not match'}`,
    };
  }
  if (sigOk && changed.length === 0)
    return {
      ok: true,
      changed: [],
      message: 'certificate intact: signature valid and identical to the ledger',
    };
  const fields = changed.length > 0 ? changed : ['signature'];
  return {
    ok: false,
    changed: fields,
    message: `certificate changed: ${fields.join(', ')}${sigOk ? '' : ' (signature does not match)'}`,
  };
}

const esc = (s: unknown) =>
  String(s).replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!,
  );

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(4));

/** The certificate as a small self-contained HTML page. */
export function certificateHtml(cert: Certificate): string {
  const rows = cert.verification
    .map(
      (c) =>
        `<tr><td>${esc(c.name)}</td><td>${fmt(c.value)}</td><td>${esc(c.comparison)} ${fmt(c.threshold)}</td><td>${c.before === undefined ? '' : fmt(c.before)}</td><td class="${c.passed ? 'pass' : 'fail'}">${c.passed ? 'pass' : 'fail'}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Forget certificate ${esc(cert.requestId)}</title>
<style>body{font:15px system-ui,sans-serif;margin:2em;max-width:60em}td,th{padding:.3em .8em;text-align:left;border-bottom:1px solid #ddd}
code{font-size:12px;word-break:break-all}.pass{color:#080}.fail{color:#b00}</style></head>
<body><h1>Forget certificate</h1>
<table id="facts">
<tr><th>Request</th><td>${esc(cert.requestId)}</td></tr>
<tr><th>Subject</th><td>${esc(cert.subject)}</td></tr>
<tr><th>Kind</th><td>${esc(cert.kind)}</td></tr>
<tr><th>Items (sha256)</th><td>${cert.itemHashes.map((h) => `<code>${esc(h)}</code>`).join('<br>')}</td></tr>
<tr><th>Model before</th><td>v${cert.modelBefore.version} <code>${esc(cert.modelBefore.hash)}</code></td></tr>
<tr><th>Model after</th><td>v${cert.modelAfter.version} <code>${esc(cert.modelAfter.hash)}</code></td></tr>
<tr><th>Method</th><td>${esc(cert.method)} <code>${esc(JSON.stringify(cert.settings))}</code></td></tr>
<tr><th>Issued</th><td>${esc(cert.issuedAt)}</td></tr>
<tr><th>Signature</th><td>${esc(cert.signature.alg)} key ${esc(cert.signature.keyId)} <code>${esc(cert.signature.value)}</code></td></tr>
</table>
<h2>Verification</h2>
<table id="checks"><tr><th>check</th><th>value</th><th>threshold</th><th>before</th><th></th></tr>
${rows}
</table></body></html>
`;
}

export { esc as escapeHtml };
