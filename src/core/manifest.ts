/**
 * The model manifest: everything the engine knows about a model comes from this JSON file, written by
 * `models/eva_lens/manifest.py` next to the ONNX files. No model constant lives in engine code.
 */

/** Numeric formats a tower can be exported in; each maps to a kernel family in onnxruntime-web. */
export type Dtype = 'fp32' | 'fp16' | 'int8' | 'q4';

/** Execution providers we run on. */
export type Backend = 'webgpu' | 'wasm';

/** One file of a model, checked by size and sha256 before it is used or stored. */
export interface ManifestFile {
  /** Path relative to the manifest's own URL. */
  path: string;
  bytes: number;
  sha256: string;
}

/** One runnable build of the model: an image and a text graph of the same dtype. */
export interface ManifestVariant {
  dtype: Dtype;
  /** Backends this variant is meant for, best first (e.g. int8 → wasm; q4/fp16 → webgpu). */
  backends: Backend[];
  /** WebGPU features the variant needs (fp16 needs 'shader-f16'). */
  requiredFeatures: string[];
  imageModel: ManifestFile;
  textModel: ManifestFile;
  /** Lowest cosine to the fp32 PyTorch probe embeddings that counts as a working backend. */
  minProbeCosine: number;
  /** Cosine to fp32 PyTorch measured by the toolchain on the probe (for display and reports). */
  measuredProbeCosine: { image: number; text: number };
}

export interface ImagePreprocess {
  /** Square input side in pixels (224 for B/16). */
  size: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** 'shortest': scale the shortest side to `size`, keep aspect, then centre-crop (torchvision Resize+CenterCrop). */
  resizeMode: 'shortest';
  /** PIL resampling filter used by the reference implementation. */
  interpolation: 'bicubic';
}

export interface TextConfig {
  contextLength: number;
  /** Hugging Face tokenizer.json, relative to the manifest. */
  tokenizer: ManifestFile;
  bosTokenId: number;
  eosTokenId: number;
  padTokenId: number;
}

/**
 * A fixed input and the fp32 PyTorch embedding for it. The engine runs it once per session and compares, so a
 * backend whose kernels give wrong numbers is caught before any user image is classified.
 */
export interface ManifestProbe {
  /** The probe image is generated, not stored: pixel (c, y, x) = probePixel(c, y, x) (see probe.ts). */
  imageFormula: 'eva-lens-probe-v1';
  imageEmbedding: number[];
  /** Token ids (BOS … EOS), unpadded, one prompt. */
  textInputIds: number[];
  textEmbedding: number[];
}

/**
 * The closed set of words a model trained on synthetic captions knows (the demo model: 8 colours, 6 shapes). Written
 * by the toolchain from its training data; absent for CLIP models trained on open text.
 */
export interface ModelVocabulary {
  /** The kinds of thing it tells apart, e.g. { name: 'colours', words: ['red', …] }. */
  groups: { name: string; words: string[] }[];
  /** The other words of its training captions ('a', 'photo', 'of'…), which name nothing by themselves. */
  otherWords: string[];
  /** What a person might expect of it that it cannot do, e.g. 'photos'. */
  notFor: string;
}

export interface ModelManifest {
  schemaVersion: 1;
  /** Stable id, e.g. 'eva02-clip-b16-224' or 'eva-lens-demo-shapes'. */
  id: string;
  name: string;
  /** Architecture config name from models/eva_lens/configs (e.g. 'EVA02-CLIP-B-16'). */
  architecture: string;
  description: string;
  license: string;
  source: string;
  /** Present only for a model with a closed vocabulary (see ModelVocabulary). */
  vocabulary?: ModelVocabulary;
  embedDim: number;
  /** exp(learned logit_scale): the multiplier applied to cosines before softmax. */
  logitScale: number;
  image: ImagePreprocess;
  text: TextConfig;
  variants: ManifestVariant[];
  probe: ManifestProbe;
  /** Free-form facts for the model picker (published zero-shot accuracy, training report…). */
  metrics?: Record<string, number | string>;
  /** A model built in the browser from hub weights: its answers on simple drawn test images. */
  semanticCheck?: SemanticCheck;
}

/**
 * The built model named the colours, shapes and printed words of a few drawn images (src/engine/hub/semanticCheck.ts).
 * A checkpoint the recipe has no record of passes the int8/q4 agreement even with a tensor laid out wrongly; this
 * is what catches it. A model that fails is still stored, with a warning on its row.
 */
export interface SemanticCheck {
  /** The variant that was checked (the build's reference dtype). */
  dtype: Dtype;
  correct: number;
  total: number;
  /** Share of right answers needed to pass. */
  minShare: number;
  passed: boolean;
  /** One entry per test image: what it shows, the prompt that describes it and the prompt the model chose. */
  items: { image: string; expected: string; answered: string }[];
}
