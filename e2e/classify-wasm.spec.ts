/**
 * The demo model on the backend 'auto' picks here (WASM: the only WebGPU adapter is SwiftShader, which the engine
 * skips on 'auto'), checked against the toolchain's PyTorch and ONNX references.
 */
import { classifySamples, expectEmbeddingParity, expectTop1Parity, recordRun } from './support/classifyFlow';
import { expect, test, waitForModel } from './support/lens';
import { reference } from './support/reference';
import { recordMeasurement } from './support/timings';

test.describe('classification on WASM (auto)', () => {
  test.beforeEach(async ({ page }) => {
    await page.goto('/');
    const state = await waitForModel(page);
    expect(state.model?.backend, 'auto must fall back to WASM on a software-only WebGPU adapter').toBe(
      'wasm',
    );
    await expect(page.getByTestId('status-backend')).toContainText('WASM');
  });

  test('dropped samples get the reference top-1 and the reference accuracy', async ({ page }) => {
    const run = await classifySamples(page, { labelsVia: 'type' });
    expect(run.backend).toBe('wasm');
    const accuracy = expectTop1Parity(run);
    await recordRun(page, run, {
      sampleAccuracy: accuracy,
      referenceAccuracy: reference.onnx[run.dtype]?.accuracy,
    });
  });

  test('image and label embeddings match PyTorch', async ({ page }) => {
    const run = await classifySamples(page, { labelsVia: 'paste' });
    const cosines = expectEmbeddingParity(run);
    recordMeasurement(`parity-${run.backend}`, {
      dtype: run.dtype,
      ...cosines,
      toolchainMinImageCosine: reference.onnx[run.dtype]?.minImageCosine,
      toolchainMinTextCosine: reference.onnx[run.dtype]?.minTextCosine,
    });
  });
});
