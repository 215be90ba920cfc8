/**
 * Activation functions by the names Hugging Face configs use (`activation_function`,
 * `hidden_act`), each computing exactly what transformers' ACT2FN computes for that name:
 *   gelu               erf form: x·Φ(x)                          (GELUActivation)
 *   gelu_new           tanh form: ½x(1 + tanh(√(2/π)(x + 0.044715x³)))   (NewGELUActivation)
 *   gelu_pytorch_tanh  the same tanh form, as torch's gelu(approximate="tanh")
 *   gelu_fast          ½x(1 + tanh(0.7978845608·x(1 + 0.044715x²))): the tanh form with √(2/π)
 *                      rounded to 10 digits (a difference below 1e-10 relative, under float32's
 *                      resolution), so it is computed by the same kernel
 *   quick_gelu         x·σ(1.702x)
 *   relu, silu (= swish)
 * A name not in this list is refused when the config is parsed, never replaced by a neighbour.
 */
import { z } from 'zod';
import { affine, gelu, mul, relu, sigmoid, silu, type Tensor } from '../tensor/index.ts';

export const ACTIVATIONS = [
  'gelu',
  'gelu_new',
  'gelu_pytorch_tanh',
  'gelu_fast',
  'quick_gelu',
  'relu',
  'silu',
  'swish',
] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];

/** zod schema for an activation name with a default, for the model config schemas. */
export const activationSchema = (fallback: ActivationName) => z.enum(ACTIVATIONS).default(fallback);

/** Apply the named activation elementwise. */
export function activate(name: ActivationName, x: Tensor): Tensor {
  switch (name) {
    case 'gelu':
      return gelu(x, 'none');
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return gelu(x, 'tanh');
    case 'quick_gelu':
      return mul(x, sigmoid(affine(x, 1.702)));
    case 'relu':
      return relu(x);
    case 'silu':
    case 'swish':
      return silu(x);
  }
}
