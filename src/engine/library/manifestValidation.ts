/**
 * Checks a parsed manifest.json field by field and builds a typed ModelManifest from it. Every problem names the
 * field (e.g. `variants[1].imageModel.sha256`), so a broken export is easy to find.
 */
import { ManifestError } from '../../core/errors';
import type {
  Backend,
  Dtype,
  ImagePreprocess,
  ManifestFile,
  ManifestProbe,
  ManifestVariant,
  ModelManifest,
  ModelVocabulary,
  SemanticCheck,
  TextConfig,
} from '../../core/manifest';

const DTYPES: readonly Dtype[] = ['fp32', 'fp16', 'int8', 'q4'];
const BACKENDS: readonly Backend[] = ['webgpu', 'wasm'];

/** Reads fields of one JSON object, reporting problems with their full path. */
class FieldReader {
  constructor(
    private readonly value: Record<string, unknown>,
    private readonly path: string,
    private readonly fail: (path: string, problem: string) => never,
  ) {}

  static root(value: unknown, fail: (path: string, problem: string) => never): FieldReader {
    if (!isRecord(value)) fail('(root)', 'must be a JSON object');
    return new FieldReader(value, '', fail);
  }

  pathOf(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  has(key: string): boolean {
    return this.value[key] !== undefined;
  }

  raw(key: string): unknown {
    const value = this.value[key];
    if (value === undefined) this.fail(this.pathOf(key), 'is missing');
    return value;
  }

  string(key: string, { allowEmpty = false } = {}): string {
    const value = this.raw(key);
    if (typeof value !== 'string') this.fail(this.pathOf(key), 'must be a string');
    if (!allowEmpty && value.trim() === '') this.fail(this.pathOf(key), 'must not be empty');
    return value;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T {
    const value = this.raw(key);
    if (!allowed.includes(value as T)) {
      this.fail(
        this.pathOf(key),
        `must be one of ${allowed.map((a) => `'${a}'`).join(', ')} (got ${show(value)})`,
      );
    }
    return value as T;
  }

  number(key: string, check?: { min?: number; max?: number; integer?: boolean; positive?: boolean }): number {
    return checkNumber(this.raw(key), this.pathOf(key), this.fail, check);
  }

  object(key: string): FieldReader {
    const value = this.raw(key);
    if (!isRecord(value)) this.fail(this.pathOf(key), 'must be an object');
    return new FieldReader(value, this.pathOf(key), this.fail);
  }

  array(key: string, { nonEmpty = false } = {}): unknown[] {
    const value = this.raw(key);
    if (!Array.isArray(value)) this.fail(this.pathOf(key), 'must be an array');
    if (nonEmpty && value.length === 0) this.fail(this.pathOf(key), 'must not be empty');
    return value;
  }

  numbers(
    key: string,
    check?: { length?: number; integer?: boolean; min?: number; positive?: boolean },
  ): number[] {
    const values = this.array(key);
    if (check?.length !== undefined && values.length !== check.length) {
      this.fail(this.pathOf(key), `must have ${check.length} values (has ${values.length})`);
    }
    return values.map((v, i) => checkNumber(v, `${this.pathOf(key)}[${i}]`, this.fail, check));
  }

  objects(key: string, options?: { nonEmpty?: boolean }): FieldReader[] {
    return this.array(key, options).map((item, i) => {
      const path = `${this.pathOf(key)}[${i}]`;
      if (!isRecord(item)) this.fail(path, 'must be an object');
      return new FieldReader(item, path, this.fail);
    });
  }

  failAt(key: string, problem: string): never {
    return this.fail(this.pathOf(key), problem);
  }
}

/**
 * Validates `value` (parsed JSON) as a manifest. `sourceUrl` only appears in error messages.
 * @throws ManifestError naming the first bad field.
 */
export function validateManifest(value: unknown, sourceUrl: string): ModelManifest {
  const fail = (path: string, problem: string): never => {
    throw new ManifestError(`The model manifest at ${sourceUrl} is invalid: ${path} ${problem}.`);
  };
  const root = FieldReader.root(value, fail);
  const schemaVersion = root.raw('schemaVersion');
  if (schemaVersion !== 1) {
    root.failAt(
      'schemaVersion',
      `must be 1 (got ${show(schemaVersion)}); this app only reads version 1 manifests`,
    );
  }
  const embedDim = root.number('embedDim', { integer: true, positive: true });
  const text = readTextConfig(root.object('text'));
  const manifest: ModelManifest = {
    schemaVersion: 1,
    id: root.string('id'),
    name: root.string('name'),
    architecture: root.string('architecture'),
    description: root.string('description', { allowEmpty: true }),
    license: root.string('license', { allowEmpty: true }),
    source: root.string('source', { allowEmpty: true }),
    embedDim,
    logitScale: root.number('logitScale', { positive: true }),
    image: readImagePreprocess(root.object('image')),
    text,
    variants: root.objects('variants', { nonEmpty: true }).map(readVariant),
    probe: readProbe(root.object('probe'), embedDim, text.contextLength),
  };
  if (root.has('vocabulary')) manifest.vocabulary = readVocabulary(root.object('vocabulary'));
  if (root.has('metrics')) manifest.metrics = readMetrics(root.object('metrics'), root.raw('metrics'));
  if (root.has('semanticCheck')) manifest.semanticCheck = readSemanticCheck(root.object('semanticCheck'));
  return manifest;
}

function readImagePreprocess(image: FieldReader): ImagePreprocess {
  const [m0, m1, m2] = image.numbers('mean', { length: 3 }) as [number, number, number];
  const [s0, s1, s2] = image.numbers('std', { length: 3, positive: true }) as [number, number, number];
  return {
    size: image.number('size', { integer: true, positive: true }),
    mean: [m0, m1, m2],
    std: [s0, s1, s2],
    resizeMode: image.oneOf('resizeMode', ['shortest'] as const),
    interpolation: image.oneOf('interpolation', ['bicubic'] as const),
  };
}

function readTextConfig(text: FieldReader): TextConfig {
  const tokenId = { integer: true, min: 0 };
  return {
    contextLength: text.number('contextLength', { integer: true, positive: true }),
    tokenizer: readFile(text.object('tokenizer')),
    bosTokenId: text.number('bosTokenId', tokenId),
    eosTokenId: text.number('eosTokenId', tokenId),
    padTokenId: text.number('padTokenId', tokenId),
  };
}

function readVariant(variant: FieldReader): ManifestVariant {
  const backends = variant.array('backends', { nonEmpty: true }).map((b, i) => {
    if (!BACKENDS.includes(b as Backend)) {
      variant.failAt(`backends[${i}]`, `must be 'webgpu' or 'wasm' (got ${show(b)})`);
    }
    return b as Backend;
  });
  const requiredFeatures = variant.array('requiredFeatures').map((f, i) => {
    if (typeof f !== 'string' || f === '') variant.failAt(`requiredFeatures[${i}]`, 'must be a feature name');
    return f as string;
  });
  const measured = variant.object('measuredProbeCosine');
  const cosine = { min: -1.000001, max: 1.000001 };
  return {
    dtype: variant.oneOf('dtype', DTYPES),
    backends,
    requiredFeatures,
    imageModel: readFile(variant.object('imageModel')),
    textModel: readFile(variant.object('textModel')),
    minProbeCosine: variant.number('minProbeCosine', cosine),
    measuredProbeCosine: { image: measured.number('image', cosine), text: measured.number('text', cosine) },
  };
}

function readFile(file: FieldReader): ManifestFile {
  const path = file.string('path');
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) || path.startsWith('/')) {
    file.failAt('path', `must be relative to the manifest (got '${path}')`);
  }
  const sha256 = file.string('sha256');
  if (!/^[0-9a-f]{64}$/.test(sha256)) file.failAt('sha256', 'must be 64 lower-case hex characters');
  return { path, bytes: file.number('bytes', { integer: true, positive: true }), sha256 };
}

