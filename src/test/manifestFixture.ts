/** A valid manifest for tests; pass overrides to break one field at a time. */
import type { ManifestFile, ModelManifest } from '../core/manifest';

export function fakeFile(path: string, bytes = 10, sha256 = 'a'.repeat(64)): ManifestFile {
  return { path, bytes, sha256 };
}

export function makeManifest(embedDim = 4): ModelManifest {
  return {
    schemaVersion: 1,
    id: 'test-model',
    name: 'Test model',
    architecture: 'EVA-Lens-demo',
    description: 'A manifest for unit tests.',
    license: 'MIT',
    source: 'unit test',
    embedDim,
    logitScale: 100,
    image: {
      size: 8,
      mean: [0.48145466, 0.4578275, 0.40821073],
      std: [0.26862954, 0.26130258, 0.27577711],
      resizeMode: 'shortest',
      interpolation: 'bicubic',
    },
    text: {
      contextLength: 8,
      tokenizer: fakeFile('tokenizer.json'),
      bosTokenId: 49406,
      eosTokenId: 49407,
      padTokenId: 0,
    },
    variants: [
      {
        dtype: 'fp32',
        backends: ['wasm', 'webgpu'],
        requiredFeatures: [],
        imageModel: fakeFile('image.fp32.onnx'),
        textModel: fakeFile('text.fp32.onnx'),
        minProbeCosine: 0.99,
        measuredProbeCosine: { image: 1, text: 1 },
      },
    ],
    probe: {
      imageFormula: 'eva-lens-probe-v1',
      imageEmbedding: Array.from({ length: embedDim }, (_, i) => i + 1),
      textInputIds: [49406, 320, 49407],
      textEmbedding: Array.from({ length: embedDim }, (_, i) => embedDim - i),
    },
    metrics: { zeroShotTop1: 0.5, note: 'synthetic' },
  };
}
