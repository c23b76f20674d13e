/// <reference types="vite/client" />
/// <reference types="vite-plugin-pwa/react" />

interface ImportMetaEnv {
  /** Where the model picker downloads catalog models from (`<base><id>/manifest.json`); default `<app>/models/`. */
  readonly VITE_MODEL_BASE_URL?: string;
}
