export type { EmbeddingOptions, LayerNormOptions, LinearOptions, RMSNormOptions } from './layers.ts';
export { DEFAULT_INIT_STD, Embedding, LayerNorm, Linear, RMSNorm } from './layers.ts';
export type { Adaptable, LoraHandle, LoraOptions } from './lora.ts';
export { applyLora, LoraAdapter, mergeLora } from './lora.ts';
export type { LoadStateOptions, LoadStateResult } from './module.ts';
export { Module, ModuleList } from './module.ts';
export type { AdamWOptions, AdamWParamState, AdamWState } from './optim/adamw.ts';
export { AdamW } from './optim/adamw.ts';
export { clipGradNorm } from './optim/clip.ts';
export type { ParamGroup, ResolvedGroup } from './optim/optimizer.ts';
export { decayGroups, Optimizer } from './optim/optimizer.ts';
export type {
  CosineOptions,
  DecayOptions,
  LrSchedule,
  ScheduleSpec,
  WarmupOptions,
} from './optim/schedule.ts';
export { constantSchedule, cosineSchedule, linearSchedule, makeSchedule } from './optim/schedule.ts';
export type { SGDOptions, SGDParamState, SGDState } from './optim/sgd.ts';
export { SGD } from './optim/sgd.ts';
export type { SophiaOptions, SophiaState } from './optim/sophia.ts';
export { Sophia } from './optim/sophia.ts';
