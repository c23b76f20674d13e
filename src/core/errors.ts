/**
 * Named errors of the engine. Each carries a message a person can act on; the `name` survives the trip across the
 * worker boundary (see src/worker/engineClient.ts), so the UI can react to the kind of failure.
 */

/** Every error name the engine may throw; the client rebuilds errors with these names. */
export type EngineErrorName =
  | 'ManifestError'
  | 'ModelFileError'
  | 'BackendError'
  | 'ImageDecodeError'
  | 'CancelledError'
  | 'NotLoadedError'
  | 'ProtocolError'
  | 'StorageFullError'
  | 'ModelBusyError';

abstract class EngineError extends Error {
  abstract override readonly name: EngineErrorName;
}

/** The manifest could not be fetched or one of its fields is missing or wrong. */
export class ManifestError extends EngineError {
  override readonly name = 'ManifestError';
}

/** A model file could not be downloaded, or its size or sha256 does not match the manifest. */
export class ModelFileError extends EngineError {
  override readonly name = 'ModelFileError';
}

/** No backend could run the model (session creation failed or every candidate failed the probe). */
export class BackendError extends EngineError {
  override readonly name = 'BackendError';
}

/** A file is not an image the browser can decode. */
export class ImageDecodeError extends EngineError {
  override readonly name = 'ImageDecodeError';
}

/** The user cancelled the operation. */
export class CancelledError extends EngineError {
  override readonly name = 'CancelledError';
  constructor(message = 'The operation was cancelled.') {
    super(message);
  }
}

/** A method that needs a model was called before `load` finished. */
export class NotLoadedError extends EngineError {
  override readonly name = 'NotLoadedError';
  constructor(message = 'No model is loaded yet: load a model before embedding labels or images.') {
    super(message);
  }
}

/** A message between the page and the worker did not follow src/core/protocol.ts. */
export class ProtocolError extends EngineError {
  override readonly name = 'ProtocolError';
}

/**
 * The browser refused to store more bytes (quota or disk full). Thrown before a download or import starts when the
 * storage estimate shows too little space, and when a write hits the quota; nothing else stored is removed. The byte
 * counts are lost when the error crosses the worker boundary (only name and message travel).
 */
export class StorageFullError extends EngineError {
  override readonly name = 'StorageFullError';
  constructor(
    message: string,
    /** Bytes still needed, when known. */
    readonly neededBytes: number | null = null,
    /** Bytes free (quota − usage), when known. */
    readonly freeBytes: number | null = null,
  ) {
    super(message);
  }
}

/**
 * Another download or import of the same model is running (in another tab, or already in this one): two writers
 * would tear each other's partial files, so the second one stops before writing anything.
 */
export class ModelBusyError extends EngineError {
  override readonly name = 'ModelBusyError';
}

/** The error classes by name, so an error that crossed the worker boundary can be rebuilt as the same class. */
export const ENGINE_ERRORS: Record<EngineErrorName, new (message: string) => Error> = {
  ManifestError,
  ModelFileError,
  BackendError,
  ImageDecodeError,
  CancelledError,
  NotLoadedError,
  ProtocolError,
  StorageFullError,
  ModelBusyError,
};

/** A readable message for anything thrown, including non-Error values. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  return String(error);
}
