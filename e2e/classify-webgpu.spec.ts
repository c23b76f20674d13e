/**
 * The demo model on WebGPU, chosen with the backend select. Without a GPU this is Chromium's SwiftShader adapter:
 * software, far slower than WASM and without shader-f16, which is why 'auto' never picks it. If WebGPU cannot run
 * a variant, the model load fails and so does this test, with the engine's own message.
 */
import { classifySamples, expectEmbeddingParity, expectTop1Parity, recordRun } from './support/classifyFlow';
import { expect, saveScreen, snapshot, test, waitForModel } from './support/lens';
import { reference } from './support/reference';

test.describe('classification on WebGPU (chosen explicitly)', () => {
  // SwiftShader compiles every WGSL kernel on the CPU; model load and 24 images take minutes on 2 cores.
  test.setTimeout(600_000);

  test('the samples on WebGPU get the reference top-1 and embeddings', async ({ page }) => {
    await page.goto('/');
    await waitForModel(page);
    const hasAdapter = await page.evaluate(async () => !!(await navigator.gpu?.requestAdapter()));
    expect(hasAdapter, 'Chromium offers no WebGPU adapter (is --enable-unsafe-webgpu set?)').toBe(true);

    await page.getByTestId('backend-select').selectOption('webgpu');
    await expect
      .poll(
        async () => {
          const state = await snapshot(page);
          if (state.modelStatus === 'error') return `error: ${state.modelError}`;
          return state.modelStatus === 'ready' ? state.model?.backend : state.modelStatus;
        },
        { timeout: 300_000, message: 'backend after choosing WebGPU' },
      )
      .toBe('webgpu');
    await waitForModel(page);
    await expect(page.getByTestId('status-backend')).toContainText('WebGPU');

    const run = await classifySamples(page, { labelsVia: 'paste' });
    expect(run.backend, 'the backend that ran the images').toBe('webgpu');
    const accuracy = expectTop1Parity(run);
    const cosines = expectEmbeddingParity(run);
    await saveScreen(page, '05-results-webgpu');
    await recordRun(page, run, {
      sampleAccuracy: accuracy,
      referenceAccuracy: reference.onnx[run.dtype]?.accuracy,
      ...cosines,
    });
  });
});