function readProbe(probe: FieldReader, embedDim: number, contextLength: number): ManifestProbe {
  const textInputIds = probe.numbers('textInputIds', { integer: true, min: 0 });
  if (textInputIds.length === 0 || textInputIds.length > contextLength) {
    probe.failAt(
      'textInputIds',
      `must have between 1 and ${contextLength} token ids (has ${textInputIds.length})`,
    );
  }
  return {
    imageFormula: probe.oneOf('imageFormula', ['eva-lens-probe-v1'] as const),
    imageEmbedding: probe.numbers('imageEmbedding', { length: embedDim }),
    textInputIds,
    textEmbedding: probe.numbers('textEmbedding', { length: embedDim }),
  };
}

function readVocabulary(vocabulary: FieldReader): ModelVocabulary {
  const words = (reader: FieldReader, key: string) =>
    reader.array(key).map((w, i) => {
      if (typeof w !== 'string' || w === '') reader.failAt(`${key}[${i}]`, 'must be a word');
      return (w as string).toLowerCase();
    });
  return {
    groups: vocabulary
      .objects('groups', { nonEmpty: true })
      .map((group) => ({ name: group.string('name'), words: words(group, 'words') })),
    otherWords: words(vocabulary, 'otherWords'),
    notFor: vocabulary.string('notFor', { allowEmpty: true }),
  };
}

function readSemanticCheck(check: FieldReader): SemanticCheck {
  const count = { integer: true, min: 0 };
  const passed = check.raw('passed');
  if (typeof passed !== 'boolean') check.failAt('passed', 'must be true or false');
  return {
    dtype: check.oneOf('dtype', DTYPES),
    correct: check.number('correct', count),
    total: check.number('total', { integer: true, positive: true }),
    minShare: check.number('minShare', { min: 0, max: 1 }),
    passed: passed as boolean,
    items: check.objects('items').map((item) => ({
      image: item.string('image'),
      expected: item.string('expected'),
      answered: item.string('answered'),
    })),
  };
}

function readMetrics(metrics: FieldReader, raw: unknown): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) {
      metrics.failAt(key, 'must be a number or a string');
    }
    out[key] = value as number | string;
  }
  return out;
}

function checkNumber(
  value: unknown,
  path: string,
  fail: (path: string, problem: string) => never,
  check: { min?: number; max?: number; integer?: boolean; positive?: boolean } = {},
): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    fail(path, `must be a finite number (got ${show(value)})`);
  const n = value as number;
  if (check.integer && !Number.isInteger(n)) fail(path, `must be an integer (got ${n})`);
  if (check.positive && !(n > 0)) fail(path, `must be greater than 0 (got ${n})`);
  if (check.min !== undefined && n < check.min) fail(path, `must be at least ${check.min} (got ${n})`);
  if (check.max !== undefined && n > check.max) fail(path, `must be at most ${check.max} (got ${n})`);
  return n;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
