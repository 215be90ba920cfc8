/**
 * Transformer parity against PyTorch: the tiny GPT-2 and Llama of test/fixtures/engine/ built from
 * lethe tensor ops (test/engine/tiny-transformers.ts) must reproduce torch's logits, mean
 * cross-entropy loss and the gradient of that loss for every parameter.
 *
 * Tolerances (the reference is torch in float64, rounded to float32; lethe runs in float32):
 *   logits: max abs error ≤ 1e-5 · max |logit|
 *   loss:   relative error ≤ 1e-5
 *   grads:  max abs error ≤ 1e-4 · max |grad| of that parameter, per parameter
 * torch's own float32 run lands at ~3e-7 (logits), ~1e-7 (loss) and ~1e-6 (worst grad) of the
 * same reference (recorded in each fixture's torch_f32_error), so these allow a float32 engine
 * with any summation order ~30-100x torch's error, while a wrong formula is off by ~1e-2 or more.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { crossEntropy, IGNORE_INDEX, type Tensor } from '../../src/tensor/index.ts';
import { assertRelClose, backendName, decode, type EncodedTensor, readFixture } from './fixtures.ts';
import { gpt2Forward, llamaForward, type Params } from './tiny-transformers.ts';

const TOL = { logits: 1e-5, loss: 1e-5, grads: 1e-4 };

interface ModelFixture<C> {
  config: C & { vocab_size: number; batch: number; seq: number };
  inputs: { ids: EncodedTensor; targets: EncodedTensor };
  params: Record<string, EncodedTensor>;
  expected: { logits: EncodedTensor; loss: number; grads: Record<string, EncodedTensor> };
  torch_f32_error: { logits: number; loss: number; grads_max: number };
}

function checkModel<C>(
  t: TestContext,
  file: string,
  forward: (p: Params, cfg: C, ids: Tensor) => Tensor,
): void {
  const fx = readFixture<ModelFixture<C>>(file);
  const params: Params = {};
  for (const [name, t] of Object.entries(fx.params)) params[name] = decode(t, true);
  const ids = decode(fx.inputs.ids);
  const targets = decode(fx.inputs.targets);

  const logits = forward(params, fx.config, ids); // (B, T, V)
  const loss = crossEntropy(logits, targets, { ignoreIndex: IGNORE_INDEX });
  loss.backward();

  const errLogits = assertRelClose(logits, decode(fx.expected.logits), TOL.logits, `${file} logits`);
  const errLoss = Math.abs(loss.item() - fx.expected.loss) / Math.abs(fx.expected.loss);
  assert.ok(
    errLoss <= TOL.loss,
    `${file} loss: got ${loss.item()}, expected ${fx.expected.loss} (rel err ${errLoss})`,
  );

  // Every parameter of the fixture has a gradient, and every gradient is checked.
  assert.deepEqual(
    Object.keys(params).sort(),
    Object.keys(fx.expected.grads).sort(),
    `${file}: parameter names`,
  );
  let worstGrad = 0;
  let worstName = '';
  for (const [name, p] of Object.entries(params)) {
    assert.ok(p.grad, `${file}: ${name} received no gradient`);
    const err = assertRelClose(p.grad, decode(fx.expected.grads[name]), TOL.grads, `${file} grad ${name}`);
    if (err >= worstGrad) {
      worstGrad = err;
      worstName = name;
    }
  }
  t.diagnostic(
    `${file} [${backendName()}]: logits ${errLogits.toExponential(2)} (tol ${TOL.logits}), ` +
      `loss ${errLoss.toExponential(2)} (tol ${TOL.loss}), worst grad ${worstGrad.toExponential(2)} ` +
      `(${worstName}, tol ${TOL.grads}); torch f32: ${fx.torch_f32_error.logits.toExponential(2)} / ` +
      `${fx.torch_f32_error.loss.toExponential(2)} / ${fx.torch_f32_error.grads_max.toExponential(2)}`,
  );
}

test(`gpt2-tiny: logits, loss and every parameter gradient match PyTorch [${backendName()}]`, (t) => {
  checkModel(t, 'gpt2-tiny.json', gpt2Forward);
});

test(`llama-tiny: logits, loss and every parameter gradient match PyTorch [${backendName()}]`, (t) => {
  checkModel(t, 'llama-tiny.json', llamaForward);
});
