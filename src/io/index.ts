/**
 * lethe's file layer: safetensors (single, sharded, ranged reads for > 2 GiB files), Hugging Face
 * model folders, JSONL, atomic writes, and float16/bfloat16 conversions. Re-exports only.
 */
export {
  type AtomicWriteOptions,
  fsyncDir,
  isAtomicTempName,
  type JsonWriteOptions,
  writeAtomic,
  writeFileAtomic,
  writeJsonAtomic,
} from './atomic.ts';
export {
  bf16BitsToF32Bits,
  bfloat16ToFloat,
  decodeBf16,
  decodeF16,
  encodeBf16,
  encodeF16,
  f16BitsToF32Bits,
  f32BitsToBf16Bits,
  f32BitsToF16Bits,
  floatToBfloat16,
  floatToHalf,
  halfToFloat,
} from './half.ts';
export {
  CONFIG_FILE,
  GENERATION_CONFIG_FILE,
  type HfFolder,
  type HfFolderContents,
  type HfWriteOptions,
  isHfFolder,
  readHfFolder,
  readJsonObjectFile,
  TOKENIZER_FILE,
  WEIGHTS_FILE,
  WEIGHTS_INDEX_FILE,
  writeHfFolder,
} from './hf-folder.ts';
export {
  appendJsonl,
  formatIssuePath,
  iterateJsonl,
  JsonlAppender,
  type JsonlReadOptions,
  type JsonlRecord,
  readJsonl,
} from './jsonl.ts';
export { parseNpy, readNpy } from './npy.ts';
export {
  type LoadedTensor,
  NODE_MAX_READ,
  type ReadOptions,
  readSafetensors,
  SafetensorsFile,
  type TensorInfo,
  type TensorLike,
  type TensorMap,
  type TensorSource,
  type WriteDType,
  type WriteOptions,
  writeSafetensors,
} from './safetensors.ts';
export { DTYPE_BITS, MAX_HEADER_BYTES, READABLE_DTYPES, type ReadableDType } from './safetensors-header.ts';
export {
  indexFileName,
  openSafetensors,
  readShardIndex,
  ShardedSafetensors,
  type ShardedWriteOptions,
  type ShardedWriteResult,
  type ShardIndex,
  shardFileName,
  writeSafetensorsSharded,
} from './sharded.ts';
