/** Public API of src/serve (the forget-request service). Re-exports only. */
export { type BatchJob, batchTask, runBatchJob } from './batch-job.ts';
export {
  type Certificate,
  certificateHtml,
  checkCertificate,
  itemHash,
  signCertificate,
} from './certificate.ts';
export {
  Ledger,
  type RequestItem,
  type RequestRow,
  ROLES,
  type Role,
  SCHEMA_VERSION,
  type VersionRow,
} from './ledger.ts';
export { folderHash, ModelStore, storeDirOf } from './model-store.ts';
export { loadPolicy, type Policy, PolicySchema } from './policy.ts';
export { buildServer, hashToken, newToken } from './server.ts';
export { type Service, type ServiceOptions, startService } from './service.ts';
export { type Check, type Verdict, verifyCandidate } from './verify.ts';
