/**
 * The ledger page (GET /): requests, model versions with their lineage, and recent batches, as one
 * server-rendered HTML page with no script and no outside resource. Everything shown is escaped.
 */
import { escapeHtml as esc } from './certificate.ts';
import type { BatchRow, RequestRow, Role, VersionRow } from './ledger.ts';

export interface PageData {
  role: Role;
  current: number | null;
  requests: RequestRow[];
  versions: VersionRow[];
  batches: BatchRow[];
}

export function ledgerPage(d: PageData): string {
  const reqRows = d.requests
    .map(
      (
        r,
      ) => `<tr data-request="${esc(r.id)}"><td><code>${esc(r.id)}</code></td><td>${esc(r.subject)}</td><td>${esc(r.kind)}</td>
<td class="status ${esc(r.status)}">${esc(r.status)}</td><td>${r.itemHashes.length}</td><td>${r.modelVersion === null ? '' : `v${r.modelVersion}`}</td>
<td>${r.certificate === null ? esc(r.reason ?? '') : `<a href="/v1/requests/${esc(r.id)}/certificate">certificate</a>`}</td><td>${esc(r.createdAt)}</td></tr>`,
    )
    .join('\n');
  const verRows = [...d.versions]
    .reverse()
    .map(
      (
        v,
      ) => `<tr data-version="${v.version}"${v.version === d.current ? ' class="current"' : ''}><td>v${v.version}${v.version === d.current ? ' (current)' : ''}${v.rolledBack ? ' (rolled back)' : ''}</td>
<td>${v.parent === null ? '—' : `v${v.parent}`}</td><td>${esc(v.method ?? 'original model')}</td><td><code>${esc(v.settings ? JSON.stringify(v.settings) : '')}</code></td>
<td>${v.requests.length}</td><td><code>${esc(v.hash.slice(0, 16))}</code></td><td>${esc(v.createdAt)}</td></tr>`,
    )
    .join('\n');
  const batchRows = d.batches
    .map(
      (b) =>
        `<tr><td>${b.id}</td><td>${esc(b.status)}</td><td>v${b.baseVersion}</td><td>${b.requests.length}</td><td>${b.attempts.length}</td><td>${esc(b.updatedAt)}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lethe ledger</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}
td,th{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:left}tr.current{background:#eef8ee}
.verified{color:#080}.needs-retraining,.failed,.rejected{color:#b00}code{font-size:12px}</style></head>
<body><h1>lethe ledger</h1>
<p>Current model: <strong id="current">v${d.current ?? '—'}</strong> · viewing as ${esc(d.role)}</p>
<h2>Requests</h2>
<table id="requests"><thead><tr><th>id</th><th>subject</th><th>kind</th><th>status</th><th>items</th><th>model</th><th>certificate</th><th>filed</th></tr></thead>
<tbody>
${reqRows}
</tbody></table>
<h2>Model versions</h2>
<table id="versions"><thead><tr><th>version</th><th>parent</th><th>method</th><th>settings</th><th>requests</th><th>hash</th><th>published</th></tr></thead>
<tbody>
${verRows}
</tbody></table>
${
  d.batches.length > 0
    ? `<h2>Batches</h2>
<table id="batches"><thead><tr><th>batch</th><th>status</th><th>from</th><th>requests</th><th>attempts</th><th>updated</th></tr></thead>
<tbody>
${batchRows}
</tbody></table>`
    : ''
}
</body></html>
`;
}
