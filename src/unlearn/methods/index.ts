/** Registers every built-in unlearning method (import this once before using the registry). */
import { registerMethod } from '../registry.ts';
import { ga, gaKl, gradDiff, randomLabel } from './gradient-ascent.ts';
import { influence } from './influence.ts';
import { guardrail, icul } from './input.ts';
import { npo, npoKl, npoRt, simnpo } from './npo.ts';
import { dpo, idk } from './preference.ts';
import { rmu } from './rmu.ts';
import { taskVector } from './task-vector.ts';
import { whp } from './whp.ts';

for (const m of [
  ga,
  gradDiff,
  gaKl,
  randomLabel,
  npo,
  npoRt,
  npoKl,
  simnpo,
  idk,
  dpo,
  rmu,
  taskVector,
  whp,
  influence,
  icul,
  guardrail,
])
  registerMethod(m as never);
