/**
 * An in-memory "server" holding a complete tiny model (manifest, tokenizer placeholder, ONNX files of two variants)
 * for engine tests, plus a fake tokenizer and a fake image decoder that work in Node.
 */
import type { ManifestFile, ModelManifest } from '../core/manifest';
import { sha256Hex, type FetchLike } from '../engine/library/manifestLoader';
import { probePixelValues } from '../engine/inference/probe';
import type { EncodedBatch } from '../engine/text/tokenizer';
import type { PromptTokenizer } from '../engine/text/textEmbedder';
import { ImageDecodeError } from '../core/errors';
import type { DecodedImage } from '../engine/image/decode';
import type { RgbaImage } from '../engine/image/rgbImage';
import {
  expectedImageEmbedding,
  expectedTextEmbedding,
  tinyClipWeights,
  tinyImageModel,
  tinyTextModel,
  type TinyClipWeights,
} from './tinyClip';

export const TINY = { size: 8, dim: 6, vocab: 64, contextLength: 8 };
export const BOS = TINY.vocab - 2;
export const EOS = TINY.vocab - 1; // the largest id, as in CLIP, so argmax pooling finds it
export const MODEL_URL = 'https://models.test/tiny/manifest.json';

/** Words → ids 1…vocab−3 by a fixed hash; BOS … EOS, cut to the context with EOS last. */
export class FakeTokenizer implements PromptTokenizer {
  encode(text: string): { ids: number[]; truncated: boolean } {
    const words = text.toLowerCase().split(/\s+/).filter(Boolean);
    const ids = [
      BOS,
      ...words.map((w) => 1 + ([...w].reduce((h, c) => h * 31 + c.charCodeAt(0), 7) % (TINY.vocab - 3))),
      EOS,
    ];
    if (ids.length <= TINY.contextLength) return { ids, truncated: false };
    const cut = ids.slice(0, TINY.contextLength);
    cut[TINY.contextLength - 1] = EOS;
    return { ids: cut, truncated: true };
  }

  encodeBatch(texts: readonly string[]): EncodedBatch {
    return this.pack(texts.map((t) => this.encode(t)));
  }

  pack(encoded: readonly { ids: number[]; truncated: boolean }[]): EncodedBatch {
    const seqLen = Math.max(...encoded.map((e) => e.ids.length));
    const inputIds = new BigInt64Array(encoded.length * seqLen);
    encoded.forEach((e, row) => e.ids.forEach((id, col) => (inputIds[row * seqLen + col] = BigInt(id))));
    return { inputIds, batch: encoded.length, seqLen, truncated: encoded.map((e) => e.truncated) };
  }
}

/** A raw-pixel "image file" the fake decoder understands: 'RGBA', width, height (uint32 LE), then the bytes. */
export function rawImageBlob(image: RgbaImage): Blob {
  const header = new Uint8Array(12);
  header.set([82, 71, 66, 65]);
  new DataView(header.buffer).setUint32(4, image.width, true);
  new DataView(header.buffer).setUint32(8, image.height, true);
  return new Blob([header, new Uint8Array(image.data)], { type: 'image/x-raw-rgba' });
}

export async function fakeDecodeImage(file: Blob, name: string): Promise<DecodedImage> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== 'RGBA')
    throw new ImageDecodeError(`${name} could not be read as an image.`);
  const view = new DataView(bytes.buffer);
  const width = view.getUint32(4, true);
  const height = view.getUint32(8, true);
  const pixels = { data: bytes.slice(12), width, height };
  return { pixels, width, height, thumbnail: new Blob(['thumb'], { type: 'image/webp' }) };
}

/** A test image with a smooth pattern. */
export function patternImage(width: number, height: number, seed: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data.set([(i * seed) % 256, (i * 7 + seed * 13) % 256, (i * 3 + 50) % 256, 255], i * 4);
  }
  return { data, width, height };
}

export interface TinyModelServer {
  manifest: ModelManifest;
  good: TinyClipWeights;
  fetch: FetchLike;
  requested: string[];
  files: Map<string, Uint8Array>;
}

async function entry(files: Map<string, Uint8Array>, path: string, bytes: Uint8Array): Promise<ManifestFile> {
  files.set(new URL(path, MODEL_URL).href, bytes);
  return { path, bytes: bytes.length, sha256: await sha256Hex(bytes) };
}

/**
 * Two variants: 'int8' (listed first, WASM) carries weights unrelated to the probe, so it must fail the probe;
 * 'fp32' carries the weights the probe embeddings were computed from.
 */
export async function tinyModelServer(): Promise<TinyModelServer> {
  const good = tinyClipWeights(TINY.size, TINY.dim, TINY.vocab, 42);
  const wrong = tinyClipWeights(TINY.size, TINY.dim, TINY.vocab, 7);
  const files = new Map<string, Uint8Array>();
  const probeIds = [BOS, 5, 9, EOS];
  const variant = async (dtype: 'int8' | 'fp32', weights: TinyClipWeights) => ({
    dtype,
    backends: ['wasm' as const],
    requiredFeatures: [],
    imageModel: await entry(files, `image.${dtype}.onnx`, tinyImageModel(weights)),
    textModel: await entry(files, `text.${dtype}.onnx`, tinyTextModel(weights)),
    minProbeCosine: 0.999,
    measuredProbeCosine: { image: 1, text: 1 },
  });
  const manifest: ModelManifest = {
    schemaVersion: 1,
    id: 'tiny-test',
    name: 'Tiny test model',
    architecture: 'tiny',
    description: '',
    license: 'MIT',
    source: 'src/test/tinyModelServer.ts',
    embedDim: TINY.dim,
    logitScale: 100,
    image: {
      size: TINY.size,
      mean: [0.5, 0.4, 0.3],
      std: [0.2, 0.25, 0.3],
      resizeMode: 'shortest',
      interpolation: 'bicubic',
    },
    text: {
      contextLength: TINY.contextLength,
      tokenizer: await entry(files, 'tokenizer.json', new TextEncoder().encode('{"model":{"type":"fake"}}')),
      bosTokenId: BOS,
      eosTokenId: EOS,
      padTokenId: 0,
    },
    variants: [await variant('int8', wrong), await variant('fp32', good)],
    probe: {
      imageFormula: 'eva-lens-probe-v1',
      imageEmbedding: Array.from(expectedImageEmbedding(good, probePixelValues(TINY.size))),
      textInputIds: probeIds,
      textEmbedding: Array.from(expectedTextEmbedding(good, probeIds)),
    },
  };
  files.set(MODEL_URL, new TextEncoder().encode(JSON.stringify(manifest)));
  const requested: string[] = [];
  const fetchFn: FetchLike = async (url) => {
    requested.push(url);
    const body = files.get(url);
    return body ? new Response(body.slice()) : new Response('not found', { status: 404 });
  };
  return { manifest, good, fetch: fetchFn, requested, files };
}
