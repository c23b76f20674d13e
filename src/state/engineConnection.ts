/**
 * The one EngineClient of the page, created on first use, and the settings the bridge runs with. Tests replace
 * the client factory, the scheduler and the clock with `configureEngineBridge`.
 */
import { EngineClient } from '../worker/engineClient';
import type { BackendChangedEvent, LoadProgressEvent } from '../worker/protocol';
import { frameScheduler, type Scheduler } from './frameBatcher';
import { useLensStore } from './store';

/** What the bridge uses of the worker client; a fake with these methods drives the bridge in tests. */
export type LensEngine = Pick<
  EngineClient,
  | 'loadModel'
  | 'embedLabels'
  | 'embedLabelSet'
  | 'embedImages'
  | 'onEvent'
  | 'dispose'
  | 'listStoredModels'
  | 'downloadModel'
  | 'importModel'
  | 'buildModelFromHub'
  | 'deleteStoredModel'
  | 'embeddingCacheInfo'
  | 'clearEmbeddingCache'
  | 'forgetEverything'
  | 'simulateGpuLoss'
>;

export interface BridgeConfig {
  createEngine: () => LensEngine;
  schedule: Scheduler;
  now: () => number;
  /** Quiet time after the last label edit before the labels are embedded again. */
  labelDebounceMs: number;
  fetch: typeof fetch;
  /** Folder the app is served from (Vite's BASE_URL), ending in '/'. */
  baseUrl: string;
}

const defaultConfig: BridgeConfig = {
  createEngine: () => EngineClient.create(),
  schedule: frameScheduler,
  now: () => performance.now(),
  labelDebounceMs: 250,
  fetch: (...args) => fetch(...args),
  baseUrl: import.meta.env.BASE_URL,
};

export const bridgeConfig: BridgeConfig = { ...defaultConfig };

let backendChangeListener: () => void = () => undefined;

/** What to do when the backend changes after the model was ready (engineBridge re-embeds the labels). */
export function setBackendChangeListener(listener: () => void): void {
  backendChangeListener = listener;
}

let engine: LensEngine | null = null;
let stopListening: (() => void) | null = null;

function handleEngineEvent(event: LoadProgressEvent | BackendChangedEvent): void {
  const store = useLensStore.getState();
  if (event.type === 'loadProgress') {
    const { stage, file, loaded, total } = event;
    store.setLoadProgress({ stage, file, loaded, total });
  } else {
    const wasReady = store.modelStatus === 'ready';
    store.recordBackendChange(event);
    // After a change mid-session (the GPU lost) the labels are embedded again by the tower now in use.
    if (wasReady) {
      store.pushNotice(event.reason);
      backendChangeListener();
    }
  }
}

export function getEngine(): LensEngine {
  if (!engine) {
    engine = bridgeConfig.createEngine();
    stopListening = engine.onEvent(handleEngineEvent);
  }
  return engine;
}

/** Terminates the worker; the next call to getEngine starts a new one. */
export function disposeEngine(): void {
  stopListening?.();
  engine?.dispose();
  stopListening = null;
  engine = null;
}

/** Overrides bridge settings (tests); `resetBridgeConfig` restores the defaults. */
export function configureBridge(overrides: Partial<BridgeConfig>): void {
  Object.assign(bridgeConfig, overrides);
}

export function resetBridgeConfig(): void {
  Object.assign(bridgeConfig, defaultConfig);
}
